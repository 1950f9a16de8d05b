"""Pass 1 writes its frame tracks into arrays sized once from the recording's duration
(issue #4: a 3-hour recording within 1 GB): the tracks equal the blocks joined, and a
recording analysed in many blocks gives the segments of one analysed in one block."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from corpora.corpus import Recording, read_corpus
from features.frames import n_frames
from speech.pass_one import FrameTracks
from speech.segmentation import SegmentationConfig, segment_recording


def _blocks(rng, sizes, shape, axis):
    out = []
    for n in sizes:
        dims = list(shape)
        dims.insert(axis, n)
        out.append(rng.standard_normal(dims).astype(np.float32))
    return out


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", [(), (22,), (19,), (2, 3)])
@pytest.mark.parametrize("capacity", [250, 40])  # announced exactly, and far too short
def test_tracks_equal_the_concatenated_blocks(shape, order, capacity):
    rng = np.random.default_rng(0)
    parts = _blocks(rng, [100, 100, 37, 13], shape, len(shape))
    tracks = FrameTracks(capacity)
    for part in parts:
        tracks.add("x", part, order=order)
    joined = tracks.get("x")
    expected = np.concatenate(parts, axis=-1)
    assert joined.dtype == np.float32
    np.testing.assert_array_equal(joined, expected)
    if order == "F" and len(shape) == 1:  # frames as rows without a copy
        assert joined.T.flags.c_contiguous


def test_absent_and_released_tracks_are_none():
    tracks = FrameTracks(10)
    tracks.add("f0", None)
    assert tracks.get("f0") is None
    tracks.add("mfcc", np.ones((19, 4)), order="F")
    assert tracks.get("mfcc").shape == (19, 4)
    tracks.release("mfcc", "never_added")
    assert tracks.get("mfcc") is None


@pytest.fixture(scope="module")
def interview(synthetic_corpus):
    return next(r for r in read_corpus(synthetic_corpus) if r.kind == "interview")


def test_many_blocks_give_the_segments_of_one_block(interview, tmp_path):
    # Clustering attribution (no transcript) uses every pass-1 track: MFCCs, level, F0,
    # intensity and the spectral tracks of the segment features. (Values near block
    # edges may move slightly: each block removes its own DC offset and Praat tracks
    # pitch per block; the frame grid and the segmentation must not.)
    y, sr = sf.read(interview.path, dtype="float32")
    path = tmp_path / "bare.wav"
    sf.write(path, y, sr, subtype="FLOAT")
    bare = Recording("bare", path, "interview", interview.speaker_id, 2)
    duration_s = y.shape[0] / sr
    one = segment_recording(bare, SegmentationConfig(block_s=duration_s + 10), keep_tracks=True)
    many = segment_recording(bare, SegmentationConfig(block_s=7.0), keep_tracks=True)
    assert one.errors.empty and many.errors.empty
    assert one.segments["method"].eq("cluster").all() and len(one.segments) > 5
    frames = n_frames(y.shape[0], sr, 0.01)
    for name in ("f0_hz", "intensity_db", "voice"):
        assert many.tracks[name].shape == one.tracks[name].shape == (frames,)
    np.testing.assert_allclose(many.tracks["intensity_db"], one.tracks["intensity_db"],
                               rtol=1e-6)
    for column in ("speaker_id", "start_s", "end_s"):
        pd.testing.assert_series_equal(many.segments[column], one.segments[column])
    # Nucleus counts read the voicing, which the pitch path decides per block: on this
    # interview 3 of 1786 frames (0.6 s before a block edge) change voicing, and one
    # nucleus voiced within 20 ms of them comes and goes.
    moved = (many.segments["n_nuclei"] - one.segments["n_nuclei"]).abs()
    assert moved.max() <= 1 and moved.sum() <= 1
    assert many.segments.filter(like="mfcc").notna().all().all()
