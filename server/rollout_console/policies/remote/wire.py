"""Field names of the openpi WebSocket protocol and of our RTC extension (client and server share them).

openpi: on connect the server sends one binary frame, its metadata (a map, often empty); then each
binary frame from the client is an observation map and each reply a map holding the actions
(``"actions"``, shape (H, D)); a text frame from the server is an error message (openpi sends the
traceback, then closes with 1011). The client may send ``Authorization: Api-Key <key>``.

RTC extension (ours, documented in docs/remote.md). A server that implements it says so in its
metadata: ``{"rtc": {"version": 1}}``. A client that sees it may add to an observation::

    "rtc": {"prefix": float32 (P, D),          # unexecuted rows of the current chunk, row 0 = the
                                               #   action executed at this observation's tick
            "inference_delay": int,            # rows executed from the old chunk before the new one lands
            "execution_horizon": int,          # end of the guided region (LeRobot naming)
            "schedule": "ZEROS"|"ONES"|"LINEAR"|"EXP",
            "max_guidance_weight": float}

The server then inpaints the new chunk onto the prefix. Servers without the extension never see it.
Metadata may also name ``action_horizon`` (H), ``action_dim`` (D) and ``action_names`` so the
client can check them against the robot before anything moves.
"""

from __future__ import annotations

__all__ = [
    "API_KEY_ENV",
    "CLIENT_HEADER",
    "META_ACTION_DIM",
    "META_ACTION_HORIZON",
    "META_ACTION_NAMES",
    "META_RTC",
    "RTC_FIELD",
    "RTC_VERSION",
    "auth_header",
]

API_KEY_ENV = "ROLLOUT_POLICY_API_KEY"
CLIENT_HEADER = "X-Rollout-Client"  # one id per console process: its reconnects replace its old connection
META_ACTION_HORIZON = "action_horizon"
META_ACTION_DIM = "action_dim"
META_ACTION_NAMES = "action_names"
META_RTC = "rtc"
RTC_FIELD = "rtc"
RTC_VERSION = 1


def auth_header(key: str) -> tuple[str, str]:
    """The header openpi-client sends when it has an API key."""
    return ("Authorization", f"Api-Key {key}")
