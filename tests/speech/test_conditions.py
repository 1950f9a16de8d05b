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
