"""Strict JSON on the wire, the client-id rule, safe 422 issues and the shared command-argument models."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rollout_console.protocol.commands import ArgsError, validate_args
from rollout_console.api.errors import MAX_ECHO_CHARS, clean_issues
from rollout_console.api.lease import CLIENT_ID_RULE, client_id_problem
from rollout_console.api.wire import MAX_JSON_DEPTH, WireError, json_depth, parse_json


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", '{"a": [1, NaN]}', "1e999", "-1e400"])
def test_non_finite_numbers_are_refused(text: str) -> None:
    with pytest.raises(WireError, match="finite") as info:
        parse_json(text)
    assert info.value.status == 422 and info.value.kind == "json_invalid"


def test_nesting_is_bounded_without_recursion_errors() -> None:
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_depth(parse_json(ok)) == MAX_JSON_DEPTH
    for text in ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "[" * 100_000, '{"a":' * 5000):
        with pytest.raises(WireError, match="nested") as info:
            parse_json(text)
        assert info.value.kind == "json_too_deep"


def test_bytes_must_be_utf8_and_json() -> None:
    assert parse_json(b'{"outcome": "success", "n": 1.5}') == {"outcome": "success", "n": 1.5}
    with pytest.raises(WireError, match="UTF-8") as info:
        parse_json(b'{"a": "\xff"}')
    assert info.value.status == 400
    for bad in ("{not json", "", "1" * 5000):  # the last: longer than Python's int-string limit
        with pytest.raises(WireError) as info:
            parse_json(bad)
        assert info.value.status == 422


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda children: st.lists(children) | st.dictionaries(st.text(), children),
                    max_leaves=20))
def test_any_finite_shallow_json_round_trips(value) -> None:
    if json_depth(value) <= MAX_JSON_DEPTH:
        assert parse_json(json.dumps(value)) == value


@pytest.mark.parametrize("good", ["tab-x1", "a", "x" * 128, "script:nightly@lab/2", "~!#$%&'*+.^_`|"])
def test_client_ids_that_follow_the_rule(good: str) -> None:
    assert client_id_problem(good) is None


@pytest.mark.parametrize("bad", ["", "x" * 129, "x" * 200, "tab\there", "two words", "caf\u00e9", "nul\x00", None, 5])
def test_client_ids_that_break_the_rule_name_it(bad) -> None:
    problem = client_id_problem(bad)
    assert problem is not None and CLIENT_ID_RULE in problem


def test_issues_never_echo_large_or_non_finite_input() -> None:
    issues = clean_issues([
        {"type": "t", "loc": ("body", "x", 0), "msg": "bad", "input": float("nan")},
        {"type": "t", "loc": ("body",), "msg": "bad", "input": "y" * 10_000},
        {"type": "t", "loc": ("body",), "msg": "bad", "input": b"\xff\xfe"},
        {"type": "t", "loc": ("body",), "msg": "bad", "input": {"ok": 1}, "ctx": {"error": ValueError("why")}},
    ])
    text = json.dumps(issues, allow_nan=False)  # always serialisable
    assert "yyyy" not in text and len(text) < 4 * (MAX_ECHO_CHARS + 200)
    assert issues[0]["loc"] == ["body", "x", 0] and issues[0]["input"].startswith("<not echoed")
    assert issues[1]["input"] == "<not echoed: 10002 characters>"
    assert issues[3]["input"] == {"ok": 1} and issues[3]["ctx"] == {"error": "why"}


def test_command_arguments_use_the_rest_models() -> None:
    assert validate_args("save", {"outcome": "success"}) == {"outcome": "success"}
    assert validate_args("save", None) == {} and validate_args("pause", {}) == {}
    for name, raw in (("save", {"outcome": "maybe"}), ("pause", {"speed": 3}), ("save", [1]), ("estop", "now")):
        with pytest.raises(ArgsError) as info:
            validate_args(name, raw)
        assert info.value.issues[0]["loc"][0] == "args" and name in str(info.value)
