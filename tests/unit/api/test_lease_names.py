"""Client names in the lease: numbered when two clients pick the same one; notices that never outlive their cause."""

from __future__ import annotations

import pytest
from rollout_console.api.lease import OperatorLease, numbered_name, public_id
from rollout_console.config.inputs import LeaseConfig


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lease() -> OperatorLease:
    return OperatorLease(LeaseConfig(timeout_s=1.5, heartbeat_s=0.5), clock=FakeClock(), wall_clock=lambda: 5000.0)


def test_numbered_name_takes_the_first_free_number() -> None:
    assert numbered_name("iPad · Safari", []) == "iPad · Safari"
    assert numbered_name("iPad · Safari", ["iPad · Safari"]) == "iPad · Safari (2)"
    assert numbered_name("iPad · Safari", ["iPad · Safari", "iPad · Safari (2)"]) == "iPad · Safari (3)"
    assert numbered_name("iPad · Safari", ["iPad · Safari (2)"]) == "iPad · Safari"


def test_two_connected_clients_with_one_name_are_numbered(lease: OperatorLease) -> None:
    assert lease.connect("tab-a", "Linux · Chrome") == "Linux · Chrome"
    assert lease.connect("tab-b", "Linux · Chrome") == "Linux · Chrome (2)"
    assert lease.connect("tab-c", "Linux · Chrome") == "Linux · Chrome (3)"
    assert lease.connect("tab-a", "Linux · Chrome") == "Linux · Chrome"  # a second socket (a reload) keeps it
    assert lease.snapshot("tab-b")["name"] == "Linux · Chrome (2)"
    # the name is what the lease shows: the holder, the request, the change details
    assert lease.acquire("tab-b", "Linux · Chrome").holder["label"] == "Linux · Chrome (2)"
    asked = lease.request("tab-c", "Linux · Chrome")
    assert "asked Linux · Chrome (2) for control" in asked.reason
    assert lease.snapshot("tab-b")["request"]["label"] == "Linux · Chrome (3)"


def test_a_name_is_free_again_once_its_last_socket_closed(lease: OperatorLease) -> None:
    lease.connect("tab-a", "Tablet")
    lease.connect("tab-a", "Tablet")  # the reloaded tab's new socket opens before the old one closes
    assert lease.connect("tab-b", "Tablet") == "Tablet (2)"
    lease.disconnect("tab-a")
    assert lease.connect("tab-c", "Tablet") == "Tablet (3)"  # tab-a still has a socket
    lease.disconnect("tab-a")
    assert lease.connect("tab-d", "Tablet") == "Tablet"
    assert lease.name("tab-b", "Tablet") == "Tablet (2)"  # a client keeps its number while it keeps its name


def test_a_client_without_a_name_gets_its_tag_and_may_pick_one_later(lease: OperatorLease) -> None:
    assert lease.connect("tab-x") == f"client {public_id('tab-x')}"
    assert lease.snapshot("tab-x")["name"] == f"client {public_id('tab-x')}"
    lease.connect("tab-y", "Desk")
    assert lease.name("tab-x", "Desk") == "Desk (2)"
    lease.disconnect("tab-x")
    assert lease.snapshot("tab-x")["name"] is None


def test_renaming_changes_what_everyone_sees(lease: OperatorLease) -> None:
    lease.connect("tab-a", "Desk")
    lease.acquire("tab-a")  # no label: the connected name
    assert lease.snapshot()["holder"]["label"] == "Desk"
    assert lease.name("tab-a", "  Tablet\nby the arm\x07 ") == "Tablet by the arm"
    assert lease.snapshot()["holder"]["label"] == "Tablet by the arm"
    assert lease.name("tab-b", "") == f"client {public_id('tab-b')}"  # no name: the short public tag


def test_a_holder_keeps_its_name_when_another_client_takes_the_same(lease: OperatorLease) -> None:
    lease.acquire("tab-a", "Mac · Safari")  # a REST script: no socket, the name is still in the book
    assert lease.request("tab-b", "Mac · Safari").holder["label"] == "Mac · Safari"
    assert lease.snapshot("tab-a")["request"]["label"] == "Mac · Safari (2)"


def test_the_notice_goes_once_the_holder_it_names_is_gone(lease: OperatorLease) -> None:
    lease.acquire("tab-a", "Alice")
    lease.request("tab-b", "Bob")
    lease.respond("tab-a", False)
    assert lease.snapshot("tab-b")["notice"] == "Alice kept control"
    lease.release("tab-a")  # Alice's tab closed: "Alice kept control" is old news
    assert lease.snapshot("tab-b")["notice"] is None
    assert lease.snapshot("tab-a")["notice"] == "you released control"
    lease.acquire("tab-b", "Bob")
    assert lease.snapshot("tab-a")["notice"] is None  # Bob holds it now: the panel says so itself
    assert lease.snapshot("tab-b")["notice"] is None


def test_a_forced_holder_is_told_while_the_taker_holds(lease: OperatorLease) -> None:
    lease.acquire("tab-a", "Alice")
    lease.acquire("tab-b", "Bob", force=True)
    assert lease.snapshot("tab-a")["notice"] == "Bob took control from you"
    assert "Bob took control from you" in lease.heartbeat("tab-a").reason
    lease.release("tab-b")
    assert lease.snapshot("tab-a")["notice"] is None
