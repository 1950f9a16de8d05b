"""Specifications of the feature registry (features.registry): one name per column, units
in names, docs generated from it and never out of step."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from features.functionals import FUNCTIONALS
from features.registry import (
    FEATURE_SET_VERSION,
    FeatureSpec,
    build_registry,
    naming_problems,
    render_markdown,
    unit_suffix,
)
from speech.schema import SEGMENT_COLUMNS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def registry():
    from speech.schema import REGISTRY

    return REGISTRY


def test_docs_are_generated_from_the_registry(registry):
    docs = (ROOT / "docs/FEATURES.md").read_text(encoding="utf-8")
    assert docs == render_markdown(registry), (
        "docs/FEATURES.md is stale: python -m speech.schema > docs/FEATURES.md"
    )
    assert f"version {FEATURE_SET_VERSION}" in docs


def test_every_name_follows_the_unit_rule_and_is_unique(registry):
    assert naming_problems(registry) == []
    names = [s.name for s in registry]
    assert len(names) == len(set(names))


def test_registry_covers_its_sources(registry):
    names = {s.name for s in registry}
    assert set(SEGMENT_COLUMNS) <= names
    for col in (
        "f0_median_st",
        "f0_slope_st_per_s",
        "intensity_mean_db",
        "centroid_p95_hz",
        "speech_rate_syll_s",
        "articulation_rate_syll_s",
        "pause_rate_per_min",
        "vocalic_pct",
        "delta_c_s",
        "varco_v",
        "npvi_v",
        "rpvi_c_s",
        "voiced_ratio",
        "n_segments",
        "speech_s",
    ):
        assert col in names, col
    from features.spectral import TRACKS
    from features.voice import MEASURES

    assert {m.name for m in MEASURES} <= names
    assert len([s for s in registry if s.name.startswith("centroid_")]) == len(FUNCTIONALS)
    assert len(names) >= len(SEGMENT_COLUMNS) + len(FUNCTIONALS) * (2 + len(TRACKS))
    assert {s.level for s in registry} <= {"segment", "speaker", "recording", "token"}
    assert all(s.definition and s.unit for s in registry)


def test_naming_rule_catches_mistakes():
    bad = [
        FeatureSpec("f0_mean", "st", "x", "", "segment"),  # unit missing
        FeatureSpec("jitter_pct", "dB", "x", "", "segment"),  # wrong unit
        FeatureSpec("npvi_s", "1", "x", "", "segment"),  # looks like seconds
        FeatureSpec("f0_slope_st", "st/s", "x", "", "segment"),  # slope without _per_s
        FeatureSpec("Speech_Rate_syll_s", "syll/s", "x", "", "speaker"),
    ]
    assert len(naming_problems(bad)) == len(bad)
    dup = [FeatureSpec("a_s", "s", "x", "", "segment")] * 2
    assert naming_problems(dup) == ["a_s: registered twice"]


def test_units_and_levels_are_checked():
    assert unit_suffix("st/s") == "st_per_s" and unit_suffix("1/s") == "per_s"
    assert unit_suffix("%") == "pct" and unit_suffix("1") == ""
    with pytest.raises(ValueError, match="unknown unit"):
        unit_suffix("furlongs")
    with pytest.raises(ValueError, match="unknown level"):
        FeatureSpec("a_s", "s", "x", "", "utterance")
    with pytest.raises(ValueError, match="naming rule"):
        build_registry(
            [SimpleNamespace(name="centroid_hz", unit="Hz", definition="x", reference="")],
            [SimpleNamespace(name="hnr", unit="dB", definition="x", reference="")],
        )


def specs_committed():
    from speech.schema import REGISTRY

    return REGISTRY


def test_biased_by_comes_from_the_measured_bias_file(tmp_path):
    from features.registry import BIAS_THRESHOLDS, CONDITION_BIAS_CSV, read_condition_bias

    path = tmp_path / "bias.csv"
    path.write_text("condition,feature,unit,change,kind,biased\n"
                    "opus=8,cpps_median_db,dB,-2.3,difference,True\n"
                    "opus=8,f0_median_st,st,0.01,difference,False\n"
                    "reverb=0.5,cpps_median_db,dB,-5.0,difference,True\n", encoding="utf-8")
    assert read_condition_bias(path) == {"cpps_median_db": ("opus=8", "reverb=0.5")}
    assert read_condition_bias(tmp_path / "absent.csv") == {}
    specs = {s.name: s for s in build_registry(condition_bias=read_condition_bias(path))}
    assert specs["cpps_median_db"].biased_by == ("opus=8", "reverb=0.5")
    assert specs["f0_median_st"].biased_by == ()
    # The committed file's flags follow the stated thresholds, and the measured biases
    # the degradation table shows are in the registry.
    import pandas as pd

    committed = pd.read_csv(CONDITION_BIAS_CSV)
    limit = committed["kind"].map({"difference": BIAS_THRESHOLDS["log"],
                                   "relative": BIAS_THRESHOLDS["relative"]})
    assert (committed["biased"] == (committed["change"].abs() > limit)).all()
    registry = {s.name: s for s in specs_committed()}
    assert "reverb=0.5" in registry["cpps_median_db"].biased_by
    assert "reverb=0.5" in registry["shimmer_local_pct"].biased_by
    assert all("reverb=0.5" not in registry[n].biased_by for n in ("f0_median_st",))
