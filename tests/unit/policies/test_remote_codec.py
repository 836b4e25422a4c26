"""The msgpack-numpy codec against byte fixtures written by hand from openpi's wire format.

Format (openpi-client ``msgpack_numpy``): an array is a map with bytes keys in the order
``__ndarray__`` (True), ``data`` (raw bytes), ``dtype`` (numpy ``dtype.str``), ``shape`` (array);
a numpy scalar is ``__npgeneric__`` (True), ``data`` (the Python value), ``dtype``. Strings are
msgpack str, bytes are msgpack bin.
"""

from __future__ import annotations

import struct

import msgpack
import numpy as np
import pytest
from rollout_console.policies.remote.codec import CodecError, packb, unpackb


def _bin(raw: bytes) -> bytes:
    assert len(raw) < 256
    return b"\xc4" + bytes([len(raw)]) + raw


def _str(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) < 32
    return bytes([0xA0 | len(raw)]) + raw


# {"observation/state": float32 [1.0, 2.0]} as openpi-client sends it
STATE_FIXTURE = (
    b"\x81" + _str("observation/state")
    + b"\x84"
    + _bin(b"__ndarray__") + b"\xc3"
    + _bin(b"data") + _bin(struct.pack("<2f", 1.0, 2.0))
    + _bin(b"dtype") + _str("<f4")
    + _bin(b"shape") + b"\x91\x02"
)

# {"actions": float64 (2, 3) zeros..5, "server_timing": {"infer_ms": 12.5}}
ACTIONS_FIXTURE = (
    b"\x82" + _str("actions")
    + b"\x84"
    + _bin(b"__ndarray__") + b"\xc3"
    + _bin(b"data") + _bin(struct.pack("<6d", 0, 1, 2, 3, 4, 5))
    + _bin(b"dtype") + _str("<f8")
    + _bin(b"shape") + b"\x92\x02\x03"
    + _str("server_timing") + b"\x81" + _str("infer_ms") + b"\xcb" + struct.pack(">d", 12.5)
)

# np.float32(1.5) as a scalar map; msgpack packs the Python float as float64
SCALAR_FIXTURE = (
    b"\x83" + _bin(b"__npgeneric__") + b"\xc3" + _bin(b"data") + b"\xcb" + struct.pack(">d", 1.5)
    + _bin(b"dtype") + _str("<f4")
)


def test_encoding_an_observation_gives_openpi_bytes() -> None:
    assert packb({"observation/state": np.array([1.0, 2.0], dtype=np.float32)}) == STATE_FIXTURE


def test_decoding_a_reply_from_openpi_bytes() -> None:
    reply = unpackb(ACTIONS_FIXTURE)
    assert set(reply) == {"actions", "server_timing"}
    actions = reply["actions"]
    assert actions.dtype == np.float64 and actions.shape == (2, 3)
    np.testing.assert_array_equal(actions, np.arange(6, dtype=np.float64).reshape(2, 3))
    assert reply["server_timing"] == {"infer_ms": 12.5}
    assert packb({"actions": actions, "server_timing": {"infer_ms": 12.5}}) == ACTIONS_FIXTURE


def test_numpy_scalars_round_trip_as_npgeneric_maps() -> None:
    assert packb(np.float32(1.5)) == SCALAR_FIXTURE
    value = unpackb(SCALAR_FIXTURE)
    assert isinstance(value, np.float32) and value == np.float32(1.5)
    assert unpackb(packb(np.int64(-7))) == np.int64(-7) and isinstance(unpackb(packb(np.int64(-7))), np.int64)


def test_images_strings_and_nesting_round_trip() -> None:
    image = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    message = {"observation/image": image, "prompt": "pick the cube", "meta": [1, "x", {"k": b"raw"}],
               "big_endian": np.arange(4, dtype=">i2")}
    decoded = unpackb(packb(message))
    np.testing.assert_array_equal(decoded["observation/image"], image)
    assert decoded["prompt"] == "pick the cube" and decoded["meta"] == [1, "x", {"k": b"raw"}]
    assert decoded["big_endian"].dtype == np.dtype(">i2")
    np.testing.assert_array_equal(decoded["big_endian"], np.arange(4))


def test_non_contiguous_arrays_are_sent_in_c_order() -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4).T
    np.testing.assert_array_equal(unpackb(packb(array)), array)


def test_openpi_reference_hooks_read_what_we_write() -> None:
    """Decode our bytes with hooks written to openpi's description (not with our decoder)."""
    def hook(obj):
        if b"__ndarray__" in obj:
            return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]), shape=obj[b"shape"])
        return obj

    decoded = msgpack.unpackb(packb({"a": np.eye(3, dtype=np.float32)}), object_hook=hook)
    np.testing.assert_array_equal(decoded["a"], np.eye(3))


@pytest.mark.parametrize("dtype", [object, "V4", np.complex64])
def test_unsafe_or_unrebuildable_dtypes_are_refused_both_ways(dtype) -> None:
    with pytest.raises(CodecError):
        packb({"x": np.zeros(2, dtype=dtype)})
    forged = msgpack.packb({b"__ndarray__": True, b"data": b"\0" * 16, b"dtype": np.dtype(dtype).str,
                            b"shape": [2]}, use_bin_type=True)
    with pytest.raises(CodecError):
        unpackb(forged)


def test_malformed_arrays_and_garbage_are_codec_errors() -> None:
    short = msgpack.packb({b"__ndarray__": True, b"data": b"\0" * 3, b"dtype": "<f4", b"shape": [2]},
                          use_bin_type=True)
    with pytest.raises(CodecError, match="needs 8 bytes"):
        unpackb(short)
    with pytest.raises(CodecError):
        unpackb(b"\xc1")  # never-used msgpack byte
    with pytest.raises(CodecError):
        unpackb(STATE_FIXTURE + b"\x00")  # trailing data
    with pytest.raises(TypeError):
        packb({"x": object()})


def test_extension_types_are_never_executed() -> None:
    """msgpack ext frames (how pickle-ish payloads would travel) come back as inert data."""
    payload = msgpack.packb({"x": msgpack.ExtType(1, b"cos\nsystem\n")}, use_bin_type=True)
    decoded = unpackb(payload)
    assert isinstance(decoded["x"], msgpack.ExtType)
