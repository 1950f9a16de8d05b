"""One registry of every feature column: name, unit, level, definition, reference.

The registry is the single source of the column names the store writes and of
their documentation: ``docs/FEATURES.md`` is generated from it, with the segments
table's own columns, by ``python -m speech.schema > docs/FEATURES.md``, and a test
keeps the two identical. Names are stable; a change of a name or of a definition bumps
:data:`FEATURE_SET_VERSION` (recorded in the store's manifest).

Naming rule
-----------
A name is snake_case and ends with the suffix of its unit (:data:`UNIT_SUFFIXES`):
``_hz``, ``_st`` (semitones re 100 Hz), ``_db``, ``_s``, ``_ratio``, ``_pct``,
and derived ones (``_st_per_s``, ``_db_per_khz``, ``_syll_s``, ``_per_min``).
Dimensionless indices (unit ``1``), counts (``n_...``), identifiers and labels
carry no unit suffix, and must not end like one.

Sources
-------
- the segments table's own columns, given by the conductor (``speech.schema``, whose
  :data:`speech.schema.REGISTRY` is the store's whole registry);
- the functionals (:mod:`features.functionals`) of every frame track: F0 in
  semitones, intensity in dB, and every entry of ``features.spectral.TRACKS``;
- the segment voice-quality measures ``features.voice.MEASURES``;
- timing and rhythm (:mod:`features.rhythm`);
- the speaker-level counts of ``models.aggregate.aggregate_speakers``.

:data:`REGISTRY` (the features' columns) is built on first access (the spectral and
voice modules, with their Parselmouth imports, are loaded then, not when this module
is imported); :func:`build_registry` builds one from explicit track and measure lists.
"""

from __future__ import annotations

import csv
import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from features.functionals import FUNCTIONALS, MIN_FRAMES, column_name

__all__ = [
    "BIAS_LOG_UNITS",
    "BIAS_THRESHOLDS",
    "FEATURE_SET_VERSION",
    "LEVELS",
    "REGISTRY",  # noqa: F822 (built on first access, module __getattr__)
    "UNIT_SUFFIXES",
    "FeatureSpec",
    "build_registry",
    "naming_problems",
    "render_markdown",
    "unit_suffix",
]

#: Version of the feature set: bump it when a name or a definition changes.
FEATURE_SET_VERSION = "1.4"

#: Levels, finest last: the table a feature is a column of.
LEVELS: tuple[str, ...] = ("recording", "speaker", "segment", "token")

#: Unit (as written in the registry) -> name suffix ("" for no suffix).
UNIT_SUFFIXES: dict[str, str] = {
    "Hz": "hz", "st": "st", "dB": "db", "s": "s", "ratio": "ratio", "%": "pct",
    "dB/kHz": "db_per_khz", "syll/s": "syll_s", "1/min": "per_min",
    "1": "", "count": "", "id": "", "label": "",
}  # fmt: skip

# Suffixes a name without unit must not end with.
_BASE_SUFFIXES = ("hz", "st", "db", "s", "ratio", "pct", "per_s", "per_min", "khz")


def unit_suffix(unit: str) -> str:
    """Name suffix of a unit: ``"Hz" -> "hz"``, ``"st/s" -> "st_per_s"``, ``"1" -> ""``.

    A unit ``U/s`` (a slope) has the suffix of ``U`` followed by ``_per_s``.

    Raises
    ------
    ValueError
        For a unit outside :data:`UNIT_SUFFIXES` (and their ``/s`` slopes).
    """
    if unit in UNIT_SUFFIXES:
        return UNIT_SUFFIXES[unit]
    if unit.endswith("/s") and unit[:-2] in UNIT_SUFFIXES and unit[:-2] not in ("id", "label"):
        base = UNIT_SUFFIXES[unit[:-2]]
        return f"{base}_per_s" if base else "per_s"
    known = ", ".join(repr(u) for u in UNIT_SUFFIXES)
    raise ValueError(f"unknown unit {unit!r}; use one of {known} (or a slope 'U/s')")


@dataclass(frozen=True)
class FeatureSpec:
    """One column of the store.

    Attributes
    ----------
    name : str
        Column name, with its unit suffix.
    unit : str
        Unit of the values, a key of :data:`UNIT_SUFFIXES` or a slope ``U/s``.
    definition : str
        What is measured, precisely enough to recompute it.
    reference : str
        Where the measure or its formula comes from ("" for bookkeeping columns).
    level : str
        One of :data:`LEVELS`: the table the column belongs to.
    biased_by : tuple of str
        Recording conditions that bias the feature beyond :data:`BIAS_THRESHOLDS`, as
        measured by ``scripts/degradation.py`` (``features/condition_bias.csv``), e.g.
        ``("aac=32", "reverb=0.5")``; empty when none did (or it was not measured).
    """

    name: str
    unit: str
    definition: str
    reference: str
    level: str
    biased_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"{self.name}: unknown level {self.level!r}; use one of {LEVELS}")
        unit_suffix(self.unit)  # raises for an unknown unit
        if not self.definition.strip():
            raise ValueError(f"{self.name}: empty definition")


def naming_problems(specs: Iterable[FeatureSpec]) -> list[str]:
    """Every violation of the naming rule (module notes) and every duplicate name."""
    problems = []
    seen: set[str] = set()
    for spec in specs:
        name = spec.name
        if name in seen:
            problems.append(f"{name}: registered twice")
        seen.add(name)
        if (
            not name
            or name != name.lower()
            or not name.replace("_", "").isalnum()
            or (name != name.strip("_") or "__" in name)
        ):
            problems.append(f"{name}: not a snake_case name")
            continue
        suffix = unit_suffix(spec.unit)
        if suffix and not name.endswith(f"_{suffix}"):
            problems.append(f"{name}: unit {spec.unit!r} asks for the suffix _{suffix}")
        if not suffix and any(name.endswith(f"_{s}") for s in _BASE_SUFFIXES):
            problems.append(f"{name}: unit {spec.unit!r} but the name ends like a unit")
    return problems


#: Units whose bias is a difference (dB, st, dB/kHz); every other unit's is relative.
BIAS_LOG_UNITS: frozenset[str] = frozenset({"dB", "st", "dB/kHz"})
#: A feature is biased by a condition when the median change over speakers exceeds
#: 1 unit (log units) or 10 % (relative): about the between-speaker differences the
#: models look for (e.g. 1 dB of HNR, a tenth of a speaker's jitter).
BIAS_THRESHOLDS: dict[str, float] = {"log": 1.0, "relative": 0.10}
#: The committed output of ``scripts/degradation.py`` (``DIR/feature_bias.csv``).
CONDITION_BIAS_CSV = Path(__file__).with_name("condition_bias.csv")


def read_condition_bias(path: str | Path = CONDITION_BIAS_CSV) -> dict[str, tuple[str, ...]]:
    """Feature name -> the conditions that bias it, from a ``feature_bias.csv``
    (columns condition, feature, unit, change, kind, biased); {} when the file is absent."""
    path = Path(path)
    if not path.is_file():
        return {}
    out: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["biased"].strip().lower() == "true":
                out.setdefault(row["feature"], []).append(row["condition"])
    return {name: tuple(conditions) for name, conditions in out.items()}


# --- the sources ---------------------------------------------------------------------

_SEG = "speech.segmentation (segment_recording)"
_DE_JONG = (
    "de Jong, N. H. & Wempe, T. (2009). Praat script to detect syllable nuclei and "
    "measure speech rate automatically. Behavior Research Methods 41(2), 385-390"
)
_RAMUS = (
    "Ramus, F., Nespor, M. & Mehler, J. (1999). Correlates of linguistic rhythm in the "
    "speech signal. Cognition 73(3), 265-292"
)
_DELLWO = (
    "Dellwo, V. (2006). Rhythm and speech rate: a variation coefficient for deltaC. "
    "In Karnowski & Szigeti (eds.), Language and Language-Processing, 231-241"
)
_GRABE = (
    "Grabe, E. & Low, E. L. (2002). Durational variability in speech and the rhythm "
    "class hypothesis. Papers in Laboratory Phonology 7, 515-546"
)
_IPU = (
    "Inter-pausal units: runs of speech separated by silences of at least 200 ms "
    "(e.g. Bigi & Meunier 2018, SPPAS)"
)

#: The frame tracks computed by the pipeline itself: (quantity, unit, definition, reference).
_BASE_TRACKS: tuple[tuple[str, str, str, str], ...] = (
    (
        "f0",
        "st",
        "Fundamental frequency in semitones re 100 Hz (12 log2(f0 / 100 Hz)), "
        "from Praat's autocorrelation pitch track (features.tracks.pitch_track); unvoiced "
        "frames are left out.",
        "Boersma, P. (1993). Accurate short-term analysis of the fundamental frequency and the "
        "harmonics-to-noise ratio of a sampled sound. Proc. Institute of Phonetic Sciences 17, "
        "97-110",
    ),
    (
        "intensity",
        "dB",
        "Praat-style intensity, dB re full scale: Kaiser-20 weighted "
        "variance of a 64 ms window centred on each frame (features.tracks.intensity_db).",
        "Praat manual, 'Sound: To Intensity...'",
    ),
)

_FUNCTIONAL_TEXT = {
    "mean": "Mean",
    "median": "Median (np.nanmedian)",
    "sd": "Sample standard deviation (ddof=1)",
    "p5": "5th percentile (linear interpolation, np.nanpercentile)",
    "p95": "95th percentile (linear interpolation, np.nanpercentile)",
    "slope": "Ordinary least-squares slope against time (per second)",
}
_FUNCTIONALS_REF = "features.functionals.segment_functionals"

_RHYTHM: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "articulation_rate_syll_s",
        "syll/s",
        "segment",
        "Syllable nuclei per second of phonation time (pauses excluded): n_nuclei / "
        "duration_s per segment; at speaker level, total nuclei / total segment duration "
        "(the duration-weighted mean of the segment values).",
        _DE_JONG,
    ),
    (
        "voiced_ratio",
        "ratio",
        "segment",
        "Voiced frames / frames of the segment (frame centres in [start_s, end_s)); at speaker "
        "level the duration-weighted mean.",
        _SEG,
    ),
    (
        "vocalic_pct",
        "%",
        "segment",
        "%V: 100 x total duration of vocalic intervals / total duration of vocalic and "
        "consonantal intervals. Intervals: runs of consecutive vowels (consonants) of the phone "
        "alignment, broken by pauses and segment boundaries.",
        _RAMUS,
    ),
    (
        "delta_v_s",
        "s",
        "segment",
        "ΔV: standard deviation (ddof=1) of vocalic interval durations; NaN with fewer than 2.",
        _RAMUS,
    ),
    (
        "delta_c_s",
        "s",
        "segment",
        "ΔC: standard deviation (ddof=1) of consonantal interval durations; NaN with fewer than 2.",
        _RAMUS,
    ),
    ("varco_v", "1", "segment", "VarcoV: 100 x ΔV / mean vocalic interval duration.", _DELLWO),
    ("varco_c", "1", "segment", "VarcoC: 100 x ΔC / mean consonantal interval duration.", _DELLWO),
    (
        "npvi_v",
        "1",
        "segment",
        "Normalised pairwise variability index of vocalic intervals: 100 x mean over "
        "consecutive pairs (within a stretch between pauses) of |d_k - d_k+1| / "
        "((d_k + d_k+1) / 2).",
        _GRABE,
    ),
    (
        "rpvi_c_s",
        "s",
        "segment",
        "Raw pairwise variability index of consonantal intervals: mean over consecutive pairs "
        "(within a stretch between pauses) of |d_k - d_k+1|.",
        _GRABE,
    ),
    ("n_v_intervals", "count", "segment", "Vocalic intervals behind the interval metrics.", _RAMUS),
    (
        "n_c_intervals",
        "count",
        "segment",
        "Consonantal intervals behind the interval metrics.",
        _RAMUS,
    ),
    (
        "speech_rate_syll_s",
        "syll/s",
        "speaker",
        "Syllable nuclei per second of speaking time: total nuclei / (total segment duration "
        "+ total pause duration). A pause is the silence between two consecutive segments of "
        "the same voice in one recording with no other voice in between.",
        _DE_JONG,
    ),
    (
        "pause_rate_per_min",
        "1/min",
        "speaker",
        "Pauses (as in speech_rate_syll_s) per minute of speaking time.",
        _DE_JONG,
    ),
    ("pause_duration_mean_s", "s", "speaker", "Mean pause duration; NaN without pauses.", _DE_JONG),
    (
        "pause_duration_median_s",
        "s",
        "speaker",
        "Median pause duration; NaN without pauses.",
        _DE_JONG,
    ),
    ("ipu_duration_mean_s", "s", "speaker", "Mean segment (IPU) duration.", _IPU),
    ("ipu_duration_median_s", "s", "speaker", "Median segment (IPU) duration.", _IPU),
    (
        "ipu_duration_sd_s",
        "s",
        "speaker",
        "Standard deviation (ddof=1) of segment (IPU) durations.",
        _IPU,
    ),
    ("speaking_time_s", "s", "speaker", "Total segment duration + total pause duration.", _DE_JONG),
    ("phonation_time_s", "s", "speaker", "Total segment duration (pauses excluded).", _DE_JONG),
    ("n_pauses", "count", "speaker", "Pauses, as in speech_rate_syll_s.", _DE_JONG),
)

_CONDITIONS_REF = "features.conditions (recording_conditions)"
_CONDITIONS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "band_limit_hz",
        "Hz",
        "recording",
        "Effective band limit: the lowest frequency from 2 kHz up above which the long-term "
        "spectrum stays more than 20 dB below its median over the 500 Hz under it (a codec or "
        "telephone low-pass); the Nyquist frequency when there is no such cliff.",
        _CONDITIONS_REF,
    ),
    (
        "gated_ratio",
        "ratio",
        "recording",
        "Fraction of samples in digital silence: runs of |x| <= 1/32768 lasting >= 20 ms.",
        _CONDITIONS_REF,
    ),
    (
        "clipped_ratio",
        "ratio",
        "recording",
        "Fraction of samples in runs of >= 3 consecutive samples at >= 0.999 of the "
        "recording's peak (flat tops).",
        _CONDITIONS_REF,
    ),
    (
        "snr_db",
        "dB",
        "recording",
        "Speech-to-noise ratio: mean power of the speech-active frames minus the noise, over "
        "the median power of the non-speech frames (intensity track); NaN when the pauses are "
        "digital silence.",
        "NIST SPQA 'stnr' (percentile speech-to-noise ratio); " + _CONDITIONS_REF,
    ),
    (
        "reverb_decay_s",
        "s",
        "recording",
        "Blind reverberation index: 60 dB over the median least-squares decay rate of the "
        "level's free decays (>= 5 falling frames, >= 5 dB, 10 dB above the floor). Grows "
        "with RT60 (synthetic: dry 0.18 s, RT60 0.3 s -> 0.36, 0.5 -> 0.43, 1.0 -> 0.50); "
        "broadband noise also lengthens it (20 dB SNR: 0.33).",
        "Ratnam et al. (2003) JASA 114(5); Löllmann et al. (2010) IWAENC; " + _CONDITIONS_REF,
    ),
)

_LABELS_REF = ("corpora.languages (spelling rules per language: es), "
               "features.vowel_alignment.align_vowels, speech.tokens")
#: Label columns of the vowels table (its formant columns are documented in
#: features.formants.measure_vowels).
_VOWEL_LABELS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "label_source",
        "label",
        "token",
        "Where the token's vowel label comes from: 'phones' (the transcript's phone "
        "alignment), 'orthography' (the transcript's words, spelt vowels aligned to the "
        "syllable nuclei of the interval by dynamic programming over count, timing and "
        "intensity) or 'none' (unlabelled nucleus: no transcript, no spelling rules for "
        "the corpus language, or no expected vowel matched it).",
        _LABELS_REF,
    ),
    (
        "stress",
        "label",
        "token",
        "Whether the token is its word's stressed syllable (boolean; null when unknown): "
        "from the spelling (written accent, else penultimate after a vowel, n or s, "
        "else final; monosyllabic function words unstressed) for orthography labels, "
        "from stress marks (1/2, ˈ) for phone labels.",
        "RAE (2010) Ortografía de la lengua española, ch. 2; " + _LABELS_REF,
    ),
    (
        "label_confidence",
        "1",
        "token",
        "Confidence of the vowel label, 0-1: for orthography labels the posterior "
        "probability of the vowel-nucleus pair over all monotone alignments "
        "(forward-backward; labels below 0.5 are dropped); 1 for phone labels; null "
        "when unlabelled.",
        "Rabiner, L. R. (1989). A tutorial on hidden Markov models. Proc. IEEE 77(2), "
        "257-286; " + _LABELS_REF,
    ),
)

_AGGREGATE: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "n_segments",
        "count",
        "speaker",
        "Segments of the speaker behind the speaker row.",
        "models.aggregate.aggregate_speakers",
    ),
    (
        "speech_s",
        "s",
        "speaker",
        "Total duration of those segments.",
        "models.aggregate.aggregate_speakers",
    ),
)


def track_quantity(name: str, unit: str) -> str:
    """The track name without its unit suffix: ``centroid_hz`` -> ``centroid``."""
    suffix = unit_suffix(unit)
    return name[: -len(suffix) - 1] if suffix and name.endswith(f"_{suffix}") else name


def _functional_specs(quantity, unit, definition, reference) -> list[FeatureSpec]:
    suffix = unit_suffix(unit)
    specs = []
    for f in FUNCTIONALS:
        f_unit = f"{unit}/s" if f == "slope" else unit
        need = MIN_FRAMES[f]
        text = (
            f"{_FUNCTIONAL_TEXT[f]} over the segment's frames (NaN frames left out; NaN "
            f"with fewer than {need} valid frame{'s' if need > 1 else ''}) of: "
            f"{definition}"
        )
        specs.append(
            FeatureSpec(
                column_name(quantity, f, suffix),
                f_unit,
                text,
                f"{reference}; {_FUNCTIONALS_REF}",
                "segment",
            )
        )
    return specs


def build_registry(
    spectral_tracks: Sequence[Any] | None = None,
    voice_measures: Sequence[Any] | None = None,
    *,
    table_columns: Sequence[tuple[str, str, str, str]] = (),
    condition_bias: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[FeatureSpec, ...]:
    """Build the registry from track and measure entries.

    Parameters
    ----------
    spectral_tracks, voice_measures : sequence of entries with ``name``, ``unit``,
        ``definition``, ``reference``, optional
        None (the default): ``features.spectral.TRACKS`` and ``features.voice.MEASURES``
        (imported now; an ImportError if they are missing).
    table_columns : sequence of (name, unit, definition, reference)
        The segments table's own columns, first: its schema belongs to the conductor
        (``speech.schema.SEGMENT_TABLE``), which passes them in.
    condition_bias : mapping of feature name -> conditions, optional
        None (the default): :func:`read_condition_bias` of the committed file.

    Returns
    -------
    tuple of FeatureSpec
        Segment table columns, track functionals, voice measures, rhythm, speaker counts,
        recording conditions; each with its ``biased_by``.

    Raises
    ------
    ValueError
        On a duplicate name, an unknown unit or level, or a name that breaks the rule.
    """
    if spectral_tracks is None:
        spectral_tracks = importlib.import_module("features.spectral").TRACKS
    if voice_measures is None:
        voice_measures = importlib.import_module("features.voice").MEASURES
    specs = [FeatureSpec(n, u, d, r, "segment") for n, u, d, r in table_columns]
    for quantity, unit, definition, reference in _BASE_TRACKS:
        specs += _functional_specs(quantity, unit, definition, reference)
    for t in spectral_tracks:
        quantity = track_quantity(t.name, t.unit)
        specs += _functional_specs(quantity, t.unit, t.definition, t.reference)
    specs += [
        FeatureSpec(m.name, m.unit, m.definition, m.reference, "segment") for m in voice_measures
    ]
    specs += [FeatureSpec(n, u, d, r, lev)
              for n, u, lev, d, r in (*_RHYTHM, *_VOWEL_LABELS, *_AGGREGATE, *_CONDITIONS)]
    bias = read_condition_bias() if condition_bias is None else condition_bias
    specs = [replace(s, biased_by=tuple(bias.get(s.name, ()))) for s in specs]
    problems = naming_problems(specs)
    if problems:
        raise ValueError("feature registry breaks the naming rule:\n  " + "\n  ".join(problems))
    return tuple(specs)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(registry: Sequence[FeatureSpec] | None = None) -> str:
    """The registry as a Markdown document (``docs/FEATURES.md``)."""
    specs = _registry() if registry is None else registry
    lines = [
        "# Features",
        "",
        f"Feature set version {FEATURE_SET_VERSION}. Generated from `features/registry.py` "
        "and `speech/schema.py` by `python -m speech.schema > docs/FEATURES.md`; do not "
        "edit by hand.",
        "",
        "Names end with their unit: `_hz`, `_st` (semitones re 100 Hz), `_db`, `_s`, "
        "`_ratio`, `_pct`, and derived units (`_st_per_s`, `_db_per_khz`, `_syll_s`, "
        "`_per_min`); dimensionless indices (unit 1), counts, identifiers and labels carry "
        "no unit suffix.",
        "",
        "The `speakers` table holds, for each segment-level feature, its duration-weighted "
        "mean over the speaker's segments (segments without a value left out), under the "
        "same name, and `<feature>_n`, the number of segments with a value.",
        "",
        "*Biased by* lists the recording conditions under which the feature moved by more "
        f"than {BIAS_THRESHOLDS['log']:g} unit (dB, st, dB/kHz) or "
        f"{100 * BIAS_THRESHOLDS['relative']:g} % (other units), median over speakers, in "
        "`scripts/degradation.py` (committed as `features/condition_bias.csv`): `opus=N`, "
        "`aac=N` codec round trips at N kbit/s, `reverb=T` a room of RT60 T s, `agc=S` "
        "automatic gain control, `loss=R` packet loss, `white=D` white noise at D dB SNR, "
        "`gate` every pause gated to digital silence, `webconf` all of an ordinary call "
        "(`corpora.synth.conditions`).",
        "",
    ]
    for level in ("segment", "token", "speaker", "recording"):
        rows = [s for s in specs if s.level == level]
        if not rows:
            continue
        lines += [
            f"## {level.capitalize()} level",
            "",
            "| name | unit | level | definition | reference | biased by |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| `{s.name}` | {_escape(s.unit)} | {s.level} | {_escape(s.definition)} | "
            f"{_escape(s.reference)} | {_escape(', '.join(s.biased_by))} |"
            for s in rows
        ]
        lines.append("")
    return "\n".join(lines)


_CACHE: dict[str, tuple[FeatureSpec, ...]] = {}


def _registry() -> tuple[FeatureSpec, ...]:
    if "REGISTRY" not in _CACHE:
        _CACHE["REGISTRY"] = build_registry()
    return _CACHE["REGISTRY"]


def __getattr__(name: str):
    # REGISTRY is built on first access, so importing this module stays light.
    if name == "REGISTRY":
        return _registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
