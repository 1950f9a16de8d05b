"""Degrade a synthetic corpus with noise at a known signal-to-noise ratio.

The truth does not change (the speech is the same), so segmentation and every
measurement can be evaluated against it in noise.

- ``white``: Gaussian white noise.
- ``babble``: the sum of six other recordings of the corpus (other voices), each
  with a random offset, looped to length: the cocktail-party noise of a busy
  co-working space or a shared flat.

The SNR is computed over the speech-active part of each recording (the truth
IPUs), not over the whole file, so that pauses do not inflate it.
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
