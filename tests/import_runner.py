"""Import each given module of rollout_console first, in its own fresh process: ``python import_runner.py m...``.

Run as a script by ``tests/unit/test_imports_first.py``. This interpreter imports the heavy third-party
libraries once (numpy, torch, fastapi, ...; none of ``rollout_console``), then forks one child per module,
so every child starts with no ``rollout_console`` module loaded and imports exactly one module first: an
import cycle inside the package shows up as an ImportError. Forking keeps ~100 fresh imports fast.

Prints one JSON object per module: ``{"module", "ok", "error", "missing"}``; ``missing`` names a top-level
module that is not installed when that was the cause (the test decides whether that may be skipped).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
import traceback

_PRELOAD = ("numpy", "torch", "pydantic", "fastapi", "starlette", "uvicorn", "cv2", "av", "pyarrow",
            "huggingface_hub", "httpx", "websockets", "msgpack", "jinja2", "PIL", "scipy")
"""Third-party libraries loaded before forking (speed only: a missing one is simply not preloaded)."""

_PARALLEL = 4


def _child(module: str, write_fd: int) -> None:
    result: dict[str, object] = {"module": module, "ok": True, "error": None, "missing": None}
    started = time.perf_counter()
    try:
        importlib.import_module(module)
    except BaseException as exc:  # report everything, including SystemExit from a module body
        result["ok"] = False
        result["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            top = exc.name.split(".")[0]
            if top != "rollout_console" and importlib.util.find_spec(top) is None:
                result["missing"] = top
        result["traceback"] = traceback.format_exc()[-4000:]
    result["seconds"] = round(time.perf_counter() - started, 3)
    result["loaded"] = sorted(name for name in sys.modules if name.startswith("rollout_console"))
    os.write(write_fd, json.dumps(result).encode())
    os.close(write_fd)


def _start(module: str) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: import, report, leave without running the parent's cleanup
        os.close(read_fd)
        code = 0
        try:
            _child(module, write_fd)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def _collect(module: str, pid: int, read_fd: int) -> dict[str, object]:
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if chunks:
        return json.loads(b"".join(chunks))
    return {"module": module, "ok": False, "missing": None,
            "error": f"the child importing {module} died (wait status {status}) without a report"}


def _third_party_of(modules: list[str]) -> list[str]:
    """The modules outside rollout_console that importing all of ``modules`` loads (found in a child)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        for module in modules:
            try:
                importlib.import_module(module)
            except BaseException:
                pass
        names = [name for name in sys.modules if not name.startswith(("rollout_console", "__main__"))]
        os.write(write_fd, json.dumps(names).encode())
        os._exit(0)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 1 << 20):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks)) if chunks else []


def _preload(names: list[str] | tuple[str, ...]) -> None:
    for name in names:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except BaseException:
            pass


def main(modules: list[str]) -> int:
    assert not any(name.startswith("rollout_console") for name in sys.modules), "rollout_console preloaded"
    _preload(_PRELOAD)
    # every library the package uses, loaded once here: the children then run only the package's own code
    _preload([name for name in _third_party_of(modules) if name not in sys.modules])
    assert not any(name.startswith("rollout_console") for name in sys.modules), "a preload imported the package"
    # Parents first. Python imports a module's parent package before the module itself, so when the fresh
    # import of the parent already loaded the module (a package whose __init__ imports its modules), importing
    # the module first runs exactly the same code in the same order: its result is the parent's.
    results: dict[str, dict[str, object]] = {}
    for depth in sorted({module.count(".") for module in modules}):
        wave = []
        for module in (m for m in modules if m.count(".") == depth):
            parent = results.get(module.rpartition(".")[0])
            if parent is not None and parent["ok"] and module in parent["loaded"]:
                results[module] = {**parent, "module": module, "same_as": parent.get("same_as") or parent["module"]}
            else:
                wave.append(module)
        running: list[tuple[str, int, int]] = []
        for module in wave:
            running.append((module, *_start(module)))
            if len(running) >= _PARALLEL:
                done = _collect(*running.pop(0))
                results[str(done["module"])] = done
        for item in running:
            done = _collect(*item)
            results[str(done["module"])] = done
    for module in modules:
        print(json.dumps({k: v for k, v in results[module].items() if k != "loaded"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
