"""The page in words: the event timeline's sentences (one for every kind the server publishes), its filter and
raw JSON, client names and Control-panel messages as pure functions, and the mission strip against the status
of a recording sentry session on the sim."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from helpers import cli_server, dataset_flags, wait_until
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, Page, expect
from rollout_console.protocol.events import EVENT_KINDS

pytestmark = pytest.mark.e2e

PHASE = '[data-testid="phase"]'
EVENTS = '[data-testid="events"]'

# One realistic event per kind (the data the server publishes, see docs/api.md) and the sentence it reads as.
SAMPLES: dict[str, tuple[dict, str]] = {
    "session_started": ({"strategy": "sentry", "fps": 30.0, "session_id": "s1"},
                        "Session started: sentry strategy at 30 fps"),
    "session_stopped": ({"phase": "stopped", "session_id": "s1", "cause": "estop"}, "Session ended: after an E-STOP"),
    "server_idle": ({"last_session_id": "s1", "cause": "stopped", "server_id": "x"},
                    "No session running (the last one ended: stopped by the operator); start a new one"),
    "phase_changed": ({"previous": "autonomous", "phase": "paused",
                       "cause": "paused: Tablet by the arm lost control: no heartbeat for 1.62 s (timeout 1.5 s); "
                                "resume when ready", "source": "session", "automatic": True},
                      "Paused by lease lapse (tab 'Tablet by the arm')"),
    "command": ({"name": "save", "accepted": True, "detail": "episode 4 saved (150 frames)", "source": "pedal",
                 "phase": "paused", "latency_ms": 212.3},
                "Save done by the foot pedal · Episode 4 saved (150 frames) · 212 ms"),
    "notice": ({"level": "warning", "message": "paused: camera front stale for 600 ms"},
               "Paused: camera front stale for 600 ms"),
    "error": ({"message": "robot disconnected"}, "Error: robot disconnected"),
    "lease": ({"seq": 3, "kind": "forced", "previous": {"label": "iPad · Safari"}, "holder": {"label": "Desk"},
               "detail": "Desk took control from iPad · Safari (forced)", "pause": True},
              "Desk took control from iPad · Safari (forced)"),
    "pedal": ({"state": "permission_denied", "message": "cannot read /dev/input/event3",
               "fix": "add yourself to the input group"},
              "Foot pedal permission denied · Cannot read /dev/input/event3 · Fix: add yourself to the input group"),
    "episode_started": ({"index": 4, "task": "Put the cube in the bowl", "prefix_frames": 0}, "Recording episode 4"),
    "episode_saved": ({"index": 4, "length": 150, "duration_s": 5.0, "task": "t", "saved_at": 1.0, "uploaded": False,
                       "extra": {"outcome": "success"}, "cut": False, "save_latency_s": 0.2},
                      "Episode 4 saved · 150 frames · 5.0 s · success"),
    "episode_discarded": ({"frames": 12, "task": "t", "reason": "shorter than --dataset.min_episode_s"},
                          "Episode discarded (12 frames) · Shorter than --dataset.min_episode_s"),
    "episode_failed": ({"error": "No space left on device", "task": "t", "frames": 90},
                       "Episode could not be saved (90 frames lost): No space left on device"),
    "recording_failed": ({"level": "error", "cause": "disk full", "fix": "recording stopped; free some space",
                          "message": "disk full"},
                         "Recording error: disk full — recording stopped; free some space"),
    "recovered_on_open": ({"removed_temp_files": ["a.tmp", "b.tmp"], "dropped_interrupted_episodes": 1,
                           "removed_orphans": [], "migrated_files": [], "fixed": []},
                          "Dataset recovered after an interruption: 1 unfinished episode dropped, 2 leftover files removed"),
    "frames_dropped": ({"count": 30, "total": 45},
                       "30 frames not recorded: video encoding fell behind (45 in all)"),
    "encoder_backlog": ({"backlog_s": 10.4, "max_backlog_s": 10.0, "cut_frames": 300, "message": "m"},
                        "Video encoding 10.4 s behind (limit 10 s): the episode was cut at 300 frames and kept; "
                        "frames are dropped until it catches up"),
    "disk_low": ({"level": "warning", "free_bytes": 500 * 2**20, "min_free_bytes": 2**30, "message": "m"},
                 "Disk nearly full: 500.0 MB free (warning below 1024.0 MB)"),
    "disk_ok": ({"free_bytes": 20 * 2**30, "message": "m"}, "Disk space is fine again: 20.0 GB free"),
    "cpu_budget": ({"level": "warning", "message": "this machine cannot keep up: the 3 video encoder(s) need 2.10 of 2 "
                                                 "cores"},
                   "This machine cannot keep up: the 3 video encoder(s) need 2.10 of 2 cores"),
    "upload_started": ({"episodes": 3, "repo_id": "me/cubes"}, "Uploading 3 episodes to me/cubes"),
    "upload_progress": ({"files_done": 2, "files_total": 5, "bytes_done": 3 * 2**20, "bytes_total": 10 * 2**20},
                        "Uploading: 3.0 MB of 10.0 MB (2 of 5 files)"),
    "upload_done": ({"episodes": 3, "files": 7, "commit": "abc"}, "Upload done: 3 episodes on the Hub (7 files sent)"),
    "upload_failed": ({"error": "401 Unauthorized", "will_retry": False, "attempts": 2},
                      "Upload failed (attempt 2): 401 Unauthorized — not retrying"),
    "correction_started": ({"handover_s": 0.8, "distance": 12.5},
                           "Correction started: the arm blends to the leader over 0.8 s"),
    "correction_ended": ({"elapsed_s": 6.25, "saved": True}, "Correction ended after 6.3 s: kept"),
    "handover_done": ({}, "Hand-over done: the arm now follows the leader"),
    "evaluation_reset": ({"episode": 3, "of": 10, "stage": "scene", "reset_time_s": 15.0, "scene_seed": 7},
                         "Reset the scene for episode 3 of 10 (15 s)"),
    "evaluation_episode_started": ({"episode": 3, "of": 10, "policy": "hidden", "reruns": 0},
                                   "Evaluation episode 3 of 10 started · policy hidden (blind)"),
    "evaluation_success_detected": ({"episode": 3, "time_to_success_s": 4.2},
                                    "Success detected in episode 3 after 4.2 s"),
    "evaluation_episode_ended": ({"episode": 3, "cause": "time limit", "detector": False, "duration_s": 30.0,
                                  "time_to_success_s": None}, "Episode 3 ended: time limit · 30.0 s"),
    "evaluation_outcome": ({"episode": 3, "outcome": "success", "source": "operator", "policy": "flow:a",
                            "time_to_success_s": 4.2, "duration_s": 6.0},
                           "Episode 3: success · judged by operator · policy flow:a"),
    "evaluation_rerecord": ({"episode": 3, "reruns": 1, "source": "ws"},
                            "Episode 3 thrown away: it runs again after the reset"),
    "evaluation_excluded": ({"episode": 3, "reason": "the cube fell off", "source": "ws"},
                            "Episode 3 excluded from the results: the cube fell off"),
    "evaluation_finished": ({"episodes": 10, "summary": "A beats B", "results": "/x/results.json"},
                            "Evaluation finished: 10 episodes · A beats B"),
}


@pytest.fixture(scope="module")
def sentry(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("words") / "ds"
    flags = dataset_flags(root, "sentry", "--task=Put the cube in the bowl", "--server.exit_when_stopped=false")
    with cli_server(*PAGE_FLAGS, *flags) as (url, _):
        yield url


def _module(page: Page, url: str, body: str, arg=None):
    page.goto(url + "/static/js/event-sentences.js")
    return page.evaluate(f"""async (arg) => {{
        const S = await import('/static/js/event-sentences.js');
        const T = await import('/static/js/event-timeline.js');
        const N = await import('/static/js/client-name.js');
        const P = await import('/static/js/lease-panel.js');
        const M = await import('/static/js/mission-panel.js');
        {body} }}""", arg)


def test_every_event_kind_has_its_sentence(page: Page, sentry: str) -> None:
    """A kind the server gains without a sentence fails here (EVENT_KINDS is checked against the source)."""
    assert set(SAMPLES) == set(EVENT_KINDS), "add a sample (and a sentence in event-sentences.js) for a new kind"
    events = [{"seq": i, "time": 1796145585.0, "kind": kind, "data": data}
              for i, (kind, (data, _)) in enumerate(SAMPLES.items())]
    result = _module(page, sentry, """
        return { keys: Object.keys(S.SENTENCES),
                 said: arg.map((event) => S.eventSentence(event, { selfClient: 'tab-me' })),
                 unknown: S.eventSentence({ kind: 'from_the_future', data: { x: 1 } }),
                 broken: S.eventSentence({ kind: 'episode_saved', data: null }) };""", events)
    assert set(result["keys"]) == set(EVENT_KINDS)
    for (kind, (_, expected)), said in zip(SAMPLES.items(), result["said"], strict=True):
        assert said == expected, kind
    assert result["unknown"] == 'from_the_future {"x":1}'  # a newer server's kind still gets a line
    assert result["broken"] == "episode_saved"  # fields missing: the raw line, not a sentence with holes


def test_sentences_name_the_sender_and_the_phase(page: Page, sentry: str) -> None:
    result = _module(page, sentry, """
        const say = (kind, data) => S.eventSentence({ kind, data }, { selfClient: 'tab-me' });
        return {
            mine: say('phase_changed', { previous: 'paused', phase: 'autonomous', cause: 'resume', source: 'ws:tab-me' }),
            other: say('command', { name: 'takeover', accepted: false, detail: 'Desk holds control',
                                    source: 'ws:tab-zz9' }),
            script: say('command', { name: 'estop', accepted: true, detail: null, source: 'rest:cell-7', latency_ms: 3 }),
            handback: say('phase_changed', { previous: 'correcting', phase: 'autonomous', cause: 'handback',
                                             source: 'keyboard' }),
            released: say('phase_changed', { previous: 'autonomous', phase: 'paused', source: 'session', automatic: true,
                                             cause: 'paused: iPad · Safari released control; resume when ready' }),
            reason: say('phase_changed', { previous: 'resetting', phase: 'autonomous', cause: 'reset done',
                                           source: 'session' }),
            levels: [['phase_changed', { phase: 'estopped' }], ['command', { accepted: false }],
                     ['episode_saved', {}], ['upload_failed', { will_retry: true }], ['notice', { level: 'info' }]]
                .map(([kind, data]) => S.eventLevel({ kind, data })),
            groups: ['phase_changed', 'command', 'lease', 'episode_saved', 'upload_done', 'evaluation_outcome']
                .map(S.eventGroup),
            filters: [T.passesFilter('all', 'upload', 'info'), T.passesFilter('problems', 'phases', 'warning'),
                      T.passesFilter('problems', 'recording', 'ok'), T.passesFilter('control', 'control', 'info'),
                      T.passesFilter('control', 'phases', 'error')],
        };""")
    assert result["mine"] == "Resumed: the policy drives · from this tab"
    assert result["other"] == "Take over refused from another tab: Desk holds control"  # never the tab's id
    assert result["script"] == "E-STOP done from script 'cell-7' · 3 ms"
    assert result["handback"] == "Handed back: the policy drives · by the keyboard at the robot"
    assert result["released"] == "Paused: tab 'iPad · Safari' gave up control"
    assert result["reason"] == "Reset done: the policy drives (reset done)"
    assert result["levels"] == ["error", "warning", "ok", "warning", "info"]
    assert result["groups"] == ["phases", "commands", "control", "recording", "upload", "evaluation"]
    assert result["filters"] == [True, True, False, True, False]


def test_local_clock_time(browser: Browser, sentry: str) -> None:
    """HH:MM:SS in the browser's time zone, whatever its locale."""
    context = browser.new_context(timezone_id="Asia/Kolkata", locale="en-US")
    page = context.new_page()
    try:
        at = 1796145585.7
        said = _module(page, sentry, "return [S.clockTime(arg), S.clockTime('x')];", at)
        local = dt.datetime.fromtimestamp(at, ZoneInfo("Asia/Kolkata")).strftime("%H:%M:%S")
        assert said == [local, "--:--:--"]
    finally:
        context.close()


def test_default_client_names_from_the_user_agent(page: Page, sentry: str) -> None:
    agents = {
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
        "Mobile/15E148 Safari/604.1": "iPad · Safari",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36":
            "Linux · Chrome",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0": "Mac · Firefox",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
        "Safari/537.36 Edg/126.0.2592.87": "Windows · Edge",
        "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
        "Safari/537.36": "Android tablet · Chrome",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1": "iPhone · Chrome",
        "curl/8.5.0": "Browser",
    }
    result = _module(page, sentry, """
        const names = Object.keys(arg.agents).map((ua) => N.defaultClientName(ua));
        // iPadOS Safari asks for desktop sites: it says Macintosh, and has a touch screen
        const desktopIpad = N.defaultClientName(arg.mac, 5);
        const store = new Map();
        const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v),
                          removeItem: (k) => store.delete(k) };
        const first = N.loadClientName(storage, arg.mac);
        const saved = N.saveClientName(storage, '  Tablet\\n by the   arm ', arg.mac);
        const again = N.loadClientName(storage, arg.mac);
        const cleared = N.saveClientName(storage, '   ', arg.mac);
        const blocked = N.loadClientName({ getItem: () => { throw new Error('blocked'); } }, arg.mac);
        return { names, desktopIpad, first, saved, again, cleared, after: N.loadClientName(storage, arg.mac), blocked,
                 long: N.cleanClientName('x'.repeat(200)).length };""",
        {"agents": agents, "mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                                  "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"})
    assert result["names"] == list(agents.values())
    assert result["desktopIpad"] == "iPad · Safari"
    assert result["first"] == "Mac · Safari"
    assert result["saved"] == result["again"] == "Tablet by the arm"  # remembered, on one line
    assert result["cleared"] == result["after"] == "Mac · Safari"  # an empty name goes back to the default
    assert result["blocked"] == "Mac · Safari"
    assert result["long"] == 80


def test_control_panel_messages_follow_the_current_lease(page: Page, sentry: str) -> None:
    """Each message is computed from the lease state now: no refusal or notice outlives its holder."""
    result = _module(page, sentry, """
        const desk = { id: 'd1', label: 'Desk' };
        const refusal = { ok: false, reason: 'lease request: no answer', holder: desk };
        return {
            nobody: P.leaseView({ holder: null, yours: false }, 'operator', refusal),
            heldByDesk: P.leaseView({ holder: desk, yours: false }, 'operator', refusal),
            kept: P.leaseView({ holder: desk, yours: false, notice: 'Desk kept control' }, 'operator'),
            nowMine: P.leaseView({ holder: { id: 'me', label: 'iPad · Safari' }, yours: true, notice: null },
                                 'operator', { ok: false, reason: 'Desk kept control', holder: desk }),
            asked: P.leaseView({ holder: { id: 'me', label: 'iPad' }, yours: true,
                                 request: { label: 'Desk', yours: false, expires_in_s: 29.2 } }, 'operator'),
            waiting: P.leaseView({ holder: desk, yours: false, request: { label: 'iPad', yours: true,
                                                                         expires_in_s: 12.1 } }, 'operator'),
            viewer: P.leaseView({ holder: desk, yours: false }, 'viewer'),
        };""")
    assert result["nobody"] == {"holder": "nobody (any operator may command)",
                                "message": "Nobody holds control: any operator may command. Take control so the robot "
                                           "pauses if this tab goes away."}
    assert result["heldByDesk"]["message"] == ("Lease request: no answer. Desk holds control: ask for it, or take it "
                                               "(their robot motion pauses).")
    assert result["kept"]["message"].startswith("Desk kept control. Desk holds control")
    assert result["nowMine"] == {"holder": "this tab", "message": "You hold control: other tabs must ask you for it. "
                                                                   "Release it before you walk away."}
    assert result["asked"]["message"] == "Desk asks for control (30 s left to answer)."
    assert result["waiting"]["message"] == "Waiting for Desk to answer (13 s left)."
    assert result["viewer"]["message"].startswith("View only")


def test_mission_facts_and_upload_words(page: Page, sentry: str) -> None:
    result = _module(page, sentry, """
        const dagger = { task_instruction: 'Put the cube in the bowl',
                         task: { attempts: 4, successes: 3, success_rate: 0.75 },
                         recording: { episodes: 12, episodes_recorded: 2, num_episodes: 50, repo_id: 'me/cubes',
                                      disk: { dataset_bytes: 5 * 2 ** 20 } },
                         upload: { state: 'uploading', progress: { bytes_done: 1, bytes_total: 4 } } };
        const evaluation = { task_instruction: null, task: null, evaluation: { episode: 3, of: 10 } };
        return { dagger: M.missionFacts(dagger), evaluation: M.missionFacts(evaluation),
                 words: ['disabled', 'pending', 'done', 'error'].map((state) => M.uploadWords(
                     { state, uploaded_episodes: 5, last_error: '401 Unauthorized' })) };""")
    assert result["dagger"] == {
        "task": "Put the cube in the bowl", "attempts": "4", "successes": "3 (75 %)",
        "episode": {"label": "episodes", "value": "2 of 50"},
        "dataset": {"name": "me/cubes", "episodes": "12 episodes", "size": "5.0 MB"},
        "upload": {"state": "uploading", "text": "uploading 25 %"},
    }
    assert result["evaluation"] == {"task": None, "attempts": None, "successes": None,
                                    "episode": {"label": "episode", "value": "3 of 10"}, "dataset": None, "upload": None}
    assert result["words"] == ["off (not pushed to the Hub)", "waiting to start", "done (5 episodes on the Hub)",
                               "failed: 401 Unauthorized (press Upload to retry)"]


# ------------------------------------------------------------------------------------------ on the live page


def _status(url: str) -> dict:
    return httpx.get(url + "/api/v1/status", timeout=10).json()


def _mission_on_page(page: Page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries(['mission-task', 'mission-attempts', 'mission-successes',
        'mission-episode', 'mission-dataset', 'mission-dataset-episodes', 'mission-dataset-size', 'mission-upload']
        .map((id) => [id, document.querySelector(`[data-testid="${id}"]`).textContent.trim()]))""")


def _mission_from_status(status: dict) -> dict[str, str]:
    task, rec = status["task"], status["recording"]
    size = rec["disk"]["dataset_bytes"]
    return {
        "mission-task": status["task_instruction"],
        "mission-attempts": str(task["attempts"]),
        "mission-successes": f"{task['successes']}"
                             + ("" if task["success_rate"] is None else f" ({round(task['success_rate'] * 100)} %)"),
        "mission-episode": str(rec["saved_this_session"]),
        "mission-dataset": rec["repo_id"],
        "mission-dataset-episodes": f"{rec['episodes']} episode{'' if rec['episodes'] == 1 else 's'}",
        "mission-dataset-size": f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{round(size / 1024)} kB",
        "mission-upload": "off (not pushed to the Hub)",
    }


def test_mission_strip_shows_the_status(page: Page, sentry: str) -> None:
    """The strip says what GET /api/v1/status says (values move: compare until one status and the page agree)."""
    page.goto(sentry)
    expect(page.locator(PHASE)).to_have_attribute("data-live", "true")
    assert _status(sentry)["task_instruction"] == "Put the cube in the bowl"
    expect(page.locator('[data-testid="mission-task"]')).to_have_text("Put the cube in the bowl")
    page.wait_for_function("Number(document.querySelector('[data-testid=episode-frames]').textContent) > 10")
    page.click('[data-save-outcome="success"]')
    wait_until(lambda: _status(sentry)["recording"]["episodes"] >= 1, timeout=90, message="the episode saved")

    def agree() -> bool:
        return _mission_on_page(page) == _mission_from_status(_status(sentry))

    wait_until(agree, timeout=30, interval=0.3, message=f"the strip to match the status: {_mission_on_page(page)}")
    assert _mission_on_page(page)["mission-dataset-episodes"] == "1 episode"
    for box in ("mission-attempts-box", "mission-episode-box", "mission-dataset-box", "mission-upload-box"):
        expect(page.locator(f'[data-testid="{box}"]')).to_be_visible()
    strip = page.locator('[data-testid="mission"]').bounding_box()
    assert strip["height"] <= 120, strip  # one or two lines, not a tall panel


def test_timeline_reads_in_words_filters_and_opens_the_raw_event(page: Page, sentry: str) -> None:
    page.goto(sentry)
    expect(page.locator(PHASE)).to_have_attribute("data-live", "true")
    client = page.evaluate("window.rolloutConsole.clientId")
    if _status(sentry)["phase"] == "paused":  # an earlier test's page held control and closed: that paused it
        page.click('[data-command="resume"]')
        expect(page.locator(PHASE)).to_have_text("autonomous")
    page.click('[data-command="pause"]')
    expect(page.locator(PHASE)).to_have_text("paused")
    events = page.locator(f"{EVENTS} > li")
    paused = page.locator(f'{EVENTS} > li[data-kind="phase_changed"]').first
    expect(paused.locator('[data-testid="event-text"]')).to_have_text("Paused · from this tab")
    expect(paused).to_have_attribute("data-level", "info")
    assert paused.get_attribute("data-seq").isdigit()
    # local time, HH:MM:SS
    assert page.locator(f"{EVENTS} > li time").first.inner_text().count(":") == 2
    # no raw client id or unix time on screen
    assert client not in page.locator(EVENTS).inner_text()
    # newest first
    seqs = [int(s) for s in page.eval_on_selector_all(f"{EVENTS} > li", "(items) => items.map((i) => i.dataset.seq)")]
    assert seqs == sorted(seqs, reverse=True)
    # the raw JSON is one click away
    raw = paused.locator('[data-testid="event-raw"]')
    expect(raw).to_be_hidden()
    paused.locator("summary").click()
    expect(raw).to_be_visible()
    assert '"kind": "phase_changed"' in raw.inner_text() and f'"source": "ws:{client}"' in raw.inner_text()
    paused.locator("summary").click()
    expect(raw).to_be_hidden()
    # filters: large chips; only the chosen kinds stay
    chip = page.locator('[data-event-filter="commands"]')
    box = chip.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    chip.click()
    expect(chip).to_have_attribute("aria-pressed", "true")
    visible = page.locator(f"{EVENTS} > li:visible")
    expect(visible.first).to_have_attribute("data-kind", "command")
    assert set(page.eval_on_selector_all(f"{EVENTS} > li:not([hidden])", "(i) => i.map((x) => x.dataset.kind)")) == {"command"}
    page.click('[data-command="resume"]')  # new entries follow the filter too
    expect(page.locator(PHASE)).to_have_text("autonomous")
    expect(visible.first.locator('[data-testid="event-text"]')).to_contain_text("Resume done from this tab")
    assert set(page.eval_on_selector_all(f"{EVENTS} > li:not([hidden])", "(i) => i.map((x) => x.dataset.kind)")) == {"command"}
    page.click('[data-event-filter="all"]')
    assert page.locator(f"{EVENTS} > li:not([hidden])").count() == events.count()
    page.click('[data-event-filter="problems"]')  # warnings and errors only
    levels = page.eval_on_selector_all(f"{EVENTS} > li:not([hidden])", "(i) => i.map((x) => x.dataset.level)")
    assert set(levels) <= {"warning", "error"}
    problems = page.eval_on_selector_all(f"{EVENTS} > li", "(i) => i.filter((x) => ['warning', 'error']"
                                         ".includes(x.dataset.level)).length")
    assert len(levels) == problems
    if not problems:
        expect(page.locator('[data-testid="events-empty"]')).to_have_text("No events of this kind yet.")


def test_timeline_is_bounded_and_upload_progress_moves_on_one_line(page: Page, sentry: str) -> None:
    """The view on a fake controller: 200 events keep the newest 150; upload progress replaces its own line."""
    page.goto(sentry + "/static/js/event-timeline.js")
    result = page.evaluate("""async () => {
        const T = await import('/static/js/event-timeline.js');
        const section = document.createElement('section');
        section.innerHTML = '<button data-event-filter="all"></button><button data-event-filter="upload"></button>'
                          + '<ol data-testid="events"></ol><p data-testid="events-empty"></p>';
        document.body.append(section);
        const controller = new EventTarget();
        controller.clientId = 'tab-me';
        const el = section.querySelector('ol');
        T.EventLog(el, controller);
        const send = (seq, kind, data) => controller.dispatchEvent(new CustomEvent('rc:event',
            { detail: { type: 'event', seq, time: 1796145585 + seq, kind, data } }));
        for (let seq = 1; seq <= 200; seq += 1) {
            send(seq, 'command', { name: 'pause', accepted: true, detail: null, source: 'pedal', latency_ms: 5 });
        }
        const bounded = [el.children.length, el.firstElementChild.dataset.seq, el.lastElementChild.dataset.seq];
        for (let seq = 201; seq <= 203; seq += 1) {
            send(seq, 'upload_progress', { files_done: seq - 200, files_total: 3, bytes_done: (seq - 200) * 2 ** 20,
                                           bytes_total: 3 * 2 ** 20 });
        }
        section.querySelector('[data-event-filter="upload"]').click();
        const shown = [...el.children].filter((li) => !li.hidden).map((li) => li.textContent);
        return { bounded, progress: el.querySelectorAll('li[data-kind="upload_progress"]').length, shown,
                 total: el.children.length };
    }""")
    assert result["bounded"] == [150, "200", "51"]  # newest first, the oldest dropped
    assert result["progress"] == 1 and result["total"] == 150
    assert len(result["shown"]) == 1 and "Uploading: 3.0 MB of 3.0 MB (3 of 3 files)" in result["shown"][0]


def test_recording_panel_words(page: Page, sentry: str) -> None:
    page.goto(sentry + "/static/js/recording-panel.js")
    result = page.evaluate("""async () => {
        const R = await import('/static/js/recording-panel.js');
        return {
            states: [{ state: 'idle' }, { state: 'idle', mode: 'corrections' }, { state: 'recording' },
                     { state: 'saving' }, { state: 'dropping' }].map(R.recordingStateWords),
            fine: R.recordingHealth({ state: 'recording', dropped_frames: 0 }),
            dropping: R.recordingHealth({ state: 'dropping', backlog_s: 10.4, max_backlog_s: 10, dropped_frames: 12 }),
            failed: R.recordingHealth({ state: 'idle', dropped_frames: 3, last_error: 'No space left on device',
                                        disk: { low: true, free_bytes: 200 * 2 ** 20 } }),
        };
    }""")
    assert result["states"] == ["Not recording", "Not recording (only corrections are recorded)", "Recording",
                                "Saving", "Behind: dropping frames"]
    assert result["fine"] == {"text": "", "level": "ok"}
    assert result["dropping"] == {"level": "warning", "text": (
        "Video encoding is 10.4 s behind (the limit is 10 s): the episode was cut there and kept; new frames are "
        "not recorded until the encoders catch up (12 dropped so far).")}
    assert result["failed"]["level"] == "error"
    assert result["failed"]["text"].startswith("3 frames were not recorded while video encoding was behind")
    assert "Disk nearly full: 200.0 MB free." in result["failed"]["text"]
    assert result["failed"]["text"].endswith("Last save failed: No space left on device")
