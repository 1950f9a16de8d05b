"""The vectorised Burg formants (features.burg) held to Praat's own (Parselmouth)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import parselmouth
import pytest
import soundfile as sf
from parselmouth.praat import call

from features.burg import burg_lpc, formants_burg, lpc_roots, praat_resample
from features.formants import formant_tracks

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
REAL_ES = SHARED / "data" / "real-es" / "audio"
ALSA = Path("/usr/share/sounds/alsa")


def praat_vecburg(x: np.ndarray, m: int) -> np.ndarray:
    """Praat's VECburg (dwsys/NUM2.cpp), sample by sample, 1-based as in the source."""
    n = x.size
    a, aa = np.zeros(m + 1), np.zeros(m + 1)
    b1, b2 = np.zeros(n + 1), np.zeros(n + 1)
    x1 = np.r_[0.0, x]
    b1[1], b2[n - 1] = x1[1], x1[n]
    b1[2:n], b2[1 : n - 1] = x1[2:n], x1[2:n]
    for i in range(1, m + 1):
        num = np.sum(b1[1 : n - i + 1] * b2[1 : n - i + 1])
        den = np.sum(b1[1 : n - i + 1] ** 2 + b2[1 : n - i + 1] ** 2)
        a[i] = 2.0 * num / den
        a[1:i] = aa[1:i] - a[i] * aa[i - 1 : 0 : -1]
        if i < m:
            aa[1 : i + 1] = a[1 : i + 1]
            for j in range(1, n - i):
                b1[j] -= aa[i] * b2[j]
                b2[j] = b2[j + 1] - aa[i] * b1[j + 1]
    return a[1:]


def praat_formants(y, sr, ceiling):
    fmt = parselmouth.Sound(y, sampling_frequency=float(sr)).to_formant_burg(
        time_step=0.005, max_number_of_formants=5, maximum_formant=float(ceiling),
        window_length=0.025, pre_emphasis_from=50.0)
    table = call(fmt, "Down to Table", "no", "no", 6, "no", 3, "no", 3, "yes")
    return np.asarray(fmt.xs()), np.asarray(call(table, "Down to Matrix").values)


def agreement(signals, ceilings):
    """Relative |ours - Praat| of F1-F3 and B1-B3 pooled, and the share of sounding frames
    where only one engine finds F1-F3. Frames over digital silence are left out (both
    engines then analyse their resampling's rounding noise)."""
    rel = {k: [] for k in ("F1", "F2", "F3", "B1", "B2", "B3")}
    only_one, total = 0, 0
    for y, sr in signals:
        for ceiling in ceilings:
            times, ref = praat_formants(y, sr, ceiling)
            ours = formants_burg(y, sr, ceiling)[0]
            np.testing.assert_allclose(ours.times_s, times, atol=1e-9)
            centre = np.rint(times * sr).astype(np.int64)
            half = int(0.025 * sr)
            cum = np.r_[0.0, np.cumsum(np.abs(y))]
            sounding = (cum[np.clip(centre + half, 0, y.size)]
                        - cum[np.clip(centre - half, 0, y.size)]) > 0
            for k in range(3):
                for name, got, want in ((f"F{k + 1}", ours.freqs_hz[k], ref[:, 2 * k]),
                                        (f"B{k + 1}", ours.bandwidths_hz[k], ref[:, 2 * k + 1])):
                    both = sounding & np.isfinite(got) & np.isfinite(want)
                    rel[name].append(np.abs(got[both] - want[both]) / want[both])
                    if name[0] == "F":
                        only_one += int(np.sum(sounding & (np.isfinite(got) != np.isfinite(want))))
                        total += int(sounding.sum())
    return {k: np.median(np.concatenate(v)) for k, v in rel.items()}, only_one / total


def synthetic_vowels():
    from corpora.synth.ipu import PhoneSpec, synthesize_ipu
    from corpora.synth.profiles import Voice

    out = []
    for voice in (Voice("F1", "F", 200.0, 1.16, 6.0, 0.12, 0.005, 0.03, -24.0, 0.6, 0.08),
                  Voice("M1", "M", 115.0, 1.0, 6.0, 0.12, 0.006, 0.03, -24.0, 0.6, 0.08)):
        phones = []
        for v in ("a", "e", "i", "o", "u"):
            phones += [PhoneSpec("l", 0.06), PhoneSpec(v, 0.15, stressed=True)]
        y, _ = synthesize_ipu(phones, voice, rng=np.random.default_rng(3))
        out.append((0.3 * y / np.max(np.abs(y)), 16000))
    return out


def test_burg_recursion_equals_praats_vecburg():
    rng = np.random.default_rng(1)
    frames = rng.standard_normal((3, 300))
    frames[1] = np.sin(0.3 * np.arange(300)) + 0.01 * frames[1]  # ill-conditioned
    frames[2] *= np.hanning(300)
    coef = burg_lpc(frames, 10)
    assert coef.shape == (3, 11) and np.all(coef[:, 0] == 1.0)
    for f in range(3):
        np.testing.assert_allclose(-coef[f, 1:], praat_vecburg(frames[f], 10), atol=1e-9)


def test_silent_frame_stops_like_praat():
    frames = np.zeros((1, 50))
    frames[0, 10] = 1.0  # one nonzero sample: Burg's error energy vanishes at order 1
    coef = burg_lpc(frames, 10)
    assert np.all(np.isfinite(coef)) and np.all(coef[0, 2:] == 0.0)


@pytest.mark.parametrize("new_sr", [10000.0, 11000.0, 8555.555555555555])
def test_resampling_matches_praats(new_sr):
    y, sr = sf.read(REAL_ES / "MX1" / sorted(p.name for p in (REAL_ES / "MX1").iterdir())[0])
    ref = parselmouth.Sound(y, sampling_frequency=sr).resample(new_sr, 50)
    ours, x1 = praat_resample(y, sr, new_sr)
    assert ours.size == ref.values.shape[1]
    assert x1 == pytest.approx(ref.x1, abs=1e-12)
    err = np.sqrt(np.mean((ours - ref.values[0]) ** 2) / np.mean(ours**2))
    assert err < 1e-3, err  # Praat's 50-deep windowed sinc vs the ideal interpolator


def test_propagated_roots_equal_eigenvalue_roots():
    y, sr = synthetic_vowels()[1]
    z, _ = praat_resample(y, sr, 11000.0)
    w = np.exp(-48.0 * (np.arange(1, 551) - 275.5) ** 2 / 551**2)
    frames = z[np.arange(2000, 9000, 55)[:, None] + np.arange(550)] * w
    coef = burg_lpc(frames, 10)
    eig = lpc_roots(coef)
    walked = lpc_roots(coef, np.r_[False, np.ones(len(coef) - 1, dtype=bool)], every=8)
    dist = np.abs(walked[:, :, None] - eig[:, None, :]).min(axis=2)
    assert dist.max() < 1e-8


@pytest.mark.skipif(not REAL_ES.is_dir(), reason="real-es (../shared) is not beside the repo")
def test_agrees_with_praat_on_real_spanish():
    mx = [sf.read(p) for p in sorted((REAL_ES / "MX1").glob("*.flac"))[:12]]
    co = [sf.read(p) for p in sorted((REAL_ES / "CO1").glob("*.flac"))[:12]]
    for signals, ceilings in ((mx, (5000.0, 5500.0)), (co, (3500.0, 3900.0))):
        med, only_one = agreement(signals, ceilings)
        for k in ("F1", "F2", "F3"):
            assert med[k] < 0.002, (k, med)  # measured 0.005-0.03 %; the issue asks <= 1 %
        for k in ("B1", "B2", "B3"):
            assert med[k] < 0.01, (k, med)
        assert only_one < 0.01


@pytest.mark.skipif(not ALSA.is_dir(), reason="no ALSA test recordings installed")
def test_agrees_with_praat_on_alsa_recordings():
    signals = []
    for path in sorted(ALSA.glob("*.wav"))[:2]:
        y, sr = sf.read(path)
        signals.append((y.mean(axis=1) if y.ndim > 1 else y, sr))
    med, only_one = agreement(signals, (5000.0, 5500.0))
    assert max(med["F1"], med["F2"], med["F3"]) < 0.002, med
    assert max(med["B1"], med["B2"], med["B3"]) < 0.01, med
    assert only_one < 0.01


def test_agrees_with_praat_on_synthetic_vowels():
    med, only_one = agreement(synthetic_vowels(), (5000.0, 5500.0))
    assert max(med["F1"], med["F2"], med["F3"]) < 0.002, med
    assert max(med["B1"], med["B2"], med["B3"]) < 0.01, med
    assert only_one < 0.01


def test_spans_restrict_the_analysed_frames():
    y, sr = synthetic_vowels()[0]
    full = formants_burg(y, sr, [5500.0])[0]
    part = formants_burg(y, sr, [5500.0], spans_s=[[0.3, 0.4]])[0]
    np.testing.assert_array_equal(part.times_s, full.times_s)
    inside = (full.times_s >= 0.3) & (full.times_s <= 0.4)
    np.testing.assert_allclose(part.freqs_hz[:, inside], full.freqs_hz[:, inside], rtol=1e-9)
    assert np.isnan(part.freqs_hz[:, ~inside]).all()


def test_silence_short_signal_and_bad_ceiling():
    sr = 16000
    silent = formants_burg(np.zeros(sr), sr, [5000.0, 8000.0])  # resampled and not
    assert all(np.isnan(s.freqs_hz).all() for s in silent)  # Praat: "Burg cannot stand zeroes"
    y = np.zeros(sr)
    y[8000:] = np.random.default_rng(0).standard_normal(8000)
    out = formants_burg(y, sr, 5000.0)[0]
    assert np.isfinite(out.freqs_hz[0, out.times_s > 0.6]).all()
    short = formants_burg(y[8000:8400], sr, 5000.0)[0]  # 25 ms < one 50 ms window
    assert short.times_s.size == 1
    with pytest.raises(ValueError, match="ceilings_hz"):
        formants_burg(y, sr, 9000.0)


def test_formant_tracks_engines_agree():
    y, sr = synthetic_vowels()[0]
    spans = np.array([[0.06, 0.21], [0.27, 0.42], [0.48, 0.63]])
    a = formant_tracks(y, sr, [5000.0, 6000.0], spans=spans, engine="vectorised")
    b = formant_tracks(y, sr, [5000.0, 6000.0], spans=spans, engine="praat")
    np.testing.assert_allclose(a.times_s, b.times_s)
    inside = np.zeros(a.times_s.size, dtype=bool)
    for lo, hi in spans:
        inside |= (a.times_s >= lo) & (a.times_s <= hi)
    rel = np.abs(a.freqs_hz[..., inside] - b.freqs_hz[..., inside]) / b.freqs_hz[..., inside]
    assert np.nanmedian(rel) < 0.002
    with pytest.raises(ValueError, match="engine"):
        formant_tracks(y, sr, [5000.0], engine="fast")
