"""Make PyPI's torchvision 0.28 importable on the CPU build of torch 2.13.0.

PyPI only has a CUDA build of torchvision 0.28: its ``_C.so`` needs libtorch_cuda, so on CPU torch
it does not load, and ``import torchvision`` then fails in ``_meta_registrations`` ("operator
torchvision::nms does not exist") because fake kernels are registered for operators that were never
defined. Defining the schemas of those operators (without kernels) lets the import succeed; the
pure-Python parts LeRobot uses (``models``, ``transforms.v2``, ``ops.misc``) work, while the compiled
ops (``nms``, ``roi_align``, the ``io`` decoders) still raise "Couldn't load custom C++ ops".

When the real extension loads (a CUDA torch, or a matching CPU torchvision) this does nothing.
Import this module before anything imports torchvision; ``install()`` is idempotent.
"""

from __future__ import annotations

import importlib.util
import os
import sys

__all__ = ["install", "installed"]

# Operators torchvision 0.28 registers fake (meta) kernels for at import time.
_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)

_library: object | None = None
_state = "not run"


def installed() -> str:
    """What ``install`` did: "not run", "absent" (no torchvision), "native" (its compiled ops load),
    "schemas" (the missing operators were defined) or "preloaded" (torchvision was imported before)."""
    return _state


def install() -> str:
    global _library, _state
    if _state != "not run":
        return _state
    if "torchvision" in sys.modules:
        # too late to help an import that already happened (it succeeded, or it failed): leave it alone
        _state = "preloaded"
        return _state
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        _state = "absent"
        return _state
    import torch

    extension = os.path.join(os.path.dirname(spec.origin), "_C.so")
    try:
        torch.ops.load_library(extension)
    except (OSError, RuntimeError):
        library = torch.library.Library("torchvision", "DEF")
        for schema in _SCHEMAS:
            library.define(schema)
        _library = library  # keep the registration alive for the life of the process
        _state = "schemas"
    else:
        _state = "native"
    return _state


install()
