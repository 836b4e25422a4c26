"""status.task_instruction: what the robot is asked to do (--task, else --dataset.single_task), in the REST
status, the typed client and the OpenAPI schema."""

from __future__ import annotations

import httpx
from helpers import config, live_server
from rollout_console.client import Console


def test_the_status_says_what_the_robot_is_asked_to_do() -> None:
    with live_server(config("--task=Put the cube in the bowl")) as live:
        status = httpx.get(live.url + "/api/v1/status", timeout=30).json()
        assert status["task_instruction"] == "Put the cube in the bowl"
        with Console(live.url) as console:
            assert console.status().task_instruction == "Put the cube in the bowl"
        schema = httpx.get(live.url + "/openapi.json", timeout=30).json()["components"]["schemas"]["StatusPublic"]
        assert "task_instruction" in schema["properties"]


def test_no_task_is_null_not_an_empty_string() -> None:
    with live_server(config()) as live:
        assert httpx.get(live.url + "/api/v1/status", timeout=30).json()["task_instruction"] is None
