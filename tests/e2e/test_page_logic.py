"""Unit tests of web/static/js/logic.js (the page's pure functions), run in Chromium as an ES module."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page
from rollout_console.inputs.pedal import decide
from rollout_console.protocol.phases import Phase

from helpers import cli_server
from page_flags import PAGE_FLAGS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def url():
    with cli_server(*PAGE_FLAGS, "--server.exit_when_stopped=false") as (address, _):
        yield address


def _run(page: Page, url: str, body: str):
    page.goto(url + "/static/js/logic.js")
    return page.evaluate(f"async () => {{ const L = await import('/static/js/logic.js'); {body} }}")


def test_hotkeys_send_what_the_pedal_sends_in_every_phase(page: Page, url: str) -> None:
    """The page resolves its toggle keys with the table the server publishes; the pedal uses the same one."""
    toggles = httpx.get(url + "/api/v1/commands", timeout=30).json()["toggles"]
    phases = [phase.value for phase in Phase]
    page.goto(url + "/static/js/logic.js")
    result = page.evaluate("""async ([toggles, phases]) => {
        const L = await import('/static/js/logic.js');
        const out = {};
        for (const action of Object.keys(toggles)) out[action] = phases.map((p) => L.toggleStep(toggles, action, p));
        out.labels = L.toggleLabels(toggles, ['pause', 'resume', 'upload']);
        return out; }""", [toggles, phases])
    assert set(result) - {"labels"} == {"pause_resume", "takeover_handback", "upload"}
    for action in ("pause_resume", "takeover_handback", "upload"):
        for phase, step in zip(phases, result[action], strict=True):
            pedal = decide(action, phase)
            page_says = (step["command"], step["args"]) if step else (None, {})
            assert page_says == (pedal.command, pedal.args or {}), (action, phase)
    # Space clears an estop (reset -> paused, holding); only a second press resumes
    assert result["pause_resume"][phases.index("estopped")] == {"command": "reset", "args": {}}
    assert result["takeover_handback"][phases.index("estopped")] is None
    assert result["labels"] == {"pause_resume": "Pause / resume", "upload": "Upload"}  # no takeover: no T key


def test_teleop_sends_the_last_throttled_leader_target(page: Page, url: str) -> None:
    """Slider moves inside one throttle window: the last target goes out (trailing edge), joints merged."""
    page.goto(url + "/static/js/logic.js")
    first = page.evaluate("""async () => {
        const { TeleopPanel } = await import('/static/js/teleop-panel.js');
        let now = 1000;  // a frozen clock: every move below falls inside the first throttle window
        Object.defineProperty(performance, 'now', { value: () => now, configurable: true });
        const root = document.createElement('div');
        root.innerHTML = '<input type="range" min="-100" max="100" data-leader-joint="a">'
                       + '<input type="range" min="-100" max="100" data-leader-joint="b">';
        document.body.append(root);
        const controller = new EventTarget();
        controller.live = true;
        window.sent = [];
        controller.socket = { readyState: WebSocket.OPEN, send: (text) => window.sent.push(JSON.parse(text)) };
        TeleopPanel(root, controller);
        const [a, b] = root.querySelectorAll('input');
        for (const [slider, value] of [[a, 10], [a, 20], [b, 5]]) {
            slider.value = String(value);
            slider.dispatchEvent(new Event('input'));
        }
        return window.sent.slice(); }""")
    assert first == [{"type": "teleop", "joints": {"a": 10}}]  # the leading edge goes at once
    page.wait_for_function("window.sent.length >= 2", timeout=10_000)
    sent = page.evaluate("window.sent")
    assert sent[-1] == {"type": "teleop", "joints": {"a": 20, "b": 5}} and len(sent) == 2


def test_a_camera_drag_counts_only_on_the_picture(page: Page, url: str) -> None:
    """The camera may be letterboxed: the fraction is of the drawn picture, a touch beside it is none."""
    page.goto(url + "/static/js/logic.js")
    result = page.evaluate("""async () => {
        const { pictureFraction } = await import('/static/js/teleop-panel.js');
        const box = { left: 0, top: 0, width: 400, height: 200 };  // a 4:3 picture is 266.7 wide, centred
        return [pictureFraction(box, 640, 480, 200, 100), pictureFraction(box, 640, 480, 66.67, 0),
                pictureFraction(box, 640, 480, 10, 100), pictureFraction(box, 640, 480, 333.3, 200)]; }""")
    centre, corner, beside, far = result
    assert centre == {"u": 0.5, "v": 0.5}
    assert abs(corner["u"]) < 1e-3 and corner["v"] == 0
    assert beside is None
    assert abs(far["u"] - 1) < 1e-3 and far["v"] == 1


def test_keymap_defaults_remaps_and_lookup(page: Page, url: str) -> None:
    result = _run(page, url, """
        const store = new Map();
        const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
        const defaults = L.loadKeymap(storage);
        storage.setItem('rcKeymap', JSON.stringify({ pause_resume: 'KeyP' }));
        const remapped = L.loadKeymap(storage);
        storage.setItem('rcKeymap', '{broken');
        const broken = L.loadKeymap(storage);
        // a map stored by an older page (its "Defaults" button saved Tab and Enter): Tab is dropped
        storage.setItem('rcKeymap', JSON.stringify({ takeover_handback: 'Tab', upload: 'Enter', bogus: 'KeyZ' }));
        const old = L.loadKeymap(storage);
        return { defaults, remapped, broken, old, space: L.actionForKey(defaults, 'Space'),
                 p: L.actionForKey(remapped, 'KeyP'), none: L.actionForKey(remapped, 'Space') };""")
    assert result["defaults"] == {"pause_resume": "Space", "takeover_handback": "KeyT", "upload": "KeyU",
                                  "stop": "Escape", "save": "KeyS", "save_success": "Digit1",
                                  "save_failure": "Digit2", "save_unknown": "Digit3", "discard": "KeyD",
                                  "mark": "KeyM", "end_episode": "KeyE", "end_reset": "KeyN"}
    assert len(set(result["defaults"].values())) == len(result["defaults"])  # no key does two things
    assert not {"Tab", "Enter", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"} & set(result["defaults"].values())
    assert result["remapped"]["pause_resume"] == "KeyP" and result["remapped"]["upload"] == "KeyU"
    assert result["broken"] == result["defaults"]
    assert result["old"] == {**result["defaults"], "upload": "Enter"}
    assert (result["space"], result["p"], result["none"]) == ("pause_resume", "pause_resume", None)


def test_hotkeys_never_take_keys_that_focused_controls_own(page: Page, url: str) -> None:
    result = _run(page, url, """
        const make = (html) => { const box = document.createElement('div'); box.innerHTML = html;
                                 document.body.append(box); return box.firstElementChild; };
        const targets = { body: document.body, button: make('<button>b</button>'), link: make('<a href="/x">a</a>'),
                          anchor: make('<a>not a link</a>'), input: make('<input>'), select: make('<select></select>'),
                          role: make('<div role="button" tabindex="0">r</div>'), div: make('<div>d</div>') };
        const ev = (code, target, extra = {}) => ({ code, target, ctrlKey: false, metaKey: false, altKey: false, ...extra });
        const out = {};
        for (const [name, target] of Object.entries(targets)) {
            out[name] = Object.fromEntries(['Space', 'Enter', 'Tab', 'ArrowLeft', 'KeyT', 'Escape']
                .map((code) => [code, L.hotkeyBlocked(ev(code, target))]));
        }
        out.ctrl = L.hotkeyBlocked(ev('KeyT', document.body, { ctrlKey: true }));
        out.seen = [L.lastSeenText(null, 5000), L.lastSeenText(1000, 13900), L.lastSeenText(0, 600000)];
        out.labels = ['KeyT', 'Digit3', 'Escape', 'Space', 'F2'].map(L.keyLabel);
        return out;""")
    for name in ("body", "div", "anchor"):  # nothing focused that owns keys: every hotkey but Tab works
        assert result[name] == {"Space": None, "Enter": None, "Tab": "focus navigation", "ArrowLeft": None,
                                "KeyT": None, "Escape": None}, name
    for name in ("button", "link", "role"):  # the focused control owns Space, Enter, Tab and the arrows
        assert all(result[name][code] for code in ("Space", "Enter", "Tab", "ArrowLeft")), name
        assert result[name]["KeyT"] is None and result[name]["Escape"] is None, name
    for name in ("input", "select"):  # typing: nothing is a hotkey
        assert all(result[name].values()), name
    assert result["ctrl"] == "modifier"
    assert result["seen"] == ["", "last seen 12 s ago", "last seen 10 min ago"]
    assert result["labels"] == ["T", "3", "Esc", "Space", "F2"]


def test_camera_packet_header_and_event_lines(page: Page, url: str) -> None:
    result = _run(page, url, """
        const buffer = new ArrayBuffer(20);
        const view = new DataView(buffer);
        'RCJ1'.split('').forEach((c, i) => view.setUint8(i, c.charCodeAt(0)));
        view.setUint32(4, 4242, true);
        view.setFloat64(8, 1795230000.25, true);
        const packet = L.parsePacket(buffer);
        let bad = null;
        try { L.parsePacket(new ArrayBuffer(20)); } catch (e) { bad = e.message; }
        const T = await import('/static/js/event-timeline.js');  // the timeline's sentences (test_page_words.py)
        return { seq: packet.seq, at: packet.capturedAt, jpeg: packet.jpeg.byteLength, bad,
                 phase: T.describeEvent({ kind: 'phase_changed', data: { previous: 'autonomous', phase: 'paused',
                                                                         cause: 'pause', source: 'pedal' } }),
                 refused: T.describeEvent({ kind: 'command', data: { name: 'takeover', accepted: false,
                                                                     detail: 'not now', source: 'ws' } }),
                 fmt: [L.fmt(null), L.fmt(1.234, 2), L.fmt(NaN)] };""")
    assert (result["seq"], result["at"], result["jpeg"]) == (4242, 1795230000.25, 4)
    assert "magic" in result["bad"]
    assert result["phase"] == "Paused · by the foot pedal"
    assert result["refused"] == "Take over refused from a script: not now"
    assert result["fmt"] == ["–", "1.23", "–"]
