"""F0 of the one-pass pipeline against the synthetic corpus's planted contour.

Criterion (feature-core issue): median absolute error <= 1% and gross errors
(> 20% off) <= 1% of the frames voiced in both truth and estimate."""

import numpy as np
import pandas as pd

from corpora.corpus import read_corpus
from speech.segmentation import SegmentationConfig, segment_recording


def test_speaker_adapted_f0_matches_the_planted_contour(synthetic_corpus):
    errors, range_used = [], []
    for recording in read_corpus(synthetic_corpus):
        result = segment_recording(recording, SegmentationConfig(), keep_tracks=True)
        f0 = result.tracks["f0_hz"]
        truth = pd.read_csv(synthetic_corpus / "truth" / "f0" / f"{recording.recording_id}.csv")
        frames = np.round(truth["time_s"].to_numpy() / 0.01).astype(int)
        inside = frames < f0.size
        planted, measured = truth["f0_hz"].to_numpy()[inside], f0[frames[inside]]
        both = np.isfinite(planted) & np.isfinite(measured)
        errors.append(np.abs(measured[both] / planted[both] - 1))
        range_used.append(result.segments[["f0_floor_hz", "f0_ceiling_hz"]])
    errors = np.concatenate(errors)
    assert errors.size > 5000
    assert np.median(errors) <= 0.01
    assert np.mean(errors > 0.20) <= 0.01
    # every segment records the range its voice was measured with, adapted (not 60-500)
    ranges = pd.concat(range_used)
    assert ranges.notna().all().all()
    assert (ranges["f0_floor_hz"] > 60).mean() > 0.9
