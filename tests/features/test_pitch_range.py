"""Speaker-adapted pitch range (De Looze & Hirst 2008) and pitch over stretches."""

import numpy as np
import pytest

from features.tracks import adapted_pitch_range, pitch_on_spans, pitch_track

SR = 16000


def glide(seconds: float, f_start: float, f_end: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(np.linspace(f_start, f_end, t.size)) / SR
    return sum(np.sin(k * phase) / k for k in range(1, 8)) * 0.2


def test_range_is_three_quarters_of_q1_to_one_and_a_half_q3():
    f0 = np.r_[np.linspace(100, 200, 101), np.full(20, np.nan)]
    floor, ceiling = adapted_pitch_range(f0)
    assert floor == pytest.approx(0.75 * 125) and ceiling == pytest.approx(1.5 * 175)


def test_octave_errors_in_the_tails_do_not_move_the_range():
    rng = np.random.default_rng(0)
    f0 = rng.normal(120, 10, 500)
    f0[:10] *= 2  # octave jumps
    floor, ceiling = adapted_pitch_range(f0)
    assert 75 < floor < 90 and 180 < ceiling < 200


def test_too_few_frames_keep_the_first_pass():
    assert adapted_pitch_range(np.full(20, 150.0)) is None
    assert adapted_pitch_range(np.full(200, np.nan)) is None


def test_pitch_on_spans_equals_a_full_pass_inside_and_is_nan_outside():
    y = np.r_[glide(1.0, 110, 140), np.zeros(SR // 2), glide(1.0, 200, 180)]
    full, _ = pitch_track(y, SR, pitch_floor_hz=70, pitch_ceiling_hz=300)
    spans = np.array([[1.5, 2.5]])
    part = pitch_on_spans(y, SR, spans, pitch_floor_hz=70, pitch_ceiling_hz=300)
    inside = np.isfinite(part) & np.isfinite(full)
    assert inside.sum() > 80
    np.testing.assert_allclose(part[inside], full[inside], rtol=0.01)
    assert np.isnan(part[:100]).all()  # the first stretch was not asked for


def test_pitch_on_spans_handles_edges_and_nothing():
    y = glide(1.0, 120, 120)
    assert np.isnan(pitch_on_spans(y, SR, np.empty((0, 2)))).all()
    edge = pitch_on_spans(y, SR, np.array([[0.0, 0.3], [0.8, 1.2]]), pitch_floor_hz=70,
                          pitch_ceiling_hz=300)
    assert edge.shape == pitch_track(y, SR)[0].shape
    assert np.nanmedian(edge) == pytest.approx(120, rel=0.01)
