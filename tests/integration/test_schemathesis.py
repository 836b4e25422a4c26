"""Schemathesis over a live console: every documented operation, fuzzed, answers as its OpenAPI says.

A real uvicorn server on loopback serves a dagger session on the sim robot (leader arm, recording, lease);
the real `schemathesis` CLI runs in a second process against its /openapi.json. Bounded and repeatable:
a fixed number of examples per operation, deterministic generation, no example database, no response
time checks, generous request timeouts. ``stop`` is left out (it ends the session, and the CLI's process).

Checks: no 5xx, every status code, content type, header and body as documented, undocumented methods
answer 405 with an ``Allow`` that lists the documented ones, a missing required header is refused.
Not checked: whether every schema-valid request is accepted (423 and 409 depend on the lease and the
phase the fuzzer itself changes) and whether every schema-invalid one is refused.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from helpers import config, dataset_flags, live_server, wait_until

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
    "response_schema_conformance,unsupported_method,allow_header_conformance,missing_required_header"
)


@pytest.mark.timeout(600)
def test_fuzzed_requests_get_no_server_error_and_match_the_openapi(tmp_path) -> None:
    flags = dataset_flags(tmp_path / "ds", "dagger", "--dataset.video=false",
                          "--return_to_initial_position=false",
                          # a loaded machine must not turn into a 503: the fuzzer tests the API, not the pace
                          "--loop.command_timeout_s=60", "--loop.ack_timeout_s=120", "--lease.timeout_s=30")
    with live_server(config(*flags)) as live:
        wait_until(lambda: live.session.phase.value == "autonomous", timeout=60, message="autonomous")
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{live.url}/openapi.json",
             "--checks", CHECKS, "--exclude-operation-id", "command-stop",
             "--phases", "coverage,fuzzing", "--max-examples", "25", "--workers", "1",
             "--generation-deterministic",
             "--no-shrink", "--suppress-health-check", "all", "--request-timeout", "60",
             "--continue-on-failure", "--no-color", "--report-dir", str(tmp_path / "reports")],
            check=False, capture_output=True, text=True, timeout=540, cwd=tmp_path)
        output = run.stdout + run.stderr
        assert live.session.phase.value != "error", live.session.status()["error"]
    assert run.returncode == 0, output[-8000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts is not None, output[-3000:]
    generated, passed = int(counts[1]), int(counts[2])
    assert generated == passed and generated > 200, output[-3000:]  # it really ran, and nothing failed
