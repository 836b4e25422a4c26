"""AccessPolicy: loopback vs other addresses, tokens and roles, constant-time compare, origins, hosts."""

from __future__ import annotations

import hmac

import pytest
from rollout_console.api import auth
from rollout_console.api.auth import (
    TOKEN_ENV,
    VIEWER_TOKEN_ENV,
    AccessPolicy,
    Role,
    bearer_token,
    is_loopback,
    split_host_port,
)
from rollout_console.config.inputs import AuthConfig
from rollout_console.errors import ConfigError

OP = "operator-token-0123456789abcdef"
VIEW = "viewer-token-0123456789abcdef"


def lan(env: dict[str, str] | None = None, **config: object) -> AccessPolicy:
    return AccessPolicy.from_host(
        "0.0.0.0",
        8000,
        env or {},
        config=AuthConfig.model_validate(config),
        token_factory=lambda: "generated-token-0123456789",
    )


# ------------------------------------------------------------------------------ loopback


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LocalHost", "app.localhost", "::ffff:127.0.0.1"],
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "", "192.168.1.20", "10.0.0.1", "robot.lab", "localhost.evil.com", "128.0.0.1"]
)
def test_non_loopback_hosts(host: str) -> None:
    assert not is_loopback(host)


def test_loopback_needs_no_token() -> None:
    policy = AccessPolicy.from_host("127.0.0.1", 8000, {})
    assert not policy.required
    assert policy.role_for(None) is Role.OPERATOR and policy.role_for("anything") is Role.OPERATOR
    decision = policy.check(host_header="127.0.0.1:8000", method="POST", origin="http://127.0.0.1:8000")
    assert decision.allowed and decision.role is Role.OPERATOR and not decision.set_cookie
    assert policy.startup_lines() == ["rollout-console: open http://127.0.0.1:8000/"]


def test_loopback_with_a_token_in_the_environment_requires_it() -> None:
    policy = AccessPolicy.from_host("127.0.0.1", 8000, {TOKEN_ENV: OP})
    assert policy.required and not policy.generated
    assert policy.role_for(OP) is Role.OPERATOR and policy.role_for(None) is None


def test_loopback_can_be_told_to_require_a_token() -> None:
    policy = AccessPolicy.from_host(
        "127.0.0.1",
        8000,
        {},
        config=AuthConfig(require_token=True),
        token_factory=lambda: "generated-token-0123456789",
    )
    assert (
        policy.required
        and policy.generated
        and policy.role_for("generated-token-0123456789") is Role.OPERATOR
    )


# --------------------------------------------------------------------------- other hosts


def test_any_other_address_requires_a_generated_token() -> None:
    policy = lan()
    assert policy.required and policy.generated
    assert policy.role_for(None) is None and policy.role_for("wrong") is None
    assert policy.role_for("generated-token-0123456789") is Role.OPERATOR


def test_default_generator_uses_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def fake_token(nbytes: int) -> str:
        calls.append(nbytes)
        return "x" * 43

    monkeypatch.setattr(auth.secrets, "token_urlsafe", fake_token)
    policy = AccessPolicy.from_host("192.168.1.20", 8000, {})
    assert calls == [32] and policy.role_for("x" * 43) is Role.OPERATOR


def test_real_generated_tokens_differ() -> None:
    a = AccessPolicy.from_host("10.0.0.1", 8000, {}).access_url()
    b = AccessPolicy.from_host("10.0.0.1", 8000, {}).access_url()
    assert a != b and len(a.split("token=")[1]) >= 40


def test_environment_token_overrides_generation() -> None:
    policy = lan({TOKEN_ENV: OP})
    assert not policy.generated
    assert policy.role_for(OP) is Role.OPERATOR
    assert policy.role_for("generated-token-0123456789") is None


def test_viewer_role() -> None:
    policy = lan({TOKEN_ENV: OP, VIEWER_TOKEN_ENV: VIEW})
    assert policy.role_for(VIEW) is Role.VIEWER
    assert policy.role_for(OP) is Role.OPERATOR
    assert policy.role_for(VIEW[:-1]) is None and policy.role_for(OP + "x") is None


def test_viewer_token_alone_generates_the_operator_token() -> None:
    policy = AccessPolicy.from_host(
        "127.0.0.1", 8000, {VIEWER_TOKEN_ENV: VIEW}, token_factory=lambda: "generated-token-0123456789"
    )
    assert policy.required and policy.generated and policy.role_for(VIEW) is Role.VIEWER


@pytest.mark.parametrize(
    ("env", "flag", "text"),
    [
        ({TOKEN_ENV: ""}, TOKEN_ENV, "is set but empty"),
        ({TOKEN_ENV: "short"}, TOKEN_ENV, "too short (5 characters)"),
        ({TOKEN_ENV: "has spaces in the token value"}, TOKEN_ENV, "printable ASCII"),
        ({TOKEN_ENV: OP, VIEWER_TOKEN_ENV: OP}, VIEWER_TOKEN_ENV, "must differ"),
        ({VIEWER_TOKEN_ENV: "tiny"}, VIEWER_TOKEN_ENV, "too short"),
    ],
)
def test_bad_environment_tokens_name_the_variable(env: dict[str, str], flag: str, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        lan(env)
    assert info.value.flag == flag and text in str(info.value) and str(info.value).startswith(flag)


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    policy = lan({TOKEN_ENV: OP, VIEWER_TOKEN_ENV: VIEW})
    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert policy.role_for(OP) is Role.OPERATOR
    # Both tokens are compared every time, whichever matches.
    assert calls == [(OP.encode(), OP.encode()), (OP.encode(), VIEW.encode())]
    calls.clear()
    assert policy.role_for("nope") is None and len(calls) == 2


def test_non_ascii_token_is_simply_wrong() -> None:
    assert lan({TOKEN_ENV: OP}).role_for("tökén\udcff") is None


def test_tokens_never_appear_in_reprs() -> None:
    policy = lan({TOKEN_ENV: OP, VIEWER_TOKEN_ENV: VIEW})
    decision = policy.check(host_header="robot:8000", query_token=OP)
    assert OP not in repr(policy) and VIEW not in repr(policy) and OP not in repr(decision)


# ----------------------------------------------------------------------- where tokens come from


def test_bearer_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc  ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer") is None and bearer_token(None) is None and bearer_token("") is None


def test_token_from_header_query_or_cookie() -> None:
    policy = lan({TOKEN_ENV: OP, VIEWER_TOKEN_ENV: VIEW})
    assert policy.authenticate(authorization=f"Bearer {OP}") == (Role.OPERATOR, "bearer")
    assert policy.authenticate(query_token=VIEW) == (Role.VIEWER, "query")
    assert policy.authenticate(cookie_token=OP) == (Role.OPERATOR, "cookie")
    # A stale cookie does not shadow a good header, and a bad header falls through to a good cookie.
    assert policy.authenticate(authorization=f"Bearer {VIEW}", cookie_token="old") == (Role.VIEWER, "bearer")
    assert policy.authenticate(authorization="Bearer old", cookie_token=OP) == (Role.OPERATOR, "cookie")
    assert policy.authenticate() == (None, None)


def test_check_answers_401_without_or_with_a_wrong_token() -> None:
    policy = lan({TOKEN_ENV: OP})
    missing = policy.check(host_header="robot:8000")
    assert not missing.allowed and missing.status == 401 and missing.reason.startswith("a token is required")
    wrong = policy.check(host_header="robot:8000", authorization="Bearer nope")
    assert wrong.status == 401 and wrong.reason.startswith("invalid token")


def test_first_load_with_query_token_asks_for_the_cookie() -> None:
    policy = lan({TOKEN_ENV: OP})
    decision = policy.check(host_header="robot:8000", query_token=OP)
    assert (
        decision.allowed and decision.role is Role.OPERATOR and decision.set_cookie and decision.token == OP
    )
    settings = policy.cookie_settings(decision.token)
    assert settings == {
        "key": "rollout_console_token_8000",
        "value": OP,
        "httponly": True,
        "samesite": "lax",
        "path": "/",
        "secure": False,
    }
    later = policy.check(host_header="robot:8000", cookie_token=OP)
    assert later.allowed and not later.set_cookie and later.token is None


def test_cookie_name_is_per_port() -> None:
    assert (
        AccessPolicy.from_host("10.0.0.1", 8001, {TOKEN_ENV: OP}).cookie_name == "rollout_console_token_8001"
    )


# ---------------------------------------------------------------------------------- origins


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "robot:8000", True),  # not a browser (curl, a script): judged by its token
        ("http://robot:8000", "robot:8000", True),
        ("http://ROBOT:8000", "robot:8000", True),
        ("http://192.168.1.20:8000", "192.168.1.20:8000", True),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("https://robot.lab", "robot.lab", True),  # behind a TLS proxy: default ports
        ("https://robot.lab:443", "robot.lab", True),
        ("http://robot:80", "robot", True),
        ("http://robot:8001", "robot:8000", False),  # another port is another origin
        ("https://robot:8000", "robot:8000", True),  # same host:port (TLS terminated in front)
        ("http://evil.example", "robot:8000", False),
        ("http://robot.evil.example:8000", "robot:8000", False),
        ("null", "robot:8000", False),
        ("file://", "robot:8000", False),
        ("http://robot:8000", None, False),
        ("http://robot:8000", "robot:99999", False),
    ],
)
def test_origin_must_match_the_host(origin: str | None, host: str | None, allowed: bool) -> None:
    assert lan({TOKEN_ENV: OP}).origin_allowed(origin, host) is allowed


def test_allow_listed_origins() -> None:
    policy = lan({TOKEN_ENV: OP}, allowed_origins="https://Console.Lab:443")
    assert policy.origin_allowed("https://console.lab", "10.0.0.5:8000")
    assert not policy.origin_allowed("https://other.lab", "10.0.0.5:8000")


def test_cross_site_websocket_and_post_are_refused_even_with_a_token() -> None:
    policy = lan({TOKEN_ENV: OP})
    ws = policy.check(host_header="robot:8000", origin="http://evil.example", websocket=True, cookie_token=OP)
    assert not ws.allowed and ws.status == 403 and "origin 'http://evil.example' is not allowed" in ws.reason
    post = policy.check(
        host_header="robot:8000", origin="http://evil.example", method="POST", cookie_token=OP
    )
    assert post.status == 403
    get = policy.check(host_header="robot:8000", origin="http://evil.example", method="GET", cookie_token=OP)
    assert get.allowed  # reads are protected by CORS (no CORS headers are sent), not by this check
    own = policy.check(host_header="robot:8000", origin="http://robot:8000", websocket=True, query_token=OP)
    assert own.allowed


def test_loopback_refuses_cross_site_posts_without_any_token() -> None:
    policy = AccessPolicy.from_host("127.0.0.1", 8000, {})
    refused = policy.check(host_header="127.0.0.1:8000", origin="https://evil.example", method="POST")
    assert not refused.allowed and refused.status == 403


# -------------------------------------------------------------------------- hosts (rebinding)


def test_loopback_refuses_foreign_host_headers() -> None:
    policy = AccessPolicy.from_host("127.0.0.1", 8000, {})
    assert policy.host_allowed("127.0.0.1:8000") and policy.host_allowed("localhost:8000")
    assert policy.host_allowed("[::1]:8000")
    assert not policy.host_allowed("rebind.evil.example:8000")
    assert not policy.host_allowed(None) and not policy.host_allowed("[::1")
    decision = policy.check(host_header="rebind.evil.example:8000")
    assert decision.status == 403 and "allowed_hosts" in decision.reason


def test_loopback_allowed_hosts_for_a_local_proxy() -> None:
    policy = AccessPolicy.from_host("127.0.0.1", 8000, {}, config=AuthConfig(allowed_hosts=["robot.lab"]))
    assert policy.host_allowed("robot.lab") and policy.host_allowed("ROBOT.LAB:443")
    assert not policy.host_allowed("other.lab")


def test_other_addresses_accept_any_host_name() -> None:
    assert lan({TOKEN_ENV: OP}).host_allowed("whatever.local:8000")


def test_split_host_port() -> None:
    assert split_host_port("Robot:8000") == ("robot", 8000)
    assert split_host_port("robot") == ("robot", None)
    assert split_host_port("[::1]:80") == ("[::1]", 80)
    assert split_host_port("::1") == ("[::1]", None)
    for bad in ("robot:abc", "robot:0", "[::1]x", ":80", ""):
        with pytest.raises(ValueError):
            split_host_port(bad)


# --------------------------------------------------------------------------- printing the URL


def test_generated_token_is_printed_once_as_a_url() -> None:
    policy = lan()
    lines = policy.startup_lines(hostname=lambda: "robot-pc")
    assert lines[0] == "rollout-console: open http://robot-pc:8000/?token=generated-token-0123456789"
    assert any("plain HTTP" in line for line in lines)


def test_environment_token_is_not_printed() -> None:
    policy = AccessPolicy.from_host("192.168.1.20", 8000, {TOKEN_ENV: OP, VIEWER_TOKEN_ENV: VIEW})
    text = "\n".join(policy.startup_lines())
    assert OP not in text and VIEW not in text
    assert f"http://192.168.1.20:8000/?token=<{TOKEN_ENV}>" in text
    assert f"viewers open http://192.168.1.20:8000/?token=<{VIEWER_TOKEN_ENV}>" in text


def test_access_url_quotes_and_brackets() -> None:
    policy = AccessPolicy.from_host("fe80::1", 9000, {TOKEN_ENV: "a+b/c=d&e-0123456789abcdef"})
    assert policy.access_url() == "http://[fe80::1]:9000/?token=a%2Bb%2Fc%3Dd%26e-0123456789abcdef"
    assert (
        AccessPolicy.from_host("::", 1, {TOKEN_ENV: OP}).access_url(with_token=False, hostname=lambda: "box")
        == "http://box:1/"
    )


def test_required_policy_needs_a_token() -> None:
    with pytest.raises(ValueError):
        AccessPolicy(bind_host="0.0.0.0", port=1, required=True)
