"""A 202 (applied, outcome not yet confirmed) exits 0 and prints the pending detail.

A real server answers 202 only when a save outlives --loop.ack_timeout_s, which no test can make happen
on demand without slowing the recorder; the answer is fed at the client's HTTP boundary instead.
"""

from __future__ import annotations

import functools

import httpx
from rollout_console.client import ctl
from rollout_console.client.console import Console


def test_202_exits_0_and_prints_the_pending_detail(monkeypatch, capsys) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/commands/save" and request.content == b'{"outcome":"success"}'
        return httpx.Response(202, json={"accepted": True, "phase": "paused",
                                         "detail": "save is still in progress; watch the events for the outcome",
                                         "outcome": "pending"})

    monkeypatch.setattr(ctl, "Console", functools.partial(Console, transport=httpx.MockTransport(server)))
    assert ctl.main(["http://console.invalid", "save", "--outcome=success"]) == 0
    out = capsys.readouterr().out
    assert "outcome pending" in out and "still in progress" in out
