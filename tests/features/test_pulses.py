"""features.pulses: Praat's "Sound & Pitch: To PointProcess (cc)" without Praat.

Criterion (issue #15): the default engine's pulses match Praat's (share of Praat's
pulses with one of ours within 0.1 ms), on the ALSA recordings, real Spanish speech
(real-es) and synthetic voices. Given the same pitch, the implementation reproduces
Praat's algorithm step for step, so the tests hold it to the same pulses within
1e-12 s; with each engine's own pitch, to 99.9% of pulses matched.
"""

from __future__ import annotations

import numpy as np
import pytest

import features.pulses as pulses
from features.pitch import pitch_ac
from features.praat_agreement import (
    alsa_recordings,
    count_matched,
    own_pulses,
    praat_pulses,
    pulses_from_pitch,
    read_mono,
    real_es_recordings,
)
from features.pulses import glottal_pulses
from features.validation import ParameterError
from tests.features.test_pitch import make_synthetic_voices

pytestmark = pytest.mark.filterwarnings("error")

ALSA = alsa_recordings()
REAL_ES = bool(real_es_recordings("MX1"))
#: The same pitch gives the same pulses (Praat's arithmetic, other summation order).
SAME_PITCH_ATOL_S = 1e-12
#: With each engine's own pitch: share of Praat's pulses with one of ours within
#: ``features.praat_agreement.MATCH_TOL_S`` (0.1 ms).
MIN_MATCHED = 0.999
_PAIR_RANGES = pulses._pair_ranges


def _praat(y: np.ndarray, sr: float, floor: float = 75.0, ceiling: float = 600.0):
    """Praat's pulses (s) and the pitch that placed them."""
    times, pitch, _ = praat_pulses(y, sr, floor, ceiling)
    return times, pitch


def _assert_same_pulses(signals: list[tuple[np.ndarray, float]], **range_hz) -> int:
    """Praat's pitch in, Praat's pulses out; returns the number of pulses compared."""
    n = 0
    for y, sr in signals:
        ref, pitch = _praat(y, sr, **range_hz)
        got = pulses_from_pitch(y, sr, pitch)
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=0, atol=SAME_PITCH_ATOL_S)
        n += ref.size
    return n


def _assert_engines_match(signals: list[tuple[np.ndarray, float]]) -> None:
    """The default engine end to end (our pitch, our pulses) against Praat's."""
    n_ref = n_ours = matched_ref = matched_ours = 0
    for y, sr in signals:
        ref, _ = _praat(y, sr)
        got = own_pulses(y, sr)
        n_ref, n_ours = n_ref + ref.size, n_ours + got.size
        matched_ref += count_matched(ref, got)
        matched_ours += count_matched(got, ref)
    assert n_ref > 0
    assert matched_ref / n_ref >= MIN_MATCHED
    assert matched_ours / n_ours >= MIN_MATCHED


# --- Praat's pulses, source by source ---------------------------------------------------------


@pytest.mark.skipif(not ALSA, reason="alsa-utils' test recordings are not installed")
def test_alsa_recordings_give_praats_pulses() -> None:
    signals = [read_mono(p) for p in ALSA]
    assert _assert_same_pulses(signals) > 800
    _assert_engines_match(signals)


@pytest.mark.skipif(not REAL_ES, reason="shared/data/real-es is not beside the clone")
@pytest.mark.parametrize("speaker", ["MX1", "CO1"], ids=["16kHz", "8kHz"])
def test_real_spanish_gives_praats_pulses(speaker: str) -> None:
    signals = [read_mono(p) for p in real_es_recordings(speaker)]
    assert len(signals) >= 50
    assert _assert_same_pulses(signals) > 5000
    _assert_engines_match(signals)


def test_synthetic_voices_give_praats_pulses() -> None:
    signals = make_synthetic_voices()  # F0 95-260 Hz, jittered
    assert _assert_same_pulses(signals) > 300
    assert _assert_same_pulses(signals, floor=70.0, ceiling=250.0) > 100  # an adapted range
    _assert_engines_match(signals)


def _low_voice(f0_hz: float, seconds: float = 0.5, sr: float = 16000.0) -> np.ndarray:
    """A vowel-like harmonic signal at ``f0_hz`` (3 Hz vibrato), voiced from the first
    sample to the last."""
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * np.cumsum(f0_hz * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / sr
    y = 0.3 * sum(np.sin(k * phase) / k for k in range(1, 12))
    return y + 0.01 * np.random.default_rng(0).standard_normal(y.size)


@pytest.mark.parametrize("few", [0, 10**6], ids=["side-by-side", "one-by-one"])
@pytest.mark.parametrize("f0_hz", [80.0, 90.0])
def test_windows_reaching_past_the_signal_leave_those_samples_out(f0_hz, few, monkeypatch) -> None:
    """Voicing from the first to the last sample: a low voice's correlation windows
    reach beyond the signal, where Praat leaves the samples out of every sum."""
    reached = []
    monkeypatch.setattr(pulses, "_pair_ranges", lambda *a: reached.append(1) or _PAIR_RANGES(*a))
    monkeypatch.setattr(pulses, "_FEW_WALKS", few)
    assert _assert_same_pulses([(_low_voice(f0_hz), 16000.0)]) > 30
    assert reached  # the edge case was met


def test_silence_cuts_and_doubled_stretches_give_praats_pulses() -> None:
    """Stretches cut by digital silence, a signal repeated after a 10 ms gap, a signal
    cut in the middle of voicing, at three sample rates."""
    cases = []
    for y, sr in [read_mono(p) for p in ALSA[:2]] + make_synthetic_voices()[:2]:
        quiet = y.copy()
        quiet[y.size // 3 : y.size // 2] = 0.0
        gap = np.zeros(int(0.01 * sr))
        cases += [(quiet, sr), (np.concatenate([y, gap, y]), sr), (y[y.size // 3 :], sr)]
    cases.append((_low_voice(120.0, sr=8000.0), 8000.0))
    _assert_same_pulses(cases)


@pytest.mark.parametrize(
    ("few", "batch", "group"),
    [(0, 512, 128), (10**6, 512, 128), (0, 1, 128), (0, 512, 3)],
    ids=["all-side-by-side", "all-one-by-one", "one-stretch-per-batch", "groups-of-three"],
)
def test_walks_side_by_side_and_one_by_one_agree(few, batch, group, monkeypatch) -> None:
    """Every way of advancing the walks places the same pulses (all are Praat's)."""
    y, sr = read_mono(ALSA[0]) if ALSA else make_synthetic_voices()[1]
    ref, pitch = _praat(y, sr)
    monkeypatch.setattr(pulses, "_FEW_WALKS", few)
    monkeypatch.setattr(pulses, "_MAX_STRETCHES", batch)
    monkeypatch.setattr(pulses, "_GROUP_WALKS", group)
    np.testing.assert_allclose(pulses_from_pitch(y, sr, pitch), ref, rtol=0, atol=SAME_PITCH_ATOL_S)


# --- what the pulses are ---------------------------------------------------------------------


def test_pulses_follow_a_known_period() -> None:
    """A 125 Hz pulse-like wave: one pulse per period, 8 ms apart to within a sample."""
    sr, f0 = 16000.0, 125.0
    t = np.arange(int(0.6 * sr)) / sr
    y = np.exp(-((np.mod(t, 1 / f0) - 0.002) ** 2) / (2 * 0.0003**2))  # one bump per period
    y = y - y.mean()
    track = pitch_ac(y, sr, pitch_floor_hz=75.0, pitch_ceiling_hz=600.0)
    got = glottal_pulses(y, sr, track.selected_frequency, x1=track.x1, dx=track.dx)
    assert got.size >= 0.6 * f0 * 0.8
    assert np.all(np.diff(got) > 0)
    np.testing.assert_allclose(np.diff(got), 1 / f0, atol=1 / sr)


def test_unvoiced_pitch_gives_no_pulses() -> None:
    y = np.random.default_rng(0).standard_normal(16000)
    for f0 in (np.zeros(40), np.full(40, np.nan), np.zeros(0), np.full(40, 700.0)):
        got = glottal_pulses(y, 16000, f0, x1=0.02, dx=0.024, pitch_ceiling_hz=600.0)
        assert got.shape == (0,) and got.dtype == np.float64


@pytest.mark.parametrize(
    ("f0", "kwargs", "match"),
    [
        (np.zeros((2, 3)), {}, r"shape \(n_frames,\)"),
        (np.full(3, -100.0), {}, ">= 0"),
        (np.full(3, np.inf), {}, "infinite"),
        (np.zeros(3), {"dx": 0.0}, "dx > 0"),
        (np.zeros(3), {"x1": np.nan}, "finite x1"),
    ],
)
def test_bad_pitch_is_refused(f0, kwargs, match) -> None:
    args = {"x1": 0.02, "dx": 0.01} | kwargs
    with pytest.raises(ParameterError, match=match):
        glottal_pulses(np.zeros(1600), 16000, f0, **args)


def test_bad_signal_is_refused() -> None:
    with pytest.raises(ParameterError, match="mono"):
        glottal_pulses(np.zeros((1600, 2)), 16000, np.zeros(3), x1=0.02, dx=0.01)
