"""The measurement engine setting: validated, recorded, and both engines agree.

Issue #15: the default engine is the vectorised one (features.pitch, and
features.pulses for the glottal pulses); ``praat`` keeps Praat's own analyses. On
the same recording the two must agree: F0 within 1% on >= 99% of the frames both
call voiced, voicing on >= 97% of frames, jitter, shimmer and HNR within 5%, and
the same periods counted.
"""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from corpora.corpus import read_corpus
from features.voice import MEASURES as VOICE_MEASURES
from speech.cli import app
from speech.segmentation import SegmentationConfig, segment_recording

#: Every stored voice-quality measure but the period count (compared on its own).
VOICE_COLUMNS = [m.name for m in VOICE_MEASURES if m.name != "n_periods"]


def test_the_engine_is_a_validated_setting() -> None:
    assert SegmentationConfig().engine == "vectorised"
    assert SegmentationConfig(engine="praat").as_dict()["engine"] == "praat"
    with pytest.raises(ValueError, match="unknown engine 'fast'"):
        SegmentationConfig(engine="fast")


@pytest.fixture(scope="module")
def both_engines(synthetic_corpus):
    recording = next(r for r in read_corpus(synthetic_corpus) if r.kind == "interview")
    return [
        segment_recording(recording, SegmentationConfig(engine=e), keep_tracks=True)
        for e in ("vectorised", "praat")
    ]


def test_engines_agree_on_an_interview(both_engines) -> None:
    ours, praat = both_engines
    f_o, f_p = ours.tracks["f0_hz"], praat.tracks["f0_hz"]
    assert np.mean(np.isfinite(f_o) == np.isfinite(f_p)) >= 0.99
    both = np.isfinite(f_o) & np.isfinite(f_p)
    assert both.sum() > 1000
    assert np.mean(np.abs(f_o[both] / f_p[both] - 1) < 0.01) >= 0.99
    seg_o, seg_p = ours.segments, praat.segments
    assert seg_o["segment_id"].tolist() == seg_p["segment_id"].tolist()
    for column in VOICE_COLUMNS:
        a, b = seg_o[column].to_numpy(float), seg_p[column].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), column
        ok = np.isfinite(a)
        assert ok.sum() >= 5, column
        assert np.all(np.abs(a[ok] / b[ok] - 1) < 0.05), column
    # The same pulses: the default engine places them as Praat does, from its own pitch.
    n_o, n_p = seg_o["n_periods"].to_numpy(), seg_p["n_periods"].to_numpy()
    assert np.mean(n_o == n_p) >= 0.95 and np.all(np.abs(n_o - n_p) <= 0.01 * n_p + 1)


def test_cli_takes_the_engine_and_the_manifest_records_it(three_recordings, tmp_path) -> None:
    runner = CliRunner()
    store = tmp_path / "store"
    bad = runner.invoke(
        app, ["extract", str(three_recordings), "--store", str(store), "--engine", "fast"]
    )
    assert bad.exit_code == 2 and "unknown engine 'fast'" in bad.output
    good = runner.invoke(
        app,
        [
            "extract",
            str(three_recordings),
            "--store",
            str(store),
            "--engine",
            "praat",
            "--no-features",
        ],
    )
    assert good.exit_code == 0, good.output
    manifest = json.loads((store / "manifest.json").read_text())
    assert manifest["config"]["segmentation"]["engine"] == "praat"
