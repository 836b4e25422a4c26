"""Access control: who may open the console, with which role, from which origin (pure logic, no web imports).

Policy:

* Bound to a loopback address (127.0.0.0/8, ::1, localhost) nobody needs a token, unless a token is given
  in the environment or ``--server.auth.require_token=true`` (a reverse proxy on this machine makes
  loopback traffic remote). Every other address (including 0.0.0.0) requires the operator token.
* The operator token comes from ``ROLLOUT_CONSOLE_TOKEN`` or is generated at start
  (``secrets.token_urlsafe(32)``) and printed once as a URL; ``ROLLOUT_CONSOLE_VIEWER_TOKEN`` adds a
  viewer role (sees everything, may only ``estop``).
* A token is accepted from ``Authorization: Bearer``, the ``token`` query parameter (first page load,
  WebSocket) or the cookie the page gets after a load with ``?token=``; tokens are compared in constant
  time with ``hmac.compare_digest``.
* Browsers: a WebSocket or a state-changing request that carries an ``Origin`` must come from the server's
  own origin (same host:port as the ``Host`` header) or an allowed origin, which stops cross-site pages
  (CSRF, cross-site WebSocket hijacking). While bound to loopback the ``Host`` header must name a loopback
  host or an allowed host, which stops DNS rebinding. Clients without ``Origin`` (scripts) are not browsers
  and are judged by their token alone.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from ..config.inputs import AuthConfig, normalize_origin
from ..errors import ConfigError

__all__ = [
    "MIN_TOKEN_LENGTH",
    "QUERY_PARAM",
    "TOKEN_ENV",
    "VIEWER_TOKEN_ENV",
    "AccessDecision",
    "AccessPolicy",
    "Role",
    "bearer_token",
    "is_loopback",
    "split_host_port",
]

TOKEN_ENV = "ROLLOUT_CONSOLE_TOKEN"
VIEWER_TOKEN_ENV = "ROLLOUT_CONSOLE_VIEWER_TOKEN"
QUERY_PARAM = "token"
MIN_TOKEN_LENGTH = 16
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 (bracketed or not, IPv4-mapped too) and localhost; 0.0.0.0 is not."""
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def split_host_port(value: str) -> tuple[str, int | None]:
    """``host[:port]`` or ``[v6]:port`` from a Host header, host lower-cased; ValueError if malformed."""
    text = value.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"malformed host {value!r}")
        host, rest = text[: end + 1], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"malformed host {value!r}")
        port_text = rest[1:] if rest else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" in text:  # a bare IPv6 address without brackets
        host, port_text = f"[{text}]", ""
    else:
        host, port_text = text, ""
    if not host or host == "[]":
        raise ValueError(f"malformed host {value!r}")
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"malformed port in {value!r}")
    return host, int(port_text)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """Outcome of ``AccessPolicy.check``: answer ``status`` with ``reason`` when not allowed.

    ``set_cookie`` asks the integrator to set ``policy.cookie_settings(token)`` on the response, because the
    token came in the URL (the page's first load).
    """

    allowed: bool
    role: Role | None
    status: int
    reason: str
    set_cookie: bool = False
    token: str | None = None

    def __repr__(self) -> str:  # never print the token
        return (
            f"AccessDecision(allowed={self.allowed}, role={self.role}, status={self.status}, "
            f"reason={self.reason!r}, set_cookie={self.set_cookie})"
        )


def _env_token(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    if not value:
        raise ConfigError("is set but empty; unset it to have a token generated", flag=name)
    if len(value) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"is too short ({len(value)} characters); use at least {MIN_TOKEN_LENGTH}, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`",
            flag=name,
        )
    if not value.isascii() or not value.isprintable() or " " in value:
        raise ConfigError("must be printable ASCII without spaces", flag=name)
    return value


class AccessPolicy:
    """Decides who is let in. Build it once at start with ``from_host`` and keep it on ``app.state``."""

    def __init__(
        self,
        *,
        bind_host: str,
        port: int,
        required: bool,
        operator_token: str | None = None,
        viewer_token: str | None = None,
        generated: bool = False,
        allowed_origins: tuple[str, ...] = (),
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        if required and not operator_token:
            raise ValueError("auth: an operator token is required when access is restricted")
        self.bind_host = bind_host
        self.port = port
        self.required = required
        self._operator = operator_token.encode() if operator_token else None
        self._viewer = viewer_token.encode() if viewer_token else None
        self.generated = generated
        self.allowed_origins = frozenset(normalize_origin(origin) for origin in allowed_origins)
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)

    @classmethod
    def from_host(
        cls,
        host: str,
        port: int,
        env: Mapping[str, str] | None = None,
        *,
        config: AuthConfig | None = None,
        token_factory: Callable[[], str] = lambda: secrets.token_urlsafe(32),
    ) -> AccessPolicy:
        """The policy for a server bound to ``host:port``; ``env`` defaults to ``os.environ``.

        Raises ConfigError (naming the variable) for an unusable token in the environment.
        """
        env = os.environ if env is None else env
        config = config or AuthConfig()
        operator, viewer = _env_token(env, TOKEN_ENV), _env_token(env, VIEWER_TOKEN_ENV)
        required = not is_loopback(host) or config.require_token or operator is not None or viewer is not None
        generated = False
        if required and operator is None:
            operator, generated = token_factory(), True
        if viewer is not None and hmac.compare_digest(viewer.encode(), (operator or "").encode()):
            raise ConfigError(
                f"must differ from {TOKEN_ENV}, or viewers would be operators", flag=VIEWER_TOKEN_ENV
            )
        return cls(
            bind_host=host,
            port=port,
            required=required,
            operator_token=operator if required else None,
            viewer_token=viewer if required else None,
            generated=generated,
            allowed_origins=tuple(config.allowed_origins),
            allowed_hosts=tuple(config.allowed_hosts),
        )

    def __repr__(self) -> str:
        return (
            f"AccessPolicy(bind_host={self.bind_host!r}, port={self.port}, required={self.required}, "
            f"viewer_role={self._viewer is not None})"
        )

    # ------------------------------------------------------------------ tokens

    def role_for(self, token: str | None) -> Role | None:
        """The role a token grants (constant-time compares), or None. Without restriction: operator."""
        if not self.required:
            return Role.OPERATOR
        if not token:
            return None
        given = token.encode("utf-8", "surrogateescape")
        # Compare against both tokens every time so timing does not tell which one nearly matched.
        is_operator = hmac.compare_digest(given, self._operator or b"")
        is_viewer = self._viewer is not None and hmac.compare_digest(given, self._viewer)
        if is_operator:
            return Role.OPERATOR
        return Role.VIEWER if is_viewer else None

    def authenticate(
        self,
        *,
        authorization: str | None = None,
        query_token: str | None = None,
        cookie_token: str | None = None,
    ) -> tuple[Role | None, str | None]:
        """Role and where its token came from (``bearer``, ``query``, ``cookie``); first match wins."""
        for source, token in (
            ("bearer", bearer_token(authorization)),
            ("query", query_token),
            ("cookie", cookie_token),
        ):
            if token:
                role = self.role_for(token)
                if role is not None:
                    return role, source
        return (Role.OPERATOR, None) if not self.required else (None, None)

    # ----------------------------------------------------------------- origins

    def host_allowed(self, host_header: str | None) -> bool:
        """While bound to loopback, the Host header must name a loopback or allowed host (DNS rebinding)."""
        if not is_loopback(self.bind_host):
            return True
        if not host_header:
            return False
        try:
            host, port = split_host_port(host_header)
        except ValueError:
            return False
        named = host if port is None else f"{host}:{port}"
        return is_loopback(host) or host in self.allowed_hosts or named in self.allowed_hosts

    def origin_allowed(self, origin: str | None, host_header: str | None) -> bool:
        """A browser Origin must be this server's own origin (from Host) or allowed; None is a script."""
        if origin is None:
            return True
        try:
            normalized = normalize_origin(origin)
        except ValueError:
            return False  # includes the opaque origin "null" (sandboxed frames, file://)
        if normalized in self.allowed_origins:
            return True
        if not host_header:
            return False
        try:
            host, port = split_host_port(host_header)
        except ValueError:
            return False
        scheme = normalized.split("://", 1)[0]
        try:
            own = normalize_origin(f"{scheme}://{host}" + (f":{port}" if port is not None else ""))
        except ValueError:
            return False
        return normalized == own

    # ------------------------------------------------------------------- check

    def check(
        self,
        *,
        host_header: str | None,
        origin: str | None = None,
        method: str = "GET",
        websocket: bool = False,
        authorization: str | None = None,
        query_token: str | None = None,
        cookie_token: str | None = None,
    ) -> AccessDecision:
        """Everything a FastAPI dependency or WebSocket handler needs, in one call (see the module doc)."""
        if not self.host_allowed(host_header):
            return AccessDecision(
                False,
                None,
                403,
                f"host {host_header!r} is not allowed while bound to "
                f"{self.bind_host} (add it with --server.auth.allowed_hosts)",
            )
        if (websocket or method.upper() not in _SAFE_METHODS) and not self.origin_allowed(
            origin, host_header
        ):
            return AccessDecision(
                False,
                None,
                403,
                f"origin {origin!r} is not allowed (add it with --server.auth.allowed_origins)",
            )
        role, source = self.authenticate(
            authorization=authorization, query_token=query_token, cookie_token=cookie_token
        )
        if role is None:
            given = any((bearer_token(authorization), query_token, cookie_token))
            reason = "invalid token" if given else "a token is required"
            return AccessDecision(
                False,
                None,
                401,
                f"{reason}: open the URL printed at start "
                f"(.../?{QUERY_PARAM}=...) or send 'Authorization: Bearer <token>'",
            )
        token = query_token if source == "query" else None
        return AccessDecision(
            True,
            role,
            200,
            f"{role.value} ({source or 'no token needed'})",
            set_cookie=source == "query",
            token=token,
        )

    # -------------------------------------------------------------- cookie, URL

    @property
    def cookie_name(self) -> str:
        """Per port: browsers share cookies across ports of one host, and two consoles must not collide."""
        return f"rollout_console_token_{self.port}"

    def cookie_settings(self, token: str, *, secure: bool = False) -> dict[str, Any]:
        """Keyword arguments for starlette's ``Response.set_cookie``."""
        return {
            "key": self.cookie_name,
            "value": token,
            "httponly": True,
            "samesite": "lax",
            "path": "/",
            "secure": secure,
        }

    def access_url(self, *, with_token: bool = True, hostname: Callable[[], str] = socket.gethostname) -> str:
        """``http://host:port/`` (``?token=`` added for a generated token); 0.0.0.0 shows the host name."""
        host = self.bind_host
        if host in _WILDCARD_HOSTS:
            host = hostname()
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        url = f"http://{host}:{self.port}/"
        if with_token and self.required and self._operator is not None:
            url += f"?{QUERY_PARAM}={quote(self._operator.decode(), safe='')}"
        return url

    def startup_lines(self, *, hostname: Callable[[], str] = socket.gethostname) -> list[str]:
        """What the CLI prints once at start (to the terminal, not to a log file: it may hold the token)."""
        if not self.required:
            return [f"rollout-console: open {self.access_url(hostname=hostname)}"]
        lines = []
        if self.generated:
            lines.append(f"rollout-console: open {self.access_url(hostname=hostname)}")
            lines.append(
                f"rollout-console: (operator token generated for this run; set {TOKEN_ENV} to fix it)"
            )
        else:
            plain = self.access_url(with_token=False, hostname=hostname)
            lines.append(f"rollout-console: open {plain}?{QUERY_PARAM}=<{TOKEN_ENV}>")
        if self._viewer is not None:
            lines.append(
                f"rollout-console: viewers open {self.access_url(with_token=False, hostname=hostname)}"
                f"?{QUERY_PARAM}=<{VIEWER_TOKEN_ENV}>"
            )
        if not is_loopback(self.bind_host):
            lines.append(
                "rollout-console: plain HTTP: on an untrusted network use a TLS reverse proxy or an SSH "
                "tunnel, the token travels in clear"
            )
        return lines
