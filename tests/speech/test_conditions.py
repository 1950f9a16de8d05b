"""Recording conditions in the conductor: the ``recordings`` table carries the estimates
of features.conditions, and ``check`` summarises them per recording."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from typer.testing import CliRunner

from corpora.corpus import read_corpus
from features.conditions import CONDITION_COLUMNS
from speech.cli import app
from speech.conditions import condition_table, measure_conditions
from speech.segmentation import RECORDING_COLUMNS, SegmentationConfig, segment_recording
from tests.conftest import SR, tone


def _gated_clipped(path) -> None:
    """A tone clipped 4x over full scale, with 0.5 s of digital silence every second."""
    y = np.clip(4 * tone(6.0) / 0.23, -1, 1)
    t = np.arange(y.size) / SR
    sf.write(path, np.where(t % 1.0 < 0.5, y, 0.0), SR, subtype="PCM_16")


def test_condition_table_flags_a_gated_clipped_file_and_not_the_clean_ones(corpus_dir):
    _gated_clipped(corpus_dir / "audio/S03/S03_u01.wav")
    table = condition_table(read_corpus(corpus_dir)).set_index("recording_id")
    assert list(table.columns) == [*CONDITION_COLUMNS, "flags"]
    bad = table.loc["S03_u01"]
    assert bad["gated_ratio"] > 0.4 and bad["clipped_ratio"] > 0.1
    assert "gated" in bad["flags"] and "clipped" in bad["flags"]
    assert np.isnan(bad["snr_db"])  # digital-silence pauses: no floor to measure
    clean = table.loc["S01_u01"]
    assert clean["gated_ratio"] == 0 and clean["clipped_ratio"] == 0
    assert "clipped" not in clean["flags"] and "gated" not in clean["flags"]


def test_blocks_give_the_estimates_of_one_pass(corpus_dir):
    path = corpus_dir / "audio/S03/S03_u01.wav"
    _gated_clipped(path)
    whole = measure_conditions(path, block_s=60.0)
    blocks = measure_conditions(path, block_s=1.3)
    # Runs cut by a block edge are counted per part: a few samples of difference.
    for column in ("gated_ratio", "clipped_ratio"):
        assert abs(blocks[column] - whole[column]) < 0.01, column
    assert abs(blocks["band_limit_hz"] - whole["band_limit_hz"]) <= 100


def test_recordings_table_has_the_condition_columns(corpus_dir):
    _gated_clipped(corpus_dir / "audio/S03/S03_u01.wav")
    recording = read_corpus(corpus_dir).recordings["S03_u01"]
    row = segment_recording(recording, SegmentationConfig()).recording
    assert set(CONDITION_COLUMNS) <= set(RECORDING_COLUMNS) <= set(row.columns)
    assert row["gated_ratio"].item() > 0.4 and row["clipped_ratio"].item() > 0.1
    assert np.isnan(row["snr_db"].item())


def test_check_prints_the_condition_summary(corpus_dir):
    result = CliRunner().invoke(app, ["check", str(corpus_dir)])
    assert result.exit_code == 0, result.output
    assert "recording conditions" in result.output and "S03_u01" in result.output
    skipped = CliRunner().invoke(app, ["check", str(corpus_dir), "--no-decode"])
    assert "recording conditions" not in skipped.output


def _recordings(n_reverberant: int, n: int = 6):
    import pandas as pd

    return pd.DataFrame({"recording_id": [f"R{i}" for i in range(n)],
                         "band_limit_hz": 7800.0, "gated_ratio": 0.0, "clipped_ratio": 0.0,
                         "snr_db": 40.0,
                         "reverb_decay_s": [0.45] * n_reverberant + [0.18] * (n - n_reverberant)})


def test_caveats_name_the_biased_features_the_corpus_conditions_touch():
    from features.registry import FeatureSpec
    from speech.conditions import condition_caveats

    specs = [FeatureSpec("jitter_local_pct", "%", "x", "", "segment",
                         biased_by=("aac=32", "reverb=0.5")),
             FeatureSpec("f0_median_st", "st", "x", "", "segment", biased_by=()),
             FeatureSpec("cpps_median_db", "dB", "x", "", "segment", biased_by=("opus=8",))]
    caveats = condition_caveats(_recordings(2), specs)
    assert list(caveats) == ["jitter_local_pct"]  # no recording is band-limited
    assert "2 of 6 recordings are reverberant" in caveats["jitter_local_pct"]
    assert "reverb=0.5" in caveats["jitter_local_pct"]
    assert condition_caveats(_recordings(0), specs) == {}
    # A preset counts for the conditions it applies (webconf includes a room).
    webconf = [FeatureSpec("hnr_db", "dB", "x", "", "segment", biased_by=("webconf",))]
    assert "hnr_db" in condition_caveats(_recordings(1), webconf)


def test_association_section_prints_a_caution_beside_a_biased_association():
    import pandas as pd

    from speech.report_sections import association_section

    table = pd.DataFrame({"feature": ["jitter_local_pct", "f0_median_st"],
                          "variable": ["education", "gender"], "test": ["kruskal", "mannwhitney"],
                          "effect_size_name": ["epsilon2", "r"], "effect_size": [0.4, 0.5],
                          "p_value": [0.001, 0.001], "q_value": [0.01, 0.01],
                          "n_speakers": [30, 30]})
    caveats = {"jitter_local_pct": "2 of 6 recordings are reverberant and jitter_local_pct is "
                                   "biased by reverb=0.5"}
    _, blocks, findings = association_section({"associations": table}, lambda r: "s", 5, caveats)
    notes = [b.text for b in blocks if b.kind == "note"]
    assert len(notes) == 1 and "reverberant" in notes[0] and "Caution" in notes[0]
    by_feature = {f["feature"]: f for f in findings}
    assert "caution" in by_feature["jitter_local_pct"]
    assert "caution" not in by_feature["f0_median_st"]
    _, plain, _ = association_section({"associations": table}, lambda r: "s", 5)
    assert [b.kind for b in plain] == ["table"]
