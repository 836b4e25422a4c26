"""OperatorLease: acquire, heartbeat, lapse timing (fake clock), hand-over, force, authorize."""

from __future__ import annotations

import threading

import pytest
from rollout_console.api.lease import LeaseChange, LeaseChangeKind, OperatorLease, public_id
from rollout_console.config.inputs import LeaseConfig

K = LeaseChangeKind


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def changes() -> list[LeaseChange]:
    return []


@pytest.fixture
def lease(clock: FakeClock, changes: list[LeaseChange]) -> OperatorLease:
    return OperatorLease(
        LeaseConfig(timeout_s=1.5, heartbeat_s=0.5),
        clock=clock,
        wall_clock=lambda: 5000.0,
        on_change=changes.append,
    )


def kinds(changes: list[LeaseChange]) -> list[str]:
    return [change.kind.value for change in changes]


# -------------------------------------------------------------------------------- acquire


def test_acquire_a_free_lease(lease: OperatorLease, changes) -> None:
    result = lease.acquire("tab-alice", "Alice (Chrome)")
    assert result.ok and result.status == 200
    assert result.holder == {
        "id": public_id("tab-alice"),
        "label": "Alice (Chrome)",
        "since": 5000.0,
        "held_s": 0.0,
        "expires_in_s": 1.5,
    }
    assert kinds(changes) == ["acquired"] and changes[0].previous is None and not changes[0].pause
    assert lease.holds("tab-alice")


def test_acquire_held_lease_is_refused_naming_the_holder(
    lease: OperatorLease, clock: FakeClock, changes
) -> None:
    lease.acquire("tab-alice", "Alice")
    clock.advance(1.0)
    result = lease.acquire("tab-bob", "Bob")
    assert not result.ok and result.status == 423
    assert result.reason.startswith("Alice holds control (for 1 s)")
    assert result.holder["label"] == "Alice"
    assert lease.holds("tab-alice") and kinds(changes) == ["acquired"]


def test_acquire_again_renews_and_can_relabel(lease: OperatorLease, clock: FakeClock) -> None:
    lease.acquire("tab-alice", "Alice")
    clock.advance(1.2)
    result = lease.acquire("tab-alice", "Alice (tablet)")
    assert result.ok and result.holder["expires_in_s"] == 1.5 and result.holder["label"] == "Alice (tablet)"
    assert result.holder["held_s"] == pytest.approx(1.2)


def test_label_defaults_and_is_cleaned(lease: OperatorLease) -> None:
    assert lease.acquire("tab-x").holder["label"] == f"client {public_id('tab-x')}"
    lease.release("tab-x")
    assert lease.acquire("tab-y", "  a\n b " + "z" * 200).holder["label"] == ("a b " + "z" * 200)[:80]


@pytest.mark.parametrize("bad", ["", "   ", "x" * 129, "tab\x00"])
def test_bad_client_ids_are_refused(lease: OperatorLease, bad: str) -> None:
    with pytest.raises(ValueError, match="client id"):
        lease.acquire(bad)


# ----------------------------------------------------------------------- heartbeat, lapse


def test_heartbeats_keep_the_lease(lease: OperatorLease, clock: FakeClock, changes) -> None:
    lease.acquire("tab-alice", "Alice")
    for _ in range(20):
        clock.advance(1.0)  # late heartbeats, but inside the 1.5 s timeout
        assert lease.heartbeat("tab-alice").ok
        assert lease.check() == []
    assert lease.holds("tab-alice") and kinds(changes) == ["acquired"]


def test_lapse_is_detected_exactly_at_the_timeout(lease: OperatorLease, clock: FakeClock, changes) -> None:
    lease.acquire("tab-alice", "Alice")
    clock.advance(0.5)
    lease.heartbeat("tab-alice")  # last heartbeat at t0 + 0.5: lapses at t0 + 2.0
    assert lease.check(now=clock.now + 1.499) == []
    lapsed = lease.check(now=clock.now + 1.5)
    assert kinds(lapsed) == ["lapsed"]
    change = lapsed[0]
    assert change.pause and change.holder is None and change.previous["label"] == "Alice"
    assert change.at == pytest.approx(clock.now + 1.5)
    assert "no heartbeat for 1.50 s" in change.detail
    assert changes[-1] is change  # reported to the listener too
    assert lease.check(now=clock.now + 10) == []  # reported once
    assert not lease.holds("tab-alice")


def test_lapse_is_noticed_by_any_call_not_only_check(lease: OperatorLease, clock: FakeClock, changes) -> None:
    lease.acquire("tab-alice", "Alice")
    clock.advance(2.0)
    assert lease.authorize("tab-bob", "pause").allowed  # nobody holds it any more
    assert kinds(changes) == ["acquired", "lapsed"]


def test_a_lapsed_holder_must_acquire_again(lease: OperatorLease, clock: FakeClock) -> None:
    lease.acquire("tab-alice", "Alice")
    clock.advance(1.6)
    result = lease.heartbeat("tab-alice")
    assert not result.ok and result.status == 409
    assert "control lapsed: no heartbeat for 1.60 s" in result.reason and "nobody does" in result.reason
    assert lease.snapshot("tab-alice")["notice"].startswith("control lapsed")
    assert lease.acquire("tab-alice", "Alice").ok
    assert lease.snapshot("tab-alice")["notice"] is None


def test_pause_on_lapse_can_be_turned_off(clock: FakeClock) -> None:
    lease = OperatorLease(LeaseConfig(pause_on_lapse=False), clock=clock)
    lease.acquire("a")
    clock.advance(5)
    assert [change.pause for change in lease.check()] == [False]


def test_heartbeat_from_another_client_is_refused(lease: OperatorLease) -> None:
    lease.acquire("tab-alice", "Alice")
    result = lease.heartbeat("tab-bob")
    assert not result.ok and "Alice holds control" in result.reason


# ------------------------------------------------------------------------------ release


def test_release_frees_and_asks_for_a_pause(lease: OperatorLease, changes) -> None:
    lease.acquire("tab-alice", "Alice")
    assert lease.release("tab-bob").ok  # not the holder: harmless, nothing changes
    assert lease.holds("tab-alice")
    result = lease.release("tab-alice")
    assert result.ok and result.holder is None
    assert kinds(changes) == ["acquired", "released"] and changes[-1].pause
    assert lease.acquire("tab-bob", "Bob").ok


# ----------------------------------------------------------------------- hand-over, force


def test_request_then_accept_hands_over_without_pausing(
    lease: OperatorLease, clock: FakeClock, changes
) -> None:
    lease.acquire("tab-alice", "Alice")
    asked = lease.request("tab-bob", "Bob")
    assert not asked.ok and asked.status == 423 and "asked Alice" in asked.reason
    snap = lease.snapshot("tab-alice")
    assert snap["request"]["label"] == "Bob" and not snap["request"]["yours"]
    assert lease.snapshot("tab-bob")["request"]["yours"]
    assert not lease.respond("tab-bob", True).ok  # only the holder answers
    clock.advance(0.2)
    result = lease.respond("tab-alice", True)
    assert result.ok and result.holder["label"] == "Bob" and result.holder["expires_in_s"] == 1.5
    assert kinds(changes) == ["acquired", "requested", "transferred"] and not changes[-1].pause
    assert changes[-1].previous["label"] == "Alice"
    assert lease.holds("tab-bob") and lease.snapshot()["request"] is None
    assert "you handed control to Bob" in lease.heartbeat("tab-alice").reason


def test_request_denied(lease: OperatorLease, changes) -> None:
    lease.acquire("tab-alice", "Alice")
    lease.request("tab-bob", "Bob")
    result = lease.respond("tab-alice", False)
    assert result.ok and lease.holds("tab-alice")
    assert kinds(changes)[-1] == "denied"
    assert lease.snapshot("tab-bob")["notice"] == "Alice kept control"
    assert not lease.respond("tab-alice", True).ok  # nothing pending any more


def test_request_expires_unanswered(lease: OperatorLease, clock: FakeClock, changes) -> None:
    lease.acquire("tab-alice", "Alice")
    lease.request("tab-bob", "Bob")
    for _ in range(31):  # Alice keeps heartbeating but never answers
        clock.advance(1.0)
        lease.heartbeat("tab-alice")
    assert "request_expired" in kinds(changes)
    assert lease.snapshot()["request"] is None and lease.holds("tab-alice")


def test_requesting_a_free_lease_grants_it(lease: OperatorLease) -> None:
    result = lease.request("tab-bob", "Bob")
    assert result.ok and lease.holds("tab-bob")


def test_holder_transfers_directly(lease: OperatorLease, changes) -> None:
    lease.acquire("tab-alice", "Alice")
    assert not lease.transfer("tab-bob", "tab-carol").ok  # not the holder
    result = lease.transfer("tab-alice", "tab-tablet", "Tablet by the robot")
    assert result.ok and lease.holds("tab-tablet")
    assert kinds(changes)[-1] == "transferred" and not changes[-1].pause


def test_force_takes_over_pauses_and_tells_the_previous_holder(lease: OperatorLease, changes) -> None:
    lease.acquire("tab-alice", "Alice")
    result = lease.acquire("tab-bob", "Bob", force=True)
    assert result.ok and lease.holds("tab-bob")
    change = changes[-1]
    assert change.kind is K.FORCED and change.pause
    assert change.previous["label"] == "Alice" and change.holder["label"] == "Bob"
    assert change.detail == "Bob took control from Alice (forced)"
    refused = lease.heartbeat("tab-alice")
    assert (
        not refused.ok
        and "Bob took control from you" in refused.reason
        and "Bob holds control" in refused.reason
    )


def test_force_pause_can_be_turned_off(clock: FakeClock) -> None:
    seen: list[LeaseChange] = []
    lease = OperatorLease(LeaseConfig(pause_on_force=False), clock=clock, on_change=seen.append)
    lease.acquire("a")
    lease.acquire("b", force=True)
    assert seen[-1].kind is K.FORCED and not seen[-1].pause


# ------------------------------------------------------------------------------ authorize


def test_nobody_holding_allows_plain_http_commands(lease: OperatorLease) -> None:
    allowed, reason, holder = lease.authorize(None, "pause", source="rest")
    assert allowed and reason == "nobody holds control" and holder is None


def test_only_the_holder_commands(lease: OperatorLease, clock: FakeClock) -> None:
    lease.acquire("tab-alice", "Alice")
    for _ in range(2):
        clock.advance(1.0)
        lease.heartbeat("tab-alice")
    assert lease.authorize("tab-alice", "resume", "ws").allowed
    refused = lease.authorize("tab-bob", "resume", "ws")
    assert not refused.allowed and refused.holder["label"] == "Alice"
    assert refused.reason.startswith("Alice holds control (for 2 s)")
    script = lease.authorize(None, "stop", "rest")
    assert not script.allowed and "Alice holds control" in script.reason


def test_estop_is_always_allowed(lease: OperatorLease) -> None:
    lease.acquire("tab-alice", "Alice")
    assert lease.authorize("tab-bob", "estop", "ws").allowed
    assert lease.authorize(None, "estop", "rest").allowed
    viewer = lease.authorize("tab-viewer", "estop", "ws", role="viewer")
    assert viewer.allowed and viewer.reason == "estop is always allowed"


def test_viewers_never_command(lease: OperatorLease) -> None:
    refused = lease.authorize("tab-viewer", "pause", "ws", role="viewer")  # even with nobody holding
    assert not refused.allowed and "viewers cannot send commands" in refused.reason
    lease.acquire("tab-viewer")  # the API must not let a viewer acquire; even so, viewers never command
    assert not lease.authorize("tab-viewer", "pause", "ws", role="viewer").allowed


@pytest.mark.parametrize("source", ["pedal", "keyboard", "pedal:usb"])
def test_pedal_counts_as_the_operator(lease: OperatorLease, source: str) -> None:
    lease.acquire("tab-alice", "Alice")
    result = lease.authorize(None, "resume", source=source)
    assert result.allowed and "counts as the operator" in result.reason


def test_client_supplied_suffix_cannot_pose_as_the_pedal(lease: OperatorLease) -> None:
    lease.acquire("tab-alice", "Alice")
    assert not lease.authorize("tab-bob", "resume", source="rest:pedal").allowed


# ------------------------------------------------------------------------------- snapshot


def test_snapshot_for_the_page(lease: OperatorLease, clock: FakeClock) -> None:
    assert lease.snapshot() == {
        "holder": None,
        "yours": False,
        "request": None,
        "notice": None,
        "name": None,
        "timeout_s": 1.5,
        "heartbeat_s": 0.5,
        "last_change": None,
    }
    lease.acquire("tab-alice", "Alice")
    clock.advance(0.4)
    snap = lease.snapshot("tab-alice")
    assert snap["yours"] and not lease.snapshot("tab-bob")["yours"]
    assert snap["holder"]["held_s"] == pytest.approx(0.4) and snap["holder"]["expires_in_s"] == pytest.approx(
        1.1
    )
    assert snap["holder"]["since"] == 5000.0
    assert snap["last_change"] == {"seq": 1, "kind": "acquired", "detail": "Alice took control"}
    assert "tab-alice" not in repr(snap)  # client ids stay secret: a public tag is shown instead


def test_change_to_dict_is_json_ready(lease: OperatorLease, changes) -> None:
    lease.acquire("tab-alice", "Alice")
    data = changes[0].to_dict()
    assert data["kind"] == "acquired" and data["seq"] == 1 and data["holder"]["label"] == "Alice"


def test_a_failing_listener_does_not_break_the_lease(clock: FakeClock, caplog) -> None:
    def boom(change: LeaseChange) -> None:
        raise RuntimeError("listener bug")

    seen: list[LeaseChange] = []
    lease = OperatorLease(clock=clock, on_change=boom)
    lease.add_listener(seen.append)
    assert lease.acquire("a").ok
    assert kinds(seen) == ["acquired"]
    assert "change callback failed" in caplog.text


# -------------------------------------------------------------------------------- watcher


def test_watcher_thread_reports_a_lapse_at_its_first_check_after_expiry() -> None:
    """The real watcher thread over a fake clock: no lapse while heartbeats keep the lease, then one at
    the first check after the expiry. Deterministic on a loaded machine (the thread's pace only delays
    the check, it cannot move the fake time); how fast it reacts in real time is ``make bench``'s figure."""
    checks = threading.Semaphore(0)
    fake = FakeClock()

    def clock() -> float:
        if threading.current_thread().name == "lease-watcher":
            checks.release()  # one watcher check
        return fake()

    lapsed = threading.Event()
    detected: list[float] = []

    def on_change(change: LeaseChange) -> None:
        if change.kind is K.LAPSED:
            detected.append(fake.now)
            lapsed.set()

    config = LeaseConfig(timeout_s=0.3, heartbeat_s=0.1, pause_within_s=0.5)
    assert config.check_interval_s <= config.pause_within_s / 10  # the real-time bound, by construction
    lease = OperatorLease(config, clock=clock, on_change=on_change)
    lease.start()
    try:
        lease.acquire("tab-alice", "Alice")
        for _ in range(5):  # fake time passes, heartbeats renew: the watcher must stay quiet
            fake.advance(0.1)
            lease.heartbeat("tab-alice")
            for _ in range(3):  # at least a few watcher checks at this fake time
                assert checks.acquire(timeout=30)
        assert not lapsed.is_set()
        expiry = fake.now + config.timeout_s
        fake.advance(config.timeout_s + 0.01)
        assert lapsed.wait(30), "the watcher never reported the lapse"
    finally:
        lease.stop()
    assert detected == [pytest.approx(expiry + 0.01)]


def test_watcher_cannot_start_twice_and_stops() -> None:
    lease = OperatorLease()
    lease.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            lease.start()
    finally:
        lease.stop()
    lease.start()  # can be started again after a stop
    lease.stop()


def test_concurrent_acquires_grant_exactly_one() -> None:
    lease = OperatorLease()
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def contender(index: int) -> None:
        barrier.wait()
        results.append(lease.acquire(f"tab-{index}").ok)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
