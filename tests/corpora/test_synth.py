"""Specifications of the synthetic reference corpus (corpora.synth)."""

from __future__ import annotations

import hashlib
import itertools
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import parselmouth
import pytest
import soundfile as sf
from praatio import textgrid
from scipy.signal import lfilter

from corpora.synth import (
    PhoneSpec,
    Voice,
    draw_speakers,
    plan_ipu,
    synthesize_ipu,
    write_corpus,
)
from corpora.synth import profiles as prof
from corpora.synth.corpus import lexicon_and_prompts
from corpora.synth.filter import cascade_filter, resonator_polynomials
from corpora.synth.session import (
    BACKCHANNELS,
    plan_interview,
    render,
    render_voices,
    voice_plan,
)
from corpora.synth.text import draw_phrase
from corpora.synth.tracks import smooth_steps

SMALL = {"n_speakers": 3, "minutes_per_speaker": 0.3}
#: The issue's criterion: planted F0 and formants found by Parselmouth within 3 %.
TOL = 0.03
#: Burg LPC on a periodic voice is pulled towards the nearest harmonic ("harmonic
#: attraction", Vallabha & Tuller 2002, JASA 112(5)) once the harmonics sample a
#: formant's peak too sparsely: a female /i/ (F1 ~330 Hz < 2 F0) reads ~+15 % whatever
#: the synthesiser does, as it would on a real voice. The filter itself is checked for
#: every vowel with noise excitation (test_planted_formants_are_in_the_filter); voiced
#: tokens are held to 3 % where the measurement is well posed, a formant at least
#: WELL_POSED harmonics up, and to ILL_POSED_BOUND elsewhere.
WELL_POSED = 5.0
ILL_POSED_BOUND = 0.25


@pytest.fixture(scope="module")
def corpora_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("synth")
    out = {"a": root / "a", "b": root / "b", "c": root / "c"}
    write_corpus(out["a"], seed=0, jobs=1, **SMALL)
    write_corpus(out["b"], seed=0, jobs=2, **SMALL)  # a pool: scheduling must not matter
    write_corpus(out["c"], seed=1, jobs=1, **SMALL)
    return out


@pytest.fixture(scope="module")
def corpus(corpora_dirs: dict[str, Path]) -> Path:
    return corpora_dirs["a"]


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _voice(gender: str, f0: float) -> Voice:
    vtl = prof.FEMALE_VTL if gender == "F" else 1.0
    return Voice("X", gender, f0, vtl, 6.0, 0.15, 0.007, 0.035, -24.0, 0.6, 0.08)


def _measure(signal: np.ndarray, gender: str, times: list[float], half_s: float = 0.0):
    """Parselmouth F0, F1, F2 at ``times``: shape (len(times), 3). With ``half_s``, the
    median over frames within +-half_s of each time (the steady part of a long vowel)."""
    snd = parselmouth.Sound(signal.astype(np.float64), sampling_frequency=16000)
    pitch = snd.to_pitch_ac(time_step=0.005, pitch_floor=60.0, pitch_ceiling=500.0)
    ceiling = 5500.0 if gender == "F" else 5000.0
    fm = snd.to_formant_burg(
        time_step=0.005, max_number_of_formants=5, maximum_formant=ceiling, window_length=0.025
    )
    out = []
    for t in times:
        grid = np.arange(t - half_s, t + half_s + 1e-9, 0.005) if half_s else [t]
        values = [
            [pitch.get_value_at_time(x), fm.get_value_at_time(1, x), fm.get_value_at_time(2, x)]
            for x in grid
        ]
        columns = np.asarray(values).T  # F0 is undefined (NaN) under noise excitation
        out.append([np.nanmedian(c) if np.isfinite(c).any() else np.nan for c in columns])
    return np.array(out)


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_is_byte_identical_whatever_the_jobs(corpora_dirs: dict[str, Path]) -> None:
    a, b = _files(corpora_dirs["a"]), _files(corpora_dirs["b"])
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []


def test_different_seed_differs(corpora_dirs: dict[str, Path]) -> None:
    a, c = _files(corpora_dirs["a"]), _files(corpora_dirs["c"])
    assert a["truth/tokens.csv"] != c["truth/tokens.csv"]
    assert a["audio/S001/S001_interview.wav"] != c.get("audio/S001/S001_interview.wav")


# --- layout --------------------------------------------------------------------------------


def test_layout_files_exist(corpus: Path) -> None:
    for rel in (
        "corpus.toml",
        "speakers.csv",
        "recordings.csv",
        "truth/speakers.csv",
        "truth/ipus.csv",
        "truth/tokens.csv",
        "truth/effects.md",
    ):
        assert (corpus / rel).is_file(), rel
    recs = pd.read_csv(corpus / "recordings.csv", keep_default_na=False, dtype=str)
    assert list(recs.columns) == [
        "recording_id",
        "path",
        "kind",
        "speaker_id",
        "n_speakers",
        "channels",
    ]
    assert set(recs["kind"]) == {"interview", "utterance"}
    for _, r in recs.iterrows():
        assert (corpus / r["path"]).is_file()
        assert (corpus / "transcripts" / f"{r['recording_id']}.TextGrid").is_file()
        assert (corpus / "truth" / "f0" / f"{r['recording_id']}.csv").is_file()
        info = sf.info(corpus / r["path"])
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert recs.loc[recs.kind == "interview", "n_speakers"].eq("2").all()
    meta = tomllib.loads((corpus / "corpus.toml").read_text())
    assert meta["language"] == "es" and meta["sample_rate"] == 16000
    assert meta["vowels"] == ["a", "e", "i", "o", "u"]
    assert meta["synth"] == {"seed": 0, "n_speakers": 3, "minutes_per_speaker": 0.3}


def test_speakers_csv_values_are_allowed(corpus: Path) -> None:
    sp = pd.read_csv(corpus / "speakers.csv", keep_default_na=False, dtype=str)
    assert tuple(sp.columns) == prof.PROFILE_COLUMNS
    assert list(sp["speaker_id"]) == ["S001", "S002", "S003"]
    assert set(sp["gender"]) <= {"F", "M"}
    assert sp["age"].astype(int).between(19, 65).all()
    assert set(sp["country"]) <= set(prof.COUNTRY_REGION)
    assert set(sp["education"]) <= set(prof.EDUCATION_LEVELS)
    assert set(sp["field"]) <= set(prof.FIELDS)
    assert set(sp["income_band"]) <= set(prof.INCOME_BANDS)
    for col in ("student", "main_income", "consent"):
        assert set(sp[col]) <= {"true", "false"}
    assert set(sp["consent"]) == {"true"}
    for plats in sp["platforms"]:
        assert plats and set(plats.split(";")) <= set(prof.PLATFORMS)
    for langs in sp["languages"]:
        assert all(len(code) == 2 and code != "es" for code in filter(None, langs.split(";")))


def test_textgrid_boundaries_equal_truth_tokens(corpus: Path) -> None:
    tokens = pd.read_csv(corpus / "truth" / "tokens.csv", keep_default_na=False, dtype=str)
    for path in sorted((corpus / "transcripts").glob("*.TextGrid")):
        rid = path.stem
        tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
        rec = tokens[tokens.recording_id == rid]
        dur = sf.info(corpus / "audio" / rid.split("_")[0] / f"{rid}.wav").duration
        voices = sorted(set(rec.speaker_id))
        assert sorted(n for n in tg.tierNames) == sorted(
            f"{v} - {k}" for v in voices for k in ("words", "phones")
        )
        for v in voices:
            tier = tg.getTier(f"{v} - phones")
            assert tier.maxTimestamp == pytest.approx(dur, abs=1e-9)
            mine = rec[rec.speaker_id == v]
            got = [(round(e.start, 6), round(e.end, 6), e.label) for e in tier.entries]
            want = list(
                zip(mine.start_s.astype(float), mine.end_s.astype(float), mine.phone, strict=True)
            )
            assert got == want
            words = tg.getTier(f"{v} - words").entries
            starts, ends = {a for a, _, _ in want}, {b for _, b, _ in want}
            assert all(round(e.start, 6) in starts and round(e.end, 6) in ends for e in words)
            assert {e.label for e in words} <= set(mine.word)


def test_truth_tables_are_consistent(corpus: Path) -> None:
    tokens = pd.read_csv(corpus / "truth" / "tokens.csv")
    ipus = pd.read_csv(corpus / "truth" / "ipus.csv")
    first = tokens.groupby("ipu_id").start_s.min()
    last = tokens.groupby("ipu_id").end_s.max()
    ipus = ipus.set_index("ipu_id")
    assert np.array_equal(first.loc[ipus.index].to_numpy(), ipus.start_s.to_numpy())
    assert np.array_equal(last.loc[ipus.index].to_numpy(), ipus.end_s.to_numpy())
    # IPUs never begin with a stop; pauses between IPUs of a recording exceed 200 ms.
    first_phone = tokens.sort_values("start_s").groupby("ipu_id").phone.first()
    assert not first_phone.isin(list("ptkbdg")).any()
    for _, g in ipus.reset_index().groupby("recording_id"):
        g = g.sort_values("start_s")
        assert (g.start_s.to_numpy()[1:] - g.end_s.to_numpy()[:-1] > 0.2).all()
    # Aspirated /s/ only in codas, labelled "s" canonically.
    h = tokens[tokens.realisation == "h"]
    assert (h.phone == "s").all() and (h.position == "coda").all()
    vowels = tokens[tokens.is_vowel]
    assert vowels[["f1_hz", "f2_hz", "f3_hz"]].notna().all().all()
    assert tokens.loc[~tokens.is_vowel, "f1_hz"].isna().all()


def test_interviewee_has_about_60_percent_of_interview_speech(corpus: Path) -> None:
    ipus = pd.read_csv(corpus / "truth" / "ipus.csv")
    iv = ipus[ipus.recording_id.str.endswith("_interview")]
    dur = iv.end_s - iv.start_s
    share = dur[~iv.speaker_id.str.startswith("INT")].sum() / dur.sum()
    assert 0.5 < share < 0.8


def test_f0_truth_is_on_a_10_ms_grid(corpus: Path) -> None:
    f0 = pd.read_csv(corpus / "truth" / "f0" / "S001_u01.csv", keep_default_na=False, dtype=str)
    assert list(f0.columns) == ["time_s", "f0_hz", "speaker_id"]
    t = f0.time_s.astype(float).to_numpy()
    assert np.allclose(np.diff(t), 0.01)
    voiced = f0.f0_hz != ""
    assert voiced.any() and (~voiced).any()
    assert (f0.speaker_id[voiced] == "S001").all() and (f0.speaker_id[~voiced] == "").all()


# --- truth matches audio -------------------------------------------------------------------


def _phrase() -> list[PhoneSpec]:
    phones = []
    for v in "aeiou":
        phones += [
            PhoneSpec("m", 0.06),
            PhoneSpec(v, 0.25, stressed=True),
            PhoneSpec("l", 0.06),
            PhoneSpec("a", 0.08),
        ]
    return [*phones, PhoneSpec("s", 0.09)]


def _check(measured: np.ndarray, planted: np.ndarray) -> None:
    """measured/planted: (n, 3) F0, F1, F2. F0 always within TOL; formants within TOL
    where well posed (>= WELL_POSED * F0), within ILL_POSED_BOUND elsewhere."""
    err = np.abs(measured / planted - 1)
    assert err[:, 0].max() < TOL, err[:, 0]
    well_posed = planted[:, 1:] >= WELL_POSED * planted[:, :1]
    assert well_posed.any()
    assert err[:, 1:][well_posed].max() < TOL, (err[:, 1:], well_posed)
    assert err[:, 1:][~well_posed].max(initial=0) < ILL_POSED_BOUND, err[:, 1:]


@pytest.mark.parametrize(
    ("gender", "f0"), [("M", 90.0), ("M", 110.0), ("M", 120.0), ("F", 190.0), ("F", 210.0)]
)
def test_long_steady_vowels_match_truth(gender: str, f0: float) -> None:
    sig, truth = synthesize_ipu(_phrase(), _voice(gender, f0), rng=np.random.default_rng(7))
    assert sig.dtype == np.float32 and np.isfinite(sig).all()
    toks = [t for t in truth.tokens if t.is_vowel and t.stressed]
    got = _measure(sig, gender, [(t.start_s + t.end_s) / 2 for t in toks], half_s=0.05)
    _check(got, np.array([[t.f0_mid_hz, t.f1_hz, t.f2_hz] for t in toks]))


def test_synthesized_formants_have_no_systematic_bias() -> None:
    """Over voices and vowels, the median error is small and of no sign."""
    errs = []
    for i, (gender, f0) in enumerate(
        [("M", 95.0), ("M", 105.0), ("M", 120.0), ("M", 135.0), ("F", 180.0), ("F", 220.0)]
    ):
        sig, truth = synthesize_ipu(_phrase(), _voice(gender, f0), rng=np.random.default_rng(i))
        toks = [t for t in truth.tokens if t.is_vowel and t.stressed]
        got = _measure(sig, gender, [(t.start_s + t.end_s) / 2 for t in toks])
        errs.append(got[:, 1:] / np.array([[t.f1_hz, t.f2_hz] for t in toks]) - 1)
    e = np.concatenate(errs)
    assert np.median(np.abs(e), axis=0).max() < TOL
    assert np.abs(np.median(e, axis=0)).max() < TOL


def test_longest_corpus_vowels_match_truth(corpus: Path) -> None:
    tokens = pd.read_csv(corpus / "truth" / "tokens.csv")
    speakers = pd.read_csv(corpus / "speakers.csv").set_index("speaker_id")
    gender = {**speakers.gender.to_dict(), "INT1": "F", "INT2": "M"}
    vowels = tokens[tokens.is_vowel].assign(dur=lambda d: d.end_s - d.start_s)
    measured, planted = [], []
    for rid, g in vowels.groupby("recording_id"):
        path = corpus / "audio" / rid.split("_")[0] / f"{rid}.wav"
        sig, _ = sf.read(path, dtype="float64")
        for _, t in g.nlargest(3, "dur").iterrows():
            measured.append(_measure(sig, gender[t.speaker_id], [(t.start_s + t.end_s) / 2])[0])
            planted.append([t.f0_mid_hz, t.f1_hz, t.f2_hz])
    measured, planted = np.array(measured), np.array(planted)
    err = np.abs(measured / planted - 1)
    # Every token's F0 is right. These 100-200 ms tokens are coarticulated and measured
    # in a single frame, so formants are held to TOL in the median where well posed.
    assert err[:, 0].max() < TOL
    well_posed = planted[:, 1:] >= WELL_POSED * planted[:, :1]
    assert np.median(err[:, 1:][well_posed]) < TOL
    assert err[:, 1:][~well_posed].max(initial=0) < ILL_POSED_BOUND


def test_planted_formants_are_in_the_filter() -> None:
    """The formant path itself is exact for every vowel of both sexes: noise
    excitation (flat after Praat's 50 Hz pre-emphasis) measures F1-F3 within 3 %."""
    rng = np.random.default_rng(0)
    pole = np.exp(-2 * np.pi * 50 / 16000)
    x = lfilter([1.0], [1.0, -pole], rng.standard_normal(16000 * 2))
    for gender in ("M", "F"):
        voice = _voice(gender, 150.0)
        for v in "aeiou":
            f = [
                *voice.vowel_target(v, stressed=True),
                3500 * voice.vtl_scale,
                4500 * voice.vtl_scale,
            ]
            b = [70.0, 100.0, 170.0, 250.0, 300.0]
            y = cascade_filter(x, np.tile(f, (400, 1)), np.tile(b, (400, 1)))
            got = _measure(y, gender, list(np.arange(0.1, 1.9, 0.01)))
            assert np.abs(np.median(got[:, 1:], axis=0) / f[:2] - 1).max() < TOL, (gender, v)


# --- filter and tracks ---------------------------------------------------------------------


def test_block_filter_equals_one_lfilter_when_constant() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(1234)
    f = np.tile([500.0, 1500.0, 2500.0, 3500.0, 4500.0], (16, 1))
    b = np.tile([80.0, 100.0, 150.0, 250.0, 300.0], (16, 1))
    a, g = resonator_polynomials(f[:1], b[:1], sr=16000)
    want = lfilter([g[0]], a[0], x)
    assert np.allclose(cascade_filter(x, f, b), want, atol=1e-9)


def test_block_filter_carries_state_across_changes() -> None:
    """Changing coefficients mid-signal leaves no discontinuity (no clicks)."""
    x = np.zeros(1600)
    x[::100] = 1.0
    f = np.tile([500.0, 1500.0, 2500.0, 3500.0, 4500.0], (20, 1))
    f[10:, 0] = 520.0
    b = np.tile([80.0, 100.0, 150.0, 250.0, 300.0], (20, 1))
    y = cascade_filter(x, f, b)
    ref = cascade_filter(x, np.tile(f[0], (20, 1)), b)
    # Right after the switch the output continues the reference, it does not jump.
    assert abs(y[800] - ref[800]) < 0.05 * np.abs(ref).max()


def test_smooth_steps_hold_targets_exactly() -> None:
    t = np.arange(0, 300, 1.0)
    vals = np.array([[1.0], [np.pi], [2.0]])
    y = smooth_steps(t, np.array([0.0, 100.0, 200.0, 300.0]), vals, 14.0)[:, 0]
    assert (y[115:186] == np.pi).all()
    assert np.all(np.abs(np.diff(y)) < 0.2)


# --- planted effects -----------------------------------------------------------------------


def test_reduction_decreases_with_education() -> None:
    sp = draw_speakers(40, seed=0)
    red = pd.Series([s.voice.reduction for s in sp], index=[s.education for s in sp])
    means = red.groupby(level=0).mean().loc[list(prof.EDUCATION_LEVELS)]
    assert means.is_monotonic_decreasing and means.iloc[0] - means.iloc[-1] > 0.15


def test_countries_cover_every_region_and_spain_is_a_fifth() -> None:
    sp = draw_speakers(10, seed=3)
    assert {s.region for s in sp} == set(prof.REGIONS)
    assert sum(s.country == "ES" for s in sp) == 2


def test_caribbean_coda_s_is_aspirated_more_often() -> None:
    lexicon, _ = lexicon_and_prompts(0)
    rng = np.random.default_rng(0)
    sp = draw_speakers(5, seed=0)
    share = {}
    for s in sp:
        real = [
            p.surface
            for _ in range(60)
            for p in plan_ipu(draw_phrase(lexicon, rng, n_words=6), s.voice, rng=rng)
            if p.phone == "s" and p.position == "coda"
        ]
        share[s.region] = np.mean([r == "h" for r in real])
    others = [v for k, v in share.items() if k != "caribbean"]
    assert share["caribbean"] > 0.6 > 0.2 > max(others)


def test_articulation_rate_is_realised() -> None:
    lexicon, _ = lexicon_and_prompts(0)
    rng = np.random.default_rng(0)
    voice = draw_speakers(1)[0].voice
    syll = dur = 0.0
    for _ in range(50):
        words = draw_phrase(lexicon, rng, n_words=6)
        syll += sum(len(w.syllables) for w in words)
        dur += sum(p.duration_s for p in plan_ipu(words, voice, rng=rng))
    assert syll / dur == pytest.approx(voice.rate_syll_s, rel=0.03)


# --- arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"n_speakers": 0}, "0"),
        ({"minutes_per_speaker": 0.0}, "0.0"),
        ({"minutes_per_speaker": -1.5}, "-1.5"),
    ],
)
def test_bad_arguments_raise_value_error(tmp_path: Path, kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))) as info:
        write_corpus(tmp_path / "x", **kwargs)
    assert needle in str(info.value)


def test_non_empty_out_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="not an empty directory") as info:
        write_corpus(tmp_path, n_speakers=1, minutes_per_speaker=0.1)
    assert str(tmp_path) in str(info.value)


def test_gate_pauses_with_a_hold_keeps_short_pauses(corpus: Path, tmp_path: Path) -> None:
    import shutil

    from corpora.synth.noise import gate_pauses

    gated = tmp_path / "gated"
    shutil.copytree(corpus, gated)
    gate_pauses(gated, min_pause_s=0.5)
    ipus = pd.read_csv(gated / "truth/ipus.csv")
    short = long_ = 0
    for row in pd.read_csv(gated / "recordings.csv").itertuples():
        clean, sr = sf.read(corpus / row.path)
        y, _ = sf.read(gated / row.path)
        spans = ipus.loc[ipus.recording_id == row.recording_id, ["start_s", "end_s"]]
        spans = np.round(spans.to_numpy() * sr).astype(int)
        assert np.all(y[: spans[0, 0]] == 0) and np.all(y[spans[-1, 1] :] == 0)
        for end, start in zip(spans[:-1, 1], spans[1:, 0], strict=True):
            if start - end >= 0.5 * sr:
                assert np.all(y[end:start] == 0)
                long_ += 1
            elif start > end:
                np.testing.assert_array_equal(y[end:start], clean[end:start])
                short += 1
    assert short and long_
    with pytest.raises(ValueError, match="min_pause_s"):
        gate_pauses(gated, min_pause_s=-1)


# --- conversation: overlapping turn starts and backchannels ------------------------------------

#: sha256 of a corpus (1 speaker, seed 0, 0.2 min) written before the plan options existed:
#: with them off, not one byte may change.
BEFORE_PLAN_OPTIONS = {
    "audio/S001/S001_interview.wav":
        "915cd5d8847533d758491003f17e324e54ad0009ec11d2d3f57207489327348d",
    "audio/S001/S001_u01.wav":
        "d3fd9c8ca115ec556c836ded8367aecc0ba20bbeebf68dd2fbd3d6be9ec00b36",
    "corpus.toml":
        "61aaaca331af5bce8f40f07bee775c0889775d4179ff908465cbf39dc6dada0f",
    "recordings.csv":
        "a123d16e1dbaa78957a02de3330e8494c57b18797f86f8ed7f9e89580182d4da",
    "transcripts/S001_interview.TextGrid":
        "c59eaa01c533dbdb5371a0ad0ca5a762594eae6d984cbb5c52bbda78e9c8b079",
    "truth/f0/S001_interview.csv":
        "dcaf3d2a9906f292166690ac414020e5d0f0f732815f7df771ce6f57e69f7300",
    "truth/ipus.csv":
        "9f399c6d41aeb537f5798b64ee385deda4db1718845b9fd7caabac2704ffb538",
    "truth/tokens.csv":
        "0c0250cd489e44f4199748148d6af81ca350cd855c4a2b1bf5d952da8db03ab1",
}  # fmt: skip


def test_without_the_plan_options_the_corpus_is_byte_identical(tmp_path: Path) -> None:
    write_corpus(tmp_path / "c", n_speakers=1, seed=0, minutes_per_speaker=0.2, jobs=1)
    digests = {rel: hashlib.sha256((tmp_path / "c" / rel).read_bytes()).hexdigest()
               for rel in BEFORE_PLAN_OPTIONS}
    assert digests == BEFORE_PLAN_OPTIONS
    assert (tmp_path / "c" / "truth" / "overlaps.csv").read_text() == "recording_id,start_s,end_s\n"


@pytest.fixture(scope="module")
def long_plan():
    """A one-hour interview with 15 % overlapped turn changes and 4 backchannels/min."""
    speaker = draw_speakers(1, seed=0)[0]
    lexicon, _ = lexicon_and_prompts(0)
    return plan_interview("X_interview", speaker.voice, prof.interviewer_for(0), lexicon,
                          target_s=3600, rng=np.random.default_rng(7), overlap=0.15,
                          backchannel_per_min=4.0)


def test_overlapped_turn_starts_come_at_the_requested_share(long_plan) -> None:
    turns = [i for i in long_plan.ipus if not i.backchannel]
    changes = [(a, b) for a, b in itertools.pairwise(turns) if a.turn != b.turn]
    lead = np.array([a.end_ms - b.start_ms for a, b in changes])
    assert len(changes) > 400
    assert abs(np.mean(lead > 0) - 0.15) < 0.05  # binomial SD ~0.016
    early = lead[lead > 0]
    assert early.min() >= 100 and early.max() <= 600
    gaps = -lead[lead <= 0]
    assert gaps.min() >= 300 and gaps.max() <= 900


def test_backchannels_come_at_the_requested_rate_from_the_list(long_plan) -> None:
    turns = [i for i in long_plan.ipus if not i.backchannel]
    backchannels = [i for i in long_plan.ipus if i.backchannel]
    for voice in long_plan.voices:
        other_min = sum(i.end_ms - i.start_ms for i in turns if i.voice != voice) / 60000
        mine = [i for i in backchannels if i.voice == voice]
        assert len(mine) / other_min == pytest.approx(4.0, rel=0.2)
    assert {w.spelling for i in backchannels for w in i.words} <= {w.spelling for w in BACKCHANNELS}
    assert len({i.words[0].spelling for i in backchannels}) == len(BACKCHANNELS)
    lengths = np.array([i.end_ms - i.start_ms for i in backchannels])
    assert lengths.min() >= 150 and lengths.max() <= 500
    # Heard inside the other voice's turn, never over the listener's own speech.
    for bc in backchannels:
        host = [i for i in turns if i.turn == bc.turn]
        assert host[0].voice != bc.voice
        assert host[0].start_ms <= bc.start_ms and bc.end_ms <= host[-1].end_ms
    for voice in long_plan.voices:
        own = sorted((i.start_ms, i.end_ms) for i in long_plan.ipus if i.voice == voice)
        assert all(b[0] > a[1] for a, b in itertools.pairwise(own))
    starts = [i.start_ms for i in long_plan.ipus]
    assert starts == sorted(starts)


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("conversation") / "c"
    write_corpus(out, n_speakers=1, seed=2, minutes_per_speaker=0.6, jobs=1, overlap=0.5,
                 backchannel_per_min=10.0)
    return out


def test_truth_overlaps_are_the_intersections_of_the_voices(conversation: Path) -> None:
    ipus = pd.read_csv(conversation / "truth" / "ipus.csv")
    overlaps = pd.read_csv(conversation / "truth" / "overlaps.csv")
    assert len(overlaps) >= 3
    for rid, group in ipus.groupby("recording_id"):
        # Voices on a 1 ms grid; two at once is an overlap.
        n = round(group["end_s"].max() * 1000) + 2
        count = np.zeros(n, int)
        for _, voice in group.groupby("speaker_id"):
            on = np.zeros(n, int)
            for a, b in zip(voice["start_s"], voice["end_s"], strict=True):
                on[round(a * 1000) : round(b * 1000)] = 1
            count += on
        both = np.r_[0, (count >= 2).astype(int), 0]
        edges = np.flatnonzero(np.diff(both))
        mine = overlaps[overlaps["recording_id"] == rid]
        assert np.round(mine[["start_s", "end_s"]].to_numpy().ravel() * 1000).tolist() == (
            edges.tolist())


def test_textgrid_keeps_one_valid_tier_per_voice_with_overlaps(conversation: Path) -> None:
    from corpora.transcripts import read_transcript

    ipus = pd.read_csv(conversation / "truth" / "ipus.csv")
    rid = "S001_interview"
    grid = textgrid.openTextgrid(str(conversation / "transcripts" / f"{rid}.TextGrid"), False)
    table = read_transcript(conversation / "transcripts" / f"{rid}.TextGrid")
    assert set(table["speaker"]) == set(ipus.loc[ipus.recording_id == rid, "speaker_id"])
    backchannel = ipus["text"].isin([w.spelling for w in BACKCHANNELS])
    assert backchannel.sum() >= 3
    for sid, mine in ipus[ipus.recording_id == rid].groupby("speaker_id"):
        words = grid.getTier(f"{sid} - words").entries
        assert {e.label for e in words} >= set(" ".join(mine["text"]).split())
        spans = sorted((e.start, e.end) for e in words)
        assert all(b[0] >= a[1] for a, b in itertools.pairwise(spans))
    # Frames where both voices voice have no single planted F0.
    f0 = pd.read_csv(conversation / "truth" / "f0" / f"{rid}.csv", keep_default_na=False,
                     dtype=str)
    both = f0["speaker_id"].str.contains("+", regex=False)
    assert both.any() and (f0.loc[both, "f0_hz"] == "").all()


def test_render_voices_gives_each_voice_alone_on_the_full_timeline(long_plan) -> None:
    plan = replace(long_plan, duration_ms=20000,
                   ipus=tuple(i for i in long_plan.ipus if i.end_ms < 19000))
    voices = render_voices(plan, rng=np.random.default_rng(3))
    mixed = render(plan, rng=np.random.default_rng(3))
    assert set(voices.tracks) == {v.speaker_id for v in plan.voices}
    for sid, track in voices.tracks.items():
        assert track.size == mixed.signal.size
        silent = np.ones(track.size, bool)
        for i in voice_plan(plan, sid).ipus:
            silent[(i.start_ms - 60) * 16 : (i.end_ms + 60) * 16] = False
        assert np.all(track[silent] == 0) and np.any(track[~silent] != 0)
    # The mix is the voices' sum plus the noise floor, peak-normalised.
    total = sum(voices.tracks.values())
    assert np.corrcoef(total, mixed.signal)[0, 1] > 0.999
    assert [r.ipu_id for r in voices.ipus] == [r.ipu_id for r in mixed.ipus]
    with pytest.raises(ValueError, match="no voice 'Z'"):
        voice_plan(plan, "Z")


def test_truth_overlaps_follow_per_participant_files_with_offsets(tmp_path: Path) -> None:
    from speech.evaluate import overlap_spans

    out = tmp_path / "pp"
    write_corpus(out, n_speakers=1, seed=2, minutes_per_speaker=0.4, jobs=1,
                 per_participant=True, max_offset_s=1.0, overlap=0.5, backchannel_per_min=10.0)
    ipus = pd.read_csv(out / "truth" / "ipus.csv")
    overlaps = pd.read_csv(out / "truth" / "overlaps.csv")
    expected = overlap_spans(ipus[ipus["recording_id"] == "S001_interview"])
    assert len(expected) >= 2
    assert np.allclose(overlaps[["start_s", "end_s"]].to_numpy(), expected)
