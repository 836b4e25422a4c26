"""The command table, the outcomes and their one mapping to HTTP."""

from __future__ import annotations

from concurrent.futures import Future

import pytest
from rollout_console.api.outcomes import HTTP_STATUS, AccessRefusal, ack_fields, http_status
from rollout_console.api.routes.commands import router
from rollout_console.protocol.commands import (
    COMMAND_LABELS,
    COMMAND_NAMES,
    COMMANDS,
    ArgsError,
    CommandOutcome,
    CommandResult,
    EmptyBody,
    ExcludeBody,
    SaveBody,
    validate_args,
)
from rollout_console.protocol.phases import Phase
from rollout_console.strategies.recording import Recording


def test_outcomes_are_the_agreed_words() -> None:
    assert [o.value for o in CommandOutcome] == ["applied", "already", "pending", "invalid_now", "unknown",
                                                 "bad_args", "timed_out", "failed"]


def test_http_codes_are_todays_and_mapped_once() -> None:
    assert HTTP_STATUS == {
        CommandOutcome.APPLIED: 200, CommandOutcome.ALREADY: 200, CommandOutcome.PENDING: 202,
        CommandOutcome.INVALID_NOW: 409, CommandOutcome.FAILED: 409, CommandOutcome.UNKNOWN: 404,
        CommandOutcome.BAD_ARGS: 422, CommandOutcome.TIMED_OUT: 503,
    }
    assert set(HTTP_STATUS) == set(CommandOutcome)


def test_ws_ack_fields_carry_status_and_outcome() -> None:
    refused = CommandResult.refused(Phase.PAUSED, "bad", CommandOutcome.BAD_ARGS)
    assert ack_fields(refused) == {"accepted": False, "status": 422, "outcome": "bad_args", "phase": "paused",
                                   "detail": "bad"}
    lease = AccessRefusal(423, Phase.AUTONOMOUS, "Alice holds control")
    assert ack_fields(lease)["status"] == 423 and ack_fields(lease)["outcome"] is None


def test_the_table_has_every_command_once_with_help_and_a_model() -> None:
    assert COMMAND_NAMES == tuple(COMMANDS) and len(set(COMMAND_NAMES)) == len(COMMAND_NAMES) == 14
    for name, spec in COMMANDS.items():
        assert spec.name == name and spec.help.endswith(".") and len(spec.help) > 10, name
        assert spec.args.model_json_schema()["type"] == "object"
    assert COMMANDS["save"].args is SaveBody and COMMANDS["exclude"].args is ExcludeBody
    assert COMMANDS["pause"].args is EmptyBody


def test_every_command_has_one_operator_label() -> None:
    assert COMMAND_LABELS == {
        "pause": "Pause", "resume": "Resume", "takeover": "Take over", "handback": "Hand back", "mark": "Mark",
        "save": "Save", "discard": "Discard", "upload": "Upload", "stop": "Stop", "estop": "E-STOP",
        "reset": "Clear E-STOP", "end_reset": "End reset", "end_episode": "End episode", "exclude": "Exclude",
    }
    assert all(COMMANDS[name].label == label for name, label in COMMAND_LABELS.items())
    assert len(set(COMMAND_LABELS.values())) == len(COMMAND_LABELS), "two commands may not share a label"


def test_reset_clears_an_estop_and_resume_says_so() -> None:
    assert COMMAND_NAMES.index("reset") == COMMAND_NAMES.index("estop") + 1
    assert "reset" in COMMANDS["resume"].help and "reset" in COMMANDS["estop"].help
    assert COMMANDS["reset"].args is EmptyBody


def test_rest_routes_are_built_from_the_table() -> None:
    routes = {route.path.rsplit("/", 1)[-1]: route for route in router.routes}  # type: ignore[attr-defined]
    for name, spec in COMMANDS.items():
        route = routes[name]
        assert route.summary == spec.help  # type: ignore[attr-defined]
        body = route.body_field  # type: ignore[attr-defined]
        assert body is not None and spec.args.__name__ in repr(body.field_info.annotation), name


def test_validate_args_uses_the_tables_model() -> None:
    assert validate_args("exclude", {"episode": 2, "reason": "cube fell"}) == {"episode": 2, "reason": "cube fell"}
    with pytest.raises(ArgsError) as info:
        validate_args("exclude", {"episode": 0, "reason": "x"})
    assert info.value.issues[0]["loc"] == ["args", "episode"] and "exclude" in str(info.value)


def test_a_failed_save_is_failed_and_409_not_500() -> None:
    saved: Future = Future()
    acknowledged = Recording.acknowledge(saved, Phase.PAUSED)
    saved.set_exception(OSError("No space left on device"))
    result = acknowledged.result(timeout=5)
    assert not result.accepted and result.outcome is CommandOutcome.FAILED and "No space left" in result.detail
    assert http_status(result.outcome) == 409
