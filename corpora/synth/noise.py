"""Degrade a synthetic corpus with noise at a known signal-to-noise ratio, or gate
its pauses to digital silence.

The truth does not change (the speech is the same), so segmentation and every
measurement can be evaluated against it in noise and in gated audio.

- ``white``: Gaussian white noise.
- ``babble``: the sum of six other recordings of the corpus (other voices), each
  with a random offset, looped to length: the cocktail-party noise of a busy
  co-working space or a shared flat.

The SNR is computed over the speech-active part of each recording (the truth
IPUs), not over the whole file, so that pauses do not inflate it.

:func:`gate_pauses` sets every sample outside the truth IPUs to exact zero, as
the noise suppression of web-conferencing tools, text-to-speech and edited files
leave pauses (applied after any noise: the noise stays inside speech only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

NOISE_KINDS: tuple[str, ...] = ("white", "babble")
BABBLE_VOICES = 6


def _speech_power(y: np.ndarray, sr: int, ipus: pd.DataFrame) -> float:
    mask = np.zeros(y.size, bool)
    for start, end in zip(ipus["start_s"], ipus["end_s"], strict=True):
        mask[int(start * sr) : int(end * sr)] = True
    return float(np.mean(y[mask] ** 2)) if mask.any() else float(np.mean(y**2))


def add_noise(corpus_dir: str | Path, *, kind: str, snr_db: float, seed: int = 0) -> None:
    """Mix noise into every recording of a synthetic corpus, in place.

    Parameters
    ----------
    corpus_dir : str or Path
        A corpus written by :func:`corpora.synth.write_corpus`.
    kind : {"white", "babble"}
    snr_db : float
        Speech-to-noise power ratio over the speech-active part (dB).
    seed : int
        Noise seed (the same seed gives the same noisy corpus).
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise {kind!r}; use one of {', '.join(NOISE_KINDS)}")
    root = Path(corpus_dir)
    recordings = pd.read_csv(root / "recordings.csv", dtype=str)
    ipus = pd.read_csv(root / "truth" / "ipus.csv", dtype={"recording_id": str})
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7411]))
    clean = {}
    for row in recordings.itertuples(index=False):
        y, sr = sf.read(root / row.path, dtype="float64")
        clean[row.recording_id] = (y, sr, row.path, row.speaker_id)
    ids = sorted(clean)
    for rid in ids:
        y, sr, rel, speaker = clean[rid]
        if kind == "white":
            noise = rng.standard_normal(y.size)
        else:
            others = [r for r in ids if clean[r][3] != speaker] or [r for r in ids if r != rid]
            picks = rng.choice(len(others), size=min(BABBLE_VOICES, len(others)), replace=False)
            noise = np.zeros(y.size)
            for k in picks:
                other = clean[others[k]][0]
                start = rng.integers(0, other.size)
                noise += np.resize(np.roll(other, -start), y.size)
        gain = np.sqrt(_speech_power(y, sr, ipus[ipus["recording_id"] == rid])
                       / (np.mean(noise**2) * 10 ** (snr_db / 10)))
        mixed = y + gain * noise
        peak = np.max(np.abs(mixed))
        if peak > 0.99:  # keep 16-bit PCM from clipping; the SNR is unchanged by scaling
            mixed *= 0.99 / peak
        sf.write(root / rel, mixed, sr, subtype="PCM_16")


def _ipu_mask(n: int, sr: int, ipus: pd.DataFrame) -> np.ndarray:
    """Samples inside the IPUs (any voice): ``[round(start * sr), round(end * sr))``."""
    mask = np.zeros(n, dtype=bool)
    starts = np.clip(np.round(ipus["start_s"].to_numpy(dtype=np.float64) * sr), 0, n)
    ends = np.clip(np.round(ipus["end_s"].to_numpy(dtype=np.float64) * sr), 0, n)
    for start, end in zip(starts.astype(np.int64), ends.astype(np.int64), strict=True):
        mask[start:end] = True
    return mask


def gate_pauses(corpus_dir: str | Path, *, min_pause_s: float = 0.0) -> None:
    """Gate the pauses of every recording of a synthetic corpus to exact zeros, in place.

    Every pause between the truth IPUs (of any voice), and the silence before the
    first and after the last, becomes digital silence (samples exactly 0), as a
    noise gate or the noise suppression of a web-conferencing tool leaves it;
    the speech itself (with any noise mixed into it by :func:`add_noise`) is
    untouched, and so is the truth. Files are rewritten as 16-bit PCM, in which
    0.0 stays exactly 0.

    Parameters
    ----------
    corpus_dir : str or Path
        A corpus written by :func:`corpora.synth.write_corpus`.
    min_pause_s : float
        Gate only pauses at least this long (s), as a gate with a hold time
        would; 0 gates every pause. Leading and trailing silence is always gated.
    """
    if not min_pause_s >= 0:
        raise ValueError(f"min_pause_s must be >= 0, got {min_pause_s!r}")
    root = Path(corpus_dir)
    recordings = pd.read_csv(root / "recordings.csv", dtype=str)
    ipus = pd.read_csv(root / "truth" / "ipus.csv", dtype={"recording_id": str})
    for row in recordings.itertuples(index=False):
        y, sr = sf.read(root / row.path, dtype="float64")
        speech = _ipu_mask(y.shape[0], sr, ipus[ipus["recording_id"] == row.recording_id])
        if min_pause_s > 0:
            # Pauses shorter than min_pause_s (between two IPUs) stay as they were.
            starts, ends = _runs_of(~speech)
            short = (ends - starts < round(min_pause_s * sr)) & (starts > 0) & (ends < speech.size)
            for start, end in zip(starts[short], ends[short], strict=True):
                speech[start:end] = True
        y[~speech] = 0.0
        sf.write(root / row.path, y, sr, subtype="PCM_16")


def _runs_of(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
