"""scripts/degradation.py: the measurement chain on clean and degraded copies of one
synthetic corpus prints one row per condition, and the rows move as the conditions
say they should."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "degradation.py"


def _module():
    spec = importlib.util.spec_from_file_location("degradation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_degradation_table_has_a_row_per_condition_and_narrowband_opus_shows(tmp_path, capsys):
    out = tmp_path / "degradation"
    assert _module().main(["--out", str(out), "--speakers", "1", "--minutes", "0.3",
                           "--jobs", "1", "--conditions", "opus=8"]) == 0
    table = pd.read_csv(out / "degradation.csv")
    assert list(table["condition"]) == ["clean", "opus=8"]
    clean, coded = table.iloc[0], table.iloc[1]
    assert clean["boundary_f1"] > 0.9 and clean["f0_median_error"] < 0.02
    assert clean["hnr_db_bias"] == 0 and clean["cpps_median_db_bias"] == 0
    # Narrowband Opus at 8 kbit/s (4 kHz band) smears the harmonics and the upper
    # formants: CPPS falls by more than 1 dB, shimmer rises, F2's error at least doubles;
    # segmentation and F0 hold.
    assert coded["cpps_median_db_bias"] < -1.0
    assert coded["shimmer_local_pct_bias"] > 0.05
    assert coded["f2_median_error"] > 2 * clean["f2_median_error"]
    assert coded["boundary_f1"] > 0.9 and coded["f0_median_error"] < 0.02
    assert (out / "opus8" / "truth" / "conditions.csv").is_file()
    # Every registry feature's bias, flagged at the registry's thresholds.
    bias = pd.read_csv(out / "feature_bias.csv").set_index("feature")
    assert set(bias["condition"]) == {"opus=8"}
    assert bias.loc["cpps_median_db", "change"] < -1.0 and bias.loc["cpps_median_db", "biased"]
    assert not bias.loc["f0_median_st", "biased"]
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].startswith("| condition | boundary_f1 |")
