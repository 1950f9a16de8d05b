"""Specifications of input validation (features.validation) and of the one frame rule
and ranges helper (features.frames): every public function of ``features`` refuses bad
input the same way, with one exception family and a message quoting the value."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.formants import measure_vowels
from features.frames import expand_ranges, span_frames
from features.functionals import segment_functionals
from features.sibilants import sibilant_measures
from features.speakers import segment_embeddings
from features.spectral import spectral_tracks
from features.tracks import intensity_db
from features.validation import ParameterError, check_signal, check_spans, check_sr
from features.voice import voice_quality

SR = 16000


def test_parameter_error_is_a_value_error():
    assert issubclass(ParameterError, ValueError)


def test_check_signal_returns_contiguous_float64_by_default():
    y = np.arange(10, dtype=np.int16)[::2]
    x = check_signal(y, SR)
    assert x.dtype == np.float64 and x.flags.c_contiguous
    np.testing.assert_array_equal(x, [0, 2, 4, 6, 8])


def test_check_signal_keeps_float32_without_copy_when_asked():
    y = np.zeros(100, dtype=np.float32)
    assert check_signal(y, SR, dtype=None) is y
    assert check_signal(np.zeros(4, dtype=np.int32), SR, dtype=None).dtype == np.float64


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 10)), r"y must be mono, shape \(n_samples,\), got shape \(2, 10\)"),
    (np.array(["a", "b"]), "y must hold real numbers, got dtype <U1"),
    (np.r_[0.0, 0.0, np.inf, np.nan], r"y must be finite, got inf at sample 2 \(2 non-finite"),
])
def test_check_signal_quotes_the_offending_value(bad, message):
    with pytest.raises(ParameterError, match=message):
        check_signal(bad, SR)


@pytest.mark.parametrize("sr", [0, -16000, np.nan, np.inf, "16000", True, [16000]])
def test_check_sr_refuses_non_positive_or_non_numeric_rates(sr):
    with pytest.raises(ParameterError, match="sr must be a positive sample rate in Hz"):
        check_sr(sr)


def test_check_sr_accepts_a_non_integer_rate():
    assert check_sr(np.float32(22050.5)) == 22050.5
    assert check_sr(8000) == 8000.0


def test_check_signal_empty():
    assert check_signal(np.zeros(0), SR).shape == (0,)
    with pytest.raises(ParameterError, match="z is empty"):
        check_signal(np.zeros(0), SR, name="z", allow_empty=False)


def test_check_spans_shapes_and_empties():
    assert check_spans([]).shape == (0, 2)
    assert check_spans(np.zeros((0, 3))).shape == (0, 2)
    out = check_spans([[0, 1], [1, 1]])
    assert out.dtype == np.float64 and out.shape == (2, 2)
    with pytest.raises(ParameterError, match=r"tokens must have shape \(n, 2\).*\(3,\)"):
        check_spans([0.1, 0.2, 0.3], name="tokens")


def test_check_spans_quotes_the_first_bad_row():
    with pytest.raises(ParameterError, match=r"spans must be finite, got \[0.2, nan\] at row 1"):
        check_spans([[0, 1], [0.2, np.nan], [np.inf, 2]])
    with pytest.raises(ParameterError, match=r"spans row 1 ends before it starts: \[0.5, 0.2\]"):
        check_spans([[0, 1], [0.5, 0.2]])
    assert check_spans([[0.5, 0.2]], ordered=False).shape == (1, 2)


def test_check_spans_missing_rows_only_when_allowed():
    out = check_spans([[0, 1], [np.nan, np.nan]], allow_missing=True)
    assert np.isnan(out[1]).all()
    with pytest.raises(ParameterError, match="finite or NaN"):
        check_spans([[0, np.inf]], allow_missing=True)
    with pytest.raises(ParameterError, match="ends before"):
        check_spans([[np.nan, np.nan], [2, 1]], allow_missing=True)


# Every public entry point that takes a signal and spans refuses the same bad input
# with the same exception and message.
_ENTRY_POINTS = {
    "segment_embeddings": lambda y, spans: segment_embeddings(y, SR, spans),
    "voice_quality": lambda y, spans: voice_quality(y, SR, spans),
    "measure_vowels": lambda y, spans: measure_vowels(y, SR, spans),
    "sibilant_measures": lambda y, spans: sibilant_measures(y, SR, spans),
}


@pytest.mark.parametrize("name", sorted(_ENTRY_POINTS))
def test_entry_points_share_the_rules(name):
    call = _ENTRY_POINTS[name]
    y = np.zeros(SR)
    with pytest.raises(ParameterError, match="must be mono"):
        call(np.zeros((2, SR)), [[0, 0.5]])
    with pytest.raises(ParameterError, match="must be finite, got nan at sample 3"):
        call(np.r_[0, 0, 0, np.nan, np.zeros(SR)], [[0, 0.5]])
    with pytest.raises(ParameterError, match=r"row 0 ends before it starts: \[0.5, 0.2\]"):
        call(y, [[0.5, 0.2]])
    with pytest.raises(ParameterError, match=r"must be finite, got \[0.1, nan\] at row 0"):
        call(y, [[0.1, np.nan]])


def test_signal_entry_points_share_the_rules():
    for call in (lambda y: intensity_db(y, SR), lambda y: spectral_tracks(y, SR)):
        with pytest.raises(ParameterError, match="must be mono"):
            call(np.zeros((2, 100)))
        with pytest.raises(ParameterError, match="got inf at sample 1"):
            call(np.r_[0.0, np.inf, np.zeros(2000)])
    with pytest.raises(ParameterError, match="ends before"):
        segment_functionals({"x": np.ones(5)}, [[0.3, 0.1]])


def test_span_frames_takes_frames_centred_in_the_half_open_span():
    # Centres at 0, 0.01, 0.02 ...: [0.015, 0.045) holds the centres 0.02, 0.03, 0.04.
    first, end = span_frames(np.array([[0.015, 0.045], [0.02, 0.05], [0.3, 0.3]]), 100, 0.01)
    assert first.tolist() == [2, 2, 30] and end.tolist() == [5, 5, 30]


def test_span_frames_is_robust_to_float_round_off():
    # 0.3 / 0.01 = 29.999999999999996: still frame 30.
    first, end = span_frames(np.array([[0.3, 0.7]]), 100, 0.01)
    assert (first[0], end[0]) == (30, 70)


def test_span_frames_clips_and_gives_short_spans_their_midpoint_frame():
    first, end = span_frames(np.array([[-1.0, 0.02], [0.5, 2.0]]), 100, 0.01)
    assert first.tolist() == [0, 50] and end.tolist() == [2, 100]
    first, end = span_frames(np.array([[0.031, 0.038], [0.03, 0.05]]), 100, 0.01, min_frames=1)
    assert first.tolist() == [3, 3] and end.tolist() == [4, 5]


def test_expand_ranges_example():
    index, owner = expand_ranges(np.array([2, 7, 4]), np.array([5, 9, 4]))
    assert index.tolist() == [2, 3, 4, 7, 8]
    assert owner.tolist() == [0, 0, 0, 1, 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 10)), max_size=8))
def test_expand_ranges_equals_concatenated_aranges(ranges):
    first = np.array([a for a, _ in ranges], dtype=np.int64)
    end = np.array([a + n for a, n in ranges], dtype=np.int64)
    index, owner = expand_ranges(first, end)
    expected = [np.arange(a, b) for a, b in zip(first, end, strict=True)]
    np.testing.assert_array_equal(index, np.concatenate([np.zeros(0, int), *expected]))
    np.testing.assert_array_equal(
        owner, np.concatenate([np.zeros(0, int), *(np.full(e.size, i) for i, e in
                                                   enumerate(expected))]))
