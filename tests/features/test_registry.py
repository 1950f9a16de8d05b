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
