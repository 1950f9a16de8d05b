"""Issue #14 on real speech: read Spanish words (real-es, speaker MX1) whose pauses
are digital silence, as noise suppression, text-to-speech and edited files leave
them. The word edges are known (each word is placed at a known sample), so the
segments are checked against them, not against the pipeline itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from corpora.corpus import Recording
from features.evaluation import boundary_scores
from speech.cli import app
from speech.segmentation import SegmentationConfig, segment_recording

REAL_ES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real-es"
WORDS = sorted((REAL_ES / "audio" / "MX1").glob("*.flac"))
SR = 16000

pytestmark = pytest.mark.skipif(not WORDS, reason=f"real-es not found at {REAL_ES}")


def word_edges(y: np.ndarray) -> tuple[int, int]:
    """First and last sample of the 10 ms frames within 35 dB of the word's loudest."""
    n = y.size // 160
    level = 10 * np.log10(np.mean(y[: n * 160].reshape(n, 160) ** 2, axis=1) + 1e-20)
    loud = np.flatnonzero(level >= level.max() - 35)
    return loud[0] * 160, (loud[-1] + 1) * 160


def gated_reading(pause_s: tuple[float, float], *, seed: int = 0, total_s: float = 60.0,
                  dither: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MX1's words one after another, ~60 s, with pauses of exact zeros drawn from
    ``pause_s``; every other word also has its own lead-in and tail (the recording's
    room noise, ~50 ms) zeroed, as a noise gate would. Returns the signal and each
    word's (start, end) in seconds."""
    rng = np.random.default_rng(seed)
    pieces, edges, t = [np.zeros(SR // 4)], [], SR // 4
    for k, path in enumerate(WORDS):
        y, sr = sf.read(path, dtype="float64")
        assert sr == SR
        a, b = word_edges(y)
        if k % 2:
            y = y.copy()
            y[:a], y[b:] = 0.0, 0.0
        edges.append(((t + a) / SR, (t + b) / SR))
        gap = int(rng.uniform(*pause_s) * SR)
        pieces += [y, np.zeros(gap)]
        t += y.size + gap
        if t >= total_s * SR:
            break
    signal = np.concatenate(pieces)
    if dither:  # +-1 LSB of 16-bit instead of exact zeros
        silent = signal == 0.0
        signal[silent] = rng.integers(-1, 2, silent.sum()) / 32768.0
    return signal, np.array(edges)


def segments_of(path: Path) -> np.ndarray:
    result = segment_recording(Recording(path.stem, path, "interview", "MX1", 1),
                               SegmentationConfig(features=False))
    assert result.errors.empty, result.errors
    return result.segments[["start_s", "end_s"]].to_numpy()


@pytest.mark.parametrize("dither", [False, True], ids=["zeros", "lsb-dither"])
def test_gated_read_words_segment_at_the_word_edges(tmp_path, dither):
    y, words = gated_reading((0.3, 0.8), dither=dither)
    path = tmp_path / "gated.wav"
    sf.write(path, y, SR, subtype="PCM_16")
    found = segments_of(path)
    # One segment per word (every pause >= 0.3 s), edges within 50 ms of the word's.
    assert abs(len(found) - len(words)) <= 2, (len(found), len(words))
    scores = boundary_scores(words, found, tolerance_s=0.05)
    assert scores["f1"] >= 0.95, scores


def test_issue_14_profile_finds_speech_in_continuous_gated_reading(tmp_path):
    # Words back to back (no room noise at all between them) and a pause of exact
    # zeros every 8 words, 5-10 % of the recording: "no speech found" before.
    rng = np.random.default_rng(3)
    pieces, spoken = [np.zeros(SR // 5)], 0
    for k, path in enumerate(WORDS):
        y, _ = sf.read(path, dtype="float64")
        a, b = word_edges(y)
        pieces.append(y[a:b])
        spoken += b - a
        if k % 8 == 7:
            pieces.append(np.zeros(int(rng.uniform(0.3, 0.6) * SR)))
        if sum(p.size for p in pieces) >= 60 * SR:
            break
    y = np.concatenate([*pieces, np.zeros(SR // 5)])
    silent_share = np.mean(y == 0.0)
    assert 0.02 < silent_share < 0.10  # the floor statistics' trouble zone
    path = tmp_path / "continuous.wav"
    sf.write(path, y, SR, subtype="PCM_16")
    result = CliRunner().invoke(app, ["profile", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert "no speech found" not in result.output
    found = segments_of(path)
    speech_s = float(np.sum(found[:, 1] - found[:, 0]))
    assert 0.95 * spoken / SR <= speech_s <= spoken / SR + 1.0, (speech_s, spoken / SR)
