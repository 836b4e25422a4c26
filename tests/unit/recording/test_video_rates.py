"""Stream rates as PyAV returns them: ``fractions.Fraction`` up to PyAV 18, ``av.rational.AVRational`` in
PyAV 19 (Python 3.12 wheels), which has numerator/denominator and float() but refuses int(). Every episode
save probes its videos, so a rate type the probe cannot read fails every save."""

from __future__ import annotations

from fractions import Fraction

import pytest
from rollout_console.recording.video import stream_rate


class AVRationalLike:
    """What PyAV 19's AVRational offers (checked against av 19.0.2): num/den, numerator/denominator,
    float(), ==; int() raises TypeError."""

    def __init__(self, num: int, den: int) -> None:
        self.num = self.numerator = num
        self.den = self.denominator = den

    def __float__(self) -> float:
        return self.num / self.den

    def __int__(self) -> int:
        raise TypeError("int() argument must be a string, a bytes-like object or a real number, "
                        "not 'av.rational.AVRational'")

    def __eq__(self, other: object) -> bool:
        return float(self) == float(other)  # type: ignore[arg-type]

    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize("make", [Fraction, AVRationalLike], ids=["fraction", "avrational"])
@pytest.mark.parametrize(("num", "den", "fps"), [(30, 1, 30), (15, 1, 15), (30000, 1001, 30000 / 1001)])
def test_rates_of_either_type_give_the_same_fraction(make, num, den, fps) -> None:
    rate = stream_rate(make(num, den))
    assert isinstance(rate, Fraction) and rate == Fraction(num, den)
    assert float(rate) == pytest.approx(fps)
    if den == 1:
        assert int(rate) == num


def test_missing_or_degenerate_rates() -> None:
    assert stream_rate(None) is None
    assert stream_rate(AVRationalLike(30, 0)) is None
    assert stream_rate(29.97) == Fraction(2997, 100)  # anything else float() accepts


def test_probe_video_reads_this_pyav_fps_as_a_plain_number(tmp_path) -> None:
    import numpy as np
    from rollout_console.recording.video import VideoFileEncoder, VideoSettings, probe_video

    encoder = VideoFileEncoder(tmp_path / "v.mp4", 64, 48, 30, VideoSettings(vcodec="h264"))
    for i in range(4):
        encoder.encode(np.full((48, 64, 3), 40 * i, np.uint8))
    encoder.close()
    info, frames = probe_video(tmp_path / "v.mp4")
    assert frames == 4 and info["video.fps"] == 30 and type(info["video.fps"]) is int
