"""msgpack with numpy arrays, byte-compatible with openpi-client's ``msgpack_numpy``.

The wire format (openpi's WebSocket policy protocol): every message is one msgpack document; a numpy
array is a map with **bytes** keys, in this order::

    {b"__ndarray__": True, b"data": <raw bytes, C order>, b"dtype": dtype.str, b"shape": [..]}

and a numpy scalar is ``{b"__npgeneric__": True, b"data": <python value>, b"dtype": dtype.str}``.
Strings are msgpack str, bytes are msgpack bin (``use_bin_type``). Object, void and complex dtypes
are refused: they cannot be rebuilt from raw bytes safely. Nothing here ever unpickles: decoding
only builds plain containers, numbers, strings and numpy arrays of plain dtypes.
"""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np

__all__ = ["CodecError", "packb", "unpackb"]

_ARRAY = b"__ndarray__"
_SCALAR = b"__npgeneric__"
_REFUSED_KINDS = ("V", "O", "c")


class CodecError(ValueError):
    """A message could not be encoded or decoded (unsupported dtype, malformed array map)."""


def _encode(obj: Any) -> Any:
    if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype.kind in _REFUSED_KINDS:
        raise CodecError(f"cannot send numpy dtype {obj.dtype} over msgpack")
    if isinstance(obj, np.ndarray):
        array = np.ascontiguousarray(obj)
        return {_ARRAY: True, b"data": array.tobytes(), b"dtype": array.dtype.str, b"shape": list(array.shape)}
    if isinstance(obj, np.generic):
        return {_SCALAR: True, b"data": obj.item(), b"dtype": obj.dtype.str}
    raise TypeError(f"cannot encode {type(obj).__name__} as msgpack")


def _dtype(value: Any) -> np.dtype:
    text = value.decode() if isinstance(value, bytes) else value
    try:
        dtype = np.dtype(str(text))
    except TypeError as exc:
        raise CodecError(f"unknown dtype {text!r}") from exc
    if dtype.kind in _REFUSED_KINDS:
        raise CodecError(f"refusing numpy dtype {dtype} from the network")
    return dtype


def _decode(obj: dict[Any, Any]) -> Any:
    if obj.get(_ARRAY) is True:
        try:
            dtype = _dtype(obj[b"dtype"])
            shape = tuple(int(n) for n in obj[b"shape"])
            data = obj[b"data"]
        except (KeyError, TypeError, ValueError) as exc:
            raise CodecError(f"malformed array map: {exc}") from exc
        if not isinstance(data, (bytes, bytearray)):
            raise CodecError("malformed array map: data is not bytes")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if count * dtype.itemsize != len(data):
            raise CodecError(f"array of shape {shape} and dtype {dtype} needs {count * dtype.itemsize} bytes, "
                             f"got {len(data)}")
        return np.frombuffer(data, dtype=dtype).reshape(shape)
    if obj.get(_SCALAR) is True:
        try:
            return _dtype(obj[b"dtype"]).type(obj[b"data"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CodecError(f"malformed scalar map: {exc}") from exc
    return obj


def packb(obj: Any) -> bytes:
    """Encode ``obj`` (dicts, lists, str, numbers, bytes, numpy arrays and scalars) as msgpack."""
    return msgpack.packb(obj, default=_encode, use_bin_type=True)


def unpackb(data: bytes) -> Any:
    """Decode one msgpack document; arrays come back as read-only numpy views of the message."""
    try:
        return msgpack.unpackb(data, object_hook=_decode, raw=False, strict_map_key=False)
    except CodecError:
        raise
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise CodecError(f"not a msgpack message: {exc}") from exc
