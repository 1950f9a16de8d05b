"""Specifications of the lighter spectral front ends (issue #4: memory and speed): the
mel filter bank, the clustering frames and their moments equal librosa's and NumPy's
computations bit for bit, so dropping the librosa import changed no value; the CPPS
time smoothing equals scipy's correlate1d to float32 rounding."""

from __future__ import annotations

import subprocess
import sys

import librosa
import numpy as np
import pytest
from scipy.ndimage import correlate1d

from features.speakers import _column_moments, voice_frames
from features.spectral import _overlap_weights, _smooth, mel_filters, spectral_tracks

SR = 16000


def _speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Harmonic bursts with a wandering F0 in noise: a spectrum with structure."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voiced = sum(np.sin(k * phase) / k for k in range(1, 20))
    envelope = (np.sin(2 * np.pi * 2.5 * t) > -0.2).astype(float)
    return (0.1 * voiced * envelope + 0.003 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.mark.parametrize(("sr", "n_fft", "n_mels", "fmin", "fmax"), [
    (16000, 512, 40, 0.0, None), (16000, 512, 40, 60.0, None), (8000, 256, 40, 0.0, None),
    (44100, 2048, 128, 0.0, None), (16000, 512, 26, 300.0, 7000.0), (16000, 400, 40, 1000.0, None),
])  # fmt: skip
def test_mel_filters_equal_librosa_bit_for_bit(sr, n_fft, n_mels, fmin, fmax) -> None:
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    ours = mel_filters(sr, n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    assert ours.dtype == ref.dtype == np.float32
    np.testing.assert_array_equal(ours, ref)


def _librosa_voice_frames(y, sr, *, hop_s=0.01, win_s=0.025, n_mfcc=20, n_mels=40, fmin=60.0):
    """The former implementation of features.speakers.voice_frames, on librosa."""
    hop, win = round(hop_s * sr), round(win_s * sr)
    n_fft = 1 << int(np.ceil(np.log2(win)))
    spec = np.abs(librosa.stft(y.astype(np.float32), n_fft=n_fft, hop_length=hop,
                               win_length=win)) ** 2
    fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin)
    mel_db = 10.0 * np.log10(np.maximum(fb @ spec, 1e-10))
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=n_mfcc)[1:].astype(np.float32)
    level = (10.0 * np.log10(np.maximum(spec.sum(axis=0), 1e-10))).astype(np.float32)
    return mfcc, level


@pytest.mark.parametrize("n", [700, 16000 * 3 + 77, 16000 * 70])
def test_voice_frames_equal_the_librosa_computation(n) -> None:
    # 70 s spans several of the FFT batches; 700 samples is shorter than two frames.
    y = np.resize(_speechlike(10.0), n)
    mfcc, level = voice_frames(y, SR)
    ref_mfcc, ref_level = _librosa_voice_frames(y, SR)
    assert mfcc.shape == ref_mfcc.shape == (19, 1 + n // 160)  # frames on the last axis
    np.testing.assert_array_equal(mfcc, ref_mfcc)
    np.testing.assert_array_equal(level, ref_level)


@pytest.mark.parametrize("n", [700, 16000 * 23 + 77])
def test_one_stft_serves_spectral_tracks_and_clustering_frames(n) -> None:
    # The pipeline computes the 25 ms STFT once (spectral_tracks) and hands its power
    # to voice_frames; against voice_frames' own STFT (float64 FFT of the signal, not
    # mean-removed), the float32 FFT of the mean-removed signal moves MFCCs by < 1e-3
    # (0.01% of their spread) and the frame level by < 1e-4 dB.
    y = np.resize(_speechlike(10.0), n).astype(np.float64)
    y -= y.mean()
    tracks, power = spectral_tracks(y, SR, block_s=10.0, return_power=True)
    alone = spectral_tracks(y, SR, block_s=10.0)
    for name, values in alone.items():
        np.testing.assert_array_equal(tracks[name], values)
    assert power.dtype == np.float32 and power.shape == (1 + n // 160, 257)
    mfcc, level = voice_frames(y, SR, power=power)
    ref_mfcc, ref_level = voice_frames(y, SR)
    np.testing.assert_allclose(mfcc, ref_mfcc, atol=1e-3)
    np.testing.assert_allclose(level, ref_level, atol=1e-4)
    with pytest.raises(ValueError, match="power must have shape"):
        voice_frames(y, SR, power=power[:-1])

def test_column_moments_equal_numpy_on_the_selected_rows() -> None:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((250_001, 19)) * 7 + 30).astype(np.float32)
    rows = np.flatnonzero(rng.random(x.shape[0]) > 0.3)
    mu, sd = _column_moments(x, rows, chunk=40_000)
    np.testing.assert_array_equal(mu, x[rows].mean(axis=0, dtype=np.float64))
    np.testing.assert_array_equal(sd, x[rows].std(axis=0, dtype=np.float64))


def test_the_pipeline_never_imports_librosa() -> None:
    # librosa pulls in numba and LLVM: some 125 MB resident in every worker.
    code = ("import sys, numpy as np\n"
            "import speech.segmentation\n"
            "from features.speakers import voice_frames\n"
            "from features.spectral import spectral_tracks\n"
            "y = np.random.default_rng(0).standard_normal(32000).astype(np.float32)\n"
            "voice_frames(y, 16000); spectral_tracks(y, 16000)\n"
            "print(sorted(m for m in ('librosa', 'numba') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("window_s", [0.02, 0.05, 0.005])
def test_time_smoothing_equals_correlate1d_renormalised_at_the_edges(window_s) -> None:
    rng = np.random.default_rng(5)
    values = (rng.random((300, 64)) * 50).astype(np.float32)
    weights = _overlap_weights(window_s, 0.01)
    w = weights.astype(np.float32)
    ref = (correlate1d(values, w, axis=0, mode="constant")
           / correlate1d(np.ones(300, np.float32), w, mode="constant")[:, None])
    ours = _smooth(values, weights, axis=0)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    # Edge rows are averages of the rows that exist (renormalised weights).
    if w.size == 3:
        np.testing.assert_allclose(ours[0], (w[1] * values[0] + w[2] * values[1])
                                   / (w[1] + w[2]), rtol=1e-6)
