"""Vowel formants with the ceiling chosen per token (Fast Track), on synthetic speech."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy.signal import lfilter

from corpora.synth import write_corpus
from corpora.synth.ipu import PhoneSpec, synthesize_ipu
from corpora.synth.profiles import Voice
from features.formants import (
    band_limited_ceilings,
    default_ceilings,
    formant_tracks,
    measure_vowels,
)

pytestmark = pytest.mark.filterwarnings("error")

SR = 16000
WIDE_CEILINGS = np.linspace(3500.0, 7000.0, 8)


def voice(gender: str) -> Voice:
    if gender == "F":
        return Voice("F1", "F", 200.0, 1.16, 6.0, 0.12, 0.005, 0.03, -24.0, 0.6, 0.08)
    return Voice("M1", "M", 115.0, 1.0, 6.0, 0.12, 0.006, 0.03, -24.0, 0.6, 0.08)


def vowel_string(gender: str, seed: int = 0):
    """/la ma se lo ... / with 150 ms vowels; returns signal, vowel spans, truth tokens."""
    phones = []
    for v in ("a", "e", "o", "a", "e", "o", "a", "e"):
        phones += [PhoneSpec("l", 0.06), PhoneSpec(v, 0.15, stressed=True)]
    y, truth = synthesize_ipu(phones, voice(gender), rng=np.random.default_rng(seed))
    y = 0.3 * y / np.max(np.abs(y))
    vowels = [t for t in truth.tokens if t.is_vowel]
    return y.astype(np.float64), np.array([[t.start_s, t.end_s] for t in vowels]), vowels


@pytest.fixture(scope="module")
def corpus_results(tmp_path_factory):
    """Measure every vowel of a small synthetic corpus, per recording and speaker."""
    root = tmp_path_factory.mktemp("formant_corpus") / "corpus"
    write_corpus(root, n_speakers=2, seed=11, minutes_per_speaker=0.25, jobs=1)
    tokens = pd.read_csv(root / "truth" / "tokens.csv")
    recs = pd.read_csv(root / "recordings.csv")
    genders = dict(pd.read_csv(root / "speakers.csv")[["speaker_id", "gender"]].to_numpy())
    genders.update(INT1="F", INT2="M")
    vowels = tokens[tokens["is_vowel"]]
    parts = []
    for rec in recs.itertuples():
        y, sr = sf.read(root / rec.path, dtype="float64")
        for sid, d in vowels[vowels["recording_id"] == rec.recording_id].groupby("speaker_id"):
            out = measure_vowels(y, sr, d[["start_s", "end_s"]].to_numpy(), gender=genders[sid])
            out.index = d.index
            parts.append(out.join(d[["phone", "speaker_id"]]).assign(
                true_f1=d["f1_hz"], true_f2=d["f2_hz"], gender=genders[sid]))
    return pd.concat(parts)


def test_corpus_accuracy_criterion(corpus_results):
    r = corpus_results[corpus_results["duration_s"] >= 0.05]
    assert len(r) > 100 and set(r["gender"]) == {"F", "M"}
    e1 = ((r["f1_hz"] - r["true_f1"]).abs() / r["true_f1"]).median()
    e2 = ((r["f2_hz"] - r["true_f2"]).abs() / r["true_f2"]).median()
    assert e1 <= 0.04, e1
    assert e2 <= 0.04, e2
    assert r["qc"].str.contains("merger").mean() < 0.05


def test_chosen_ceiling_and_error_are_recorded(corpus_results):
    r = corpus_results
    assert r["ceiling_hz"].notna().all() and (r["ceiling_error"] >= 0).all()
    for g in ("F", "M"):
        allowed = default_ceilings(g)
        chosen = r.loc[r["gender"] == g, "ceiling_hz"].to_numpy()
        assert np.isin(chosen, allowed).all()


def test_ceiling_selection_prefers_higher_region_for_female_voice():
    chosen = {}
    for g in ("F", "M"):
        y, spans, _ = vowel_string(g)
        out = measure_vowels(y, SR, spans, ceilings_hz=WIDE_CEILINGS)
        chosen[g] = out["ceiling_hz"].median()
    assert chosen["F"] > chosen["M"], chosen
    assert chosen["M"] <= 6000 and chosen["F"] >= 5000, chosen


def test_single_token_values_match_truth_and_columns():
    y, spans, truth = vowel_string("M")
    out = measure_vowels(y, SR, spans, gender="M")
    assert len(out) == len(spans)
    for col in ("f1_hz", "f2_hz", "f3_hz", "b1_hz", "b2_hz", "b3_hz", "f1_20_hz", "f3_80_hz",
                "f1_33_hz", "f2_50_hz", "duration_s", "ceiling_hz", "ceiling_error", "qc"):
        assert col in out.columns, col
    np.testing.assert_allclose(out["f1_hz"], [t.f1_hz for t in truth], rtol=0.08)
    np.testing.assert_allclose(out["f2_hz"], [t.f2_hz for t in truth], rtol=0.08)
    assert (out["b1_hz"] > 0).all() and (out["qc"] == "").all()
    midpoint = measure_vowels(y, SR, spans, gender="M", measurement="midpoint")
    np.testing.assert_array_equal(midpoint["f1_hz"], midpoint["f1_50_hz"])
    np.testing.assert_array_equal(midpoint["f2_hz"], out["f2_50_hz"])
    np.testing.assert_allclose(out["duration_s"], spans[:, 1] - spans[:, 0])


def test_raw_values_close_to_smoothed():
    y, spans, _ = vowel_string("M")
    smooth = measure_vowels(y, SR, spans, gender="M")
    raw = measure_vowels(y, SR, spans, gender="M", smooth=False)
    np.testing.assert_array_equal(smooth["ceiling_hz"], raw["ceiling_hz"])
    np.testing.assert_allclose(raw["f1_hz"], smooth["f1_hz"], rtol=0.1)


def test_concatenated_stretches_match_whole_recording():
    y, spans, _ = vowel_string("F")
    whole = formant_tracks(y, SR, [5500.0])
    cut = formant_tracks(y, SR, [5500.0], spans=spans[::3])
    assert cut.times_s.size < whole.times_s.size
    for a, b in spans[::3]:
        inside = (cut.times_s >= a) & (cut.times_s <= b)
        w = np.searchsorted(whole.times_s, cut.times_s[inside] - 1e-9)
        np.testing.assert_allclose(cut.times_s[inside], whole.times_s[w], atol=1e-4)
        np.testing.assert_allclose(cut.freqs_hz[0, :2][:, inside], whole.freqs_hz[0, :2][:, w],
                                   rtol=0.03)


def test_short_token_and_merger_flags():
    rng = np.random.default_rng(0)
    # Pulse train at 110 Hz through resonators at 600, 750, 2500, 3500 Hz: F2 - F1 < 200 Hz.
    n = SR
    src = np.zeros(n)
    src[:: SR // 110] = 1.0
    x = src + 1e-4 * rng.standard_normal(n)
    for f, bw in ((600, 80), (750, 80), (2500, 150), (3500, 200)):
        r = np.exp(-np.pi * bw / SR)
        x = lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * f / SR), r * r], x)
    x = 0.3 * x / np.max(np.abs(x))
    out = measure_vowels(x, SR, [[0.3, 0.5], [0.6, 0.63]], gender="M")
    assert "merger" in out.loc[0, "qc"].split(";")
    assert out.loc[1, "qc"].split(";")[0] == "short"


def test_zero_tokens_gives_empty_table():
    y, _, _ = vowel_string("M")
    out = measure_vowels(y, SR, np.zeros((0, 2)))
    assert len(out) == 0 and {"f1_hz", "ceiling_hz", "qc"} <= set(out.columns)


def test_edges_and_silence_give_nan_without_crashing():
    y, spans, _ = vowel_string("M")
    dur = y.size / SR
    y = y.copy()
    y[: int(0.2 * SR)] = 0.0  # digital silence at the start (a silent "token")
    tokens = np.array([[0.0, 0.08], [0.05, 0.15], [dur - 0.01, dur], [dur + 1, dur + 2],
                       spans[2]])
    out = measure_vowels(y, SR, tokens, gender="M")
    assert len(out) == 5
    assert out.loc[:1, "f1_hz"].isna().all() and out.loc[:1, "ceiling_hz"].isna().all()
    assert "silent" in out.loc[1, "qc"]
    assert np.isnan(out.loc[3, "f1_hz"]) and "merger" in out.loc[3, "qc"]
    assert np.isfinite(out.loc[4, ["f1_hz", "f2_hz", "f3_hz", "ceiling_error"]].astype(float)).all()


def test_short_signal_and_one_frame_token():
    y = np.random.default_rng(1).standard_normal(200) * 0.1
    out = measure_vowels(y, SR, [[0.0, 0.0125]])
    assert np.isnan(out.loc[0, "f1_hz"]) and "short" in out.loc[0, "qc"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tokens": [[0.2, 0.1]]}, "ends before it starts"),
        ({"tokens": [0.1, 0.2, 0.3]}, "shape"),
        ({"tokens": [[0.1, np.nan]]}, "finite"),
        ({"tokens": [[0.1, 0.2]], "gender": "X"}, "gender"),
        ({"tokens": [[0.1, 0.2]], "ceilings_hz": [9000.0]}, "Nyquist"),
        ({"tokens": [[0.1, 0.2]], "points": (0.5, 1.5)}, "points"),
        ({"tokens": [[0.1, 0.2]], "measurement": "max"}, "measurement"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    y = np.zeros(SR)
    with pytest.raises(ValueError, match=message):
        measure_vowels(y, SR, **kwargs)


def test_ceilings_stay_below_the_source_nyquist_frequency():
    # 16 kHz and above: the candidates hold. 8 kHz telephone audio (nothing above
    # 4 kHz, even resampled): the band lies below every female candidate, so the
    # band edge 0.95 x 4000 Hz is the one ceiling, with the 3 formants it holds.
    wide = default_ceilings("F")
    for rate in (16000, 44100):
        ceilings, n = band_limited_ceilings(wide, rate)
        np.testing.assert_array_equal(ceilings, wide)
        assert n == 5
    ceilings, n = band_limited_ceilings(wide, 8000)
    np.testing.assert_allclose(ceilings, [3800.0])
    assert n == 3
    # a male voice at 8 kHz: 4 formants in 3800 Hz (mean spacing 1000 Hz)
    assert band_limited_ceilings(default_ceilings("M"), 8000)[1] == 4
    # 11025 Hz: the male candidates below the band edge stay, those above become it
    male = default_ceilings("M")
    ceilings, n = band_limited_ceilings(male, 11025)
    top = 0.95 * 11025 / 2
    np.testing.assert_allclose(ceilings, [*male[male < top], top])
    assert n == 5
