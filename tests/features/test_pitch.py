"""The vectorised Praat pitch (features.pitch) against Praat itself, and its parts.

Criteria (issue #15), per set of recordings and per setting, measured against
Parselmouth's ``Sound.to_pitch_ac`` with the same arguments: voicing decisions
agree on >= 97% of frames and F0 is within 1% on >= 99% of the frames both call
voiced. What the engine actually holds is much tighter (100% and 100% on every
set so far), so the tests hold it to 99.5% / 99.9%: a regression shows long
before the issue's bar is crossed.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import parselmouth
import pytest
import soundfile as sf

from corpora.synth import Voice, synthesize_ipu
from corpora.synth.ipu import PhoneSpec
from features.pitch import _path, _sinc_weights, pitch_ac, short_term_grid
from features.tracks import pitch_on_spans, pitch_track

ALSA = sorted(Path("/usr/share/sounds/alsa").glob("*.wav"))
REAL_ES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real-es" / "audio"

#: The pipeline's analyses: first pass, two speaker-adapted second passes (a low and
#: a high voice's range), and the voice report's pitch (Praat's default time step).
SETTINGS = {
    "first-pass": dict(time_step_s=0.01, pitch_floor_hz=60.0, pitch_ceiling_hz=500.0),
    "adapted-low": dict(time_step_s=0.01, pitch_floor_hz=70.0, pitch_ceiling_hz=250.0),
    "adapted-high": dict(time_step_s=0.01, pitch_floor_hz=140.0, pitch_ceiling_hz=450.0),
    "voice-report": dict(time_step_s=0.0, pitch_floor_hz=75.0, pitch_ceiling_hz=600.0),
}
VOICING_AGREEMENT = 0.995
F0_WITHIN_1PCT = 0.999


def _praat(y: np.ndarray, sr: float, time_step_s: float, pitch_floor_hz: float,
           pitch_ceiling_hz: float):
    sound = parselmouth.Sound(np.asarray(y, dtype=np.float64), sampling_frequency=float(sr))
    return sound.to_pitch_ac(time_step=time_step_s or None, pitch_floor=pitch_floor_hz,
                             pitch_ceiling=pitch_ceiling_hz)


def _agreement(signals: list[tuple[np.ndarray, float]], setting: dict) -> tuple[int, int, int, int]:
    """(frames, frames with the same voicing, frames both voiced, of which F0 within 1%)."""
    frames = same = both_voiced = close = 0
    for y, sr in signals:
        ref = _praat(y, sr, **setting)
        ours = pitch_ac(y, sr, **setting)
        assert ours.n_frames == ref.nx and ours.x1 == pytest.approx(ref.x1, abs=1e-12)
        f_ref = ref.selected_array["frequency"]
        v_ref = (f_ref > 0) & (f_ref < ref.ceiling)
        f_ours = ours.selected_frequency
        v_ours = f_ours > 0
        both = v_ref & v_ours
        frames += f_ref.size
        same += int(np.sum(v_ref == v_ours))
        both_voiced += int(both.sum())
        close += int(np.sum(np.abs(f_ours[both] / f_ref[both] - 1) < 0.01))
    return frames, same, both_voiced, close


def _assert_agrees(signals: list[tuple[np.ndarray, float]], setting: dict,
                   min_voiced: int) -> None:
    frames, same, both_voiced, close = _agreement(signals, setting)
    assert both_voiced >= min_voiced  # the comparison is about speech, not silence
    assert same / frames >= VOICING_AGREEMENT, (same, frames)
    assert close / both_voiced >= F0_WITHIN_1PCT, (close, both_voiced)


def _read(path: Path) -> tuple[np.ndarray, float]:
    y, sr = sf.read(path, dtype="float64", always_2d=True)
    return y.mean(axis=1), float(sr)


# --- agreement with Praat on real and synthetic speech ----------------------------------------


@pytest.mark.skipif(not ALSA, reason="alsa-utils' test recordings are not installed")
@pytest.mark.parametrize("setting", SETTINGS, ids=str)
def test_alsa_recordings_agree_with_praat(setting: str) -> None:
    _assert_agrees([_read(p) for p in ALSA], SETTINGS[setting], min_voiced=300)


@pytest.mark.skipif(not REAL_ES.is_dir(), reason="shared/data/real-es is not beside the clone")
@pytest.mark.parametrize("speaker", ["MX1", "CO1"], ids=["16kHz", "8kHz"])
@pytest.mark.parametrize("setting", SETTINGS, ids=str)
def test_real_spanish_agrees_with_praat(speaker: str, setting: str) -> None:
    files = sorted((REAL_ES / speaker).glob("*.flac"))
    assert len(files) >= 50
    _assert_agrees([_read(p) for p in files], SETTINGS[setting], min_voiced=1000)


def _phrase() -> list[PhoneSpec]:
    phones = []
    for v in "aeiou":
        phones += [PhoneSpec("m", 0.06), PhoneSpec(v, 0.18, stressed=v == "e"),
                   PhoneSpec("s", 0.08)]
    return phones


@pytest.fixture(scope="module")
def synthetic_voices() -> list[tuple[np.ndarray, float]]:
    return make_synthetic_voices()


def make_synthetic_voices() -> list[tuple[np.ndarray, float]]:
    """Four synthetic voices (F0 95-260 Hz, jittered), each a phrase between quiet gaps."""
    sr = 16000
    out = []
    for i, (gender, f0) in enumerate((("M", 95.0), ("M", 130.0), ("F", 200.0), ("F", 260.0))):
        voice = Voice("X", gender, f0, 0.85 if gender == "F" else 1.0, 6.0, 0.1, 0.008, 0.04,
                      -24.0, 0.6, 0.08)
        sig, _ = synthesize_ipu(_phrase(), voice, rng=np.random.default_rng(i))
        sig = 0.3 * sig.astype(np.float64) / np.abs(sig).max()
        gap = np.zeros(round(0.3 * sr))
        y = np.concatenate([gap, sig, gap])
        y += 1e-4 * np.random.default_rng(10 + i).standard_normal(y.size)
        out.append((y, float(sr)))
    return out


@pytest.mark.parametrize("setting", SETTINGS, ids=str)
def test_synthetic_voices_agree_with_praat(synthetic_voices, setting: str) -> None:
    _assert_agrees(synthetic_voices, SETTINGS[setting], min_voiced=200)


def test_candidates_and_strengths_match_praat_closely() -> None:
    """Not only the path: the chosen strengths (the voice report's HNR) and F0 values."""
    y, sr = _read(ALSA[0]) if ALSA else (None, None)
    if y is None:
        pytest.skip("alsa-utils' test recordings are not installed")
    ref = _praat(y, sr, 0.0, 75.0, 600.0)
    ours = pitch_ac(y, sr, pitch_floor_hz=75.0, pitch_ceiling_hz=600.0)
    f_ref = ref.selected_array["frequency"]
    both = (f_ref > 0) & (ours.selected_frequency > 0)
    assert both.sum() > 40
    np.testing.assert_allclose(ours.selected_frequency[both], f_ref[both], rtol=1e-4)
    np.testing.assert_allclose(ours.selected_strength[both],
                               ref.selected_array["strength"][both], atol=1e-6)


# --- the parts ---------------------------------------------------------------------------------


def _praat_sinc(y: np.ndarray, x: float, depth: int) -> float:
    """Praat's NUM_interpolate_sinc, written out as in NUMinterpol.cpp (1-based x)."""
    left_i = int(np.floor(x))
    if x == left_i:
        return float(y[left_i - 1])
    depth = min(depth, left_i, y.size - left_i)
    total = 0.0
    for ix in range(left_i - depth + 1, left_i + depth + 1):
        if ix <= left_i:
            d, edge = x - ix, x - (left_i - depth + 1) + 1.0
        else:
            d, edge = ix - x, (left_i + depth) - x + 1.0
        total += y[ix - 1] * np.sin(np.pi * d) / (np.pi * d) * 0.5 * (1 + np.cos(np.pi * d / edge))
    return total


def test_sinc_weights_are_praats_interpolation() -> None:
    rng = np.random.default_rng(0)
    y = rng.standard_normal(400)
    taps = np.arange(-80, 82)
    for x, depth in [(200.3, 70), (150.999, 30), (100.5, 70), (60.0, 70), (390.25, 9)]:
        base = int(np.floor(x))
        clipped = min(depth, base, y.size - base)
        w = _sinc_weights(np.array(x - base), taps, np.array(clipped))
        inside = (base + taps >= 1) & (base + taps <= y.size)
        got = float(np.sum(w[inside] * y[base + taps[inside] - 1]))
        assert got == pytest.approx(_praat_sinc(y, x, depth), abs=1e-12)


def _reference_path(freq, local, ceiling, jump_cost, vu_cost) -> np.ndarray:
    """Praat's Pitch_pathFinder Viterbi, frame by frame and candidate by candidate."""
    k, n = freq.shape
    delta = local.copy()
    psi = np.zeros((n, k), dtype=int)
    for i in range(1, n):
        for c2 in range(k):
            if not np.isfinite(local[c2, i]):
                continue
            best, place = -np.inf, 0
            f2 = freq[c2, i]
            for c1 in range(k):
                if not np.isfinite(delta[c1, i - 1]):
                    continue
                f1 = freq[c1, i - 1]
                v1, v2 = 0 < f1 < ceiling, 0 < f2 < ceiling
                cost = (jump_cost * abs(np.log2(f1 / f2)) if v1 and v2
                        else vu_cost if v1 or v2 else 0.0)
                value = delta[c1, i - 1] - cost + local[c2, i]
                if value > best:
                    best, place = value, c1
            delta[c2, i], psi[i, c2] = best, place
    out = np.zeros(n, dtype=int)
    out[-1] = int(np.argmax(np.where(np.isfinite(delta[:, -1]), delta[:, -1], -np.inf)))
    for i in range(n - 1, 0, -1):
        out[i - 1] = psi[i, out[i]]
    return out


@pytest.mark.parametrize("seed", range(5))
def test_stretch_parallel_viterbi_is_praats_path(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, n = 6, 400
    counts = rng.integers(1, k + 1, n)
    counts[rng.random(n) < 0.15] = 1  # frames with the unvoiced choice only split the path
    freq = np.full((k, n), np.nan)
    local = np.full((k, n), -np.inf)
    freq[0], local[0] = 0.0, rng.uniform(0.4, 1.2, n)
    for j in range(1, k):
        has = counts > j
        freq[j, has] = rng.uniform(60, 700, has.sum())  # some above the 500 Hz ceiling
        local[j, has] = rng.uniform(0.0, 1.0, has.sum())
    got = _path(freq, local, 500.0, 0.35, 0.14)
    assert np.array_equal(got, _reference_path(freq, local, 500.0, 0.35, 0.14))


def test_frame_grid_is_praats() -> None:
    for n_samples, sr in [(16000, 16000.0), (12345, 8000.0), (44100 * 3 + 7, 44100.0)]:
        y = np.random.default_rng(1).standard_normal(n_samples)
        ref = _praat(y, sr, 0.01, 75.0, 600.0)
        n, t1 = short_term_grid(n_samples, sr, 3 / 75.0, 0.01)
        assert n == ref.nx and t1 == pytest.approx(ref.x1, abs=1e-12)


# --- unusual input -----------------------------------------------------------------------------


def test_digital_silence_is_unvoiced_without_error() -> None:
    p = pitch_ac(np.zeros(16000), 16000.0, time_step_s=0.01, pitch_floor_hz=60.0,
                 pitch_ceiling_hz=500.0)
    assert p.n_frames > 0 and np.all(np.isnan(p.f0_hz))
    assert np.all(p.intensity == 0)


def test_a_pure_tone_is_voiced_at_its_frequency() -> None:
    sr = 8000.0
    t = np.arange(int(sr)) / sr
    p = pitch_ac(0.5 * np.sin(2 * np.pi * 150.0 * t), sr, time_step_s=0.01)
    inner = p.f0_hz[3:-3]
    assert np.all(np.isfinite(inner))
    np.testing.assert_allclose(inner, 150.0, rtol=1e-4)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(pitch_floor_hz=100.0, pitch_ceiling_hz=80.0), "0 < pitch_floor_hz < pitch_ceiling_hz"),
    (dict(time_step_s=-0.01), "time_step_s"),
    (dict(dtype=np.float16), "dtype"),
])
def test_bad_settings_are_refused_with_the_value(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        pitch_ac(np.ones(16000), 16000.0, **kwargs)


def test_single_precision_keeps_the_voicing_and_f0(synthetic_voices) -> None:
    # The 10 ms passes run their FFT stage in float32 (pitch_track): same path, F0 and
    # strengths to a few 1e-7 of double precision.
    for y, sr in synthetic_voices:
        double = pitch_ac(y, sr, **SETTINGS["first-pass"])
        single = pitch_ac(y, sr, **SETTINGS["first-pass"], dtype=np.float32)
        assert np.array_equal(single.selected, double.selected)
        np.testing.assert_allclose(single.selected_frequency, double.selected_frequency,
                                   rtol=1e-5)
        np.testing.assert_allclose(single.selected_strength, double.selected_strength,
                                   atol=1e-6)


def _peak_bytes(y: np.ndarray, sr: float, **kwargs) -> int:
    tracemalloc.start()
    try:
        pitch_ac(y, sr, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_working_memory_does_not_grow_with_the_signal() -> None:
    # Frames go through the FFT in blocks of a fixed size, and no copy or running sum
    # of the whole signal is kept: from 1 to 4 minutes the peak grows by the per-frame
    # arrays only (0.17 of the added signal's bytes, measured), where a float64 copy
    # of the signal would add 1.0 and a float32 one 0.5 (the 3-hour pipeline's limit).
    sr = 16000
    t = np.arange(240 * sr) / sr
    voiced = np.sin(2 * np.pi * 0.3 * t) > 0
    y = voiced * np.sin(2 * np.pi * 120.0 * t) + 0.05 * np.random.default_rng(0).standard_normal(
        t.size)
    short = _peak_bytes(y[: 60 * sr], sr, time_step_s=0.05)
    long = _peak_bytes(y, sr, time_step_s=0.05)
    assert long - short < 0.4 * (y.nbytes - y[: 60 * sr].nbytes), (short, long)
    assert short < 64 * 2**20  # the blocks: a few (frames x FFT length) arrays of 8 MB


def test_a_signal_shorter_than_a_window_is_refused_with_its_length() -> None:
    with pytest.raises(ValueError, match=r"0\.02 s signal is too short"):
        pitch_ac(np.ones(320), 16000.0, pitch_floor_hz=75.0)


# --- the two engines in the pipeline's functions -----------------------------------------------


def test_pitch_track_engines_agree(synthetic_voices) -> None:
    y, sr = synthetic_voices[2]
    f_v, s_v = pitch_track(y, sr, engine="vectorised")
    f_p, s_p = pitch_track(y, sr, engine="praat")
    assert np.array_equal(np.isnan(f_v), np.isnan(f_p))
    assert np.isfinite(f_v).sum() > 50
    np.testing.assert_allclose(f_v, f_p, rtol=1e-4)
    # Frames too quiet to be voiced get no candidates from the vectorised engine
    # (strength 0); elsewhere the strengths are Praat's.
    both = (s_v > 0) & (s_p > 0)
    assert both.sum() > 50 and np.all(np.isnan(f_p[(s_v == 0) & (s_p > 0)]))
    np.testing.assert_allclose(s_v[both], s_p[both], atol=1e-5)


def test_pitch_on_spans_engines_agree(synthetic_voices) -> None:
    y = np.concatenate([v[0] for v in synthetic_voices])
    sr = synthetic_voices[0][1]
    spans = np.array([[0.3, 1.4], [2.5, 3.6], [5.0, 6.0]])
    f_v = pitch_on_spans(y, sr, spans, pitch_floor_hz=70.0, pitch_ceiling_hz=300.0)
    f_p = pitch_on_spans(y, sr, spans, pitch_floor_hz=70.0, pitch_ceiling_hz=300.0, engine="praat")
    assert np.array_equal(np.isnan(f_v), np.isnan(f_p))
    np.testing.assert_allclose(f_v, f_p, rtol=1e-4)


def test_unknown_engine_and_cc_without_praat_are_refused() -> None:
    y = np.random.default_rng(0).standard_normal(16000)
    with pytest.raises(ValueError, match="engine must be one of"):
        pitch_track(y, 16000, engine="fast")
    with pytest.raises(ValueError, match="engine='praat'"):
        pitch_track(y, 16000, method="cc")
