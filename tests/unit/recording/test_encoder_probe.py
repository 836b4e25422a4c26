"""The encoder probe: a real encoder in a child process reports CPU ms per frame; a failure says why."""

from __future__ import annotations

import numpy as np
import pytest
from rollout_console.recording.encoder_probe import ProbeRequest, cached_encoder_cpu, measure_encoder_cpu, synthetic_frames


def test_synthetic_frames_move_and_are_noisy() -> None:
    frames = synthetic_frames(64, 48, 3)
    assert [f.shape for f in frames] == [(48, 64, 3)] * 3 and frames[0].dtype == np.uint8
    assert not np.array_equal(frames[0], frames[1])  # the object moves
    assert np.abs(np.diff(frames[0].astype(int), axis=1)).mean() > 1  # sensor-like noise, not a flat image


@pytest.mark.parametrize("vcodec,preset,threads", [("h264", "ultrafast", None), ("libsvtav1", "12", 1)])
def test_a_real_encoder_costs_some_cpu_per_frame(vcodec, preset, threads) -> None:
    request = ProbeRequest(vcodec=vcodec, preset=preset, threads=threads, crf=30, gop=2, width=160, height=120,
                           fps=30.0, frames=8)
    cost = measure_encoder_cpu(request)
    assert 0 < cost < 5_000  # CPU ms per frame: positive, and not absurd even on a loaded machine
    assert cached_encoder_cpu(request) > 0


def test_a_preset_the_codec_lacks_is_reported() -> None:
    request = ProbeRequest(vcodec="h264", preset="no-such-preset", threads=None, crf=30, gop=2, width=64, height=48,
                           fps=30.0, frames=2)
    with pytest.raises(RuntimeError, match="the encoder probe failed"):
        measure_encoder_cpu(request)
