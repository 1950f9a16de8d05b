"""Recording conditions, estimated blind, held to the synthetic truth: each condition of
``corpora.synth.conditions`` (and white noise at a known SNR, clipping, gating) moves its
estimate the right way and into a stated range; real speech reads sensibly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import soxr

from corpora.synth import write_corpus
from corpora.synth.conditions import apply_conditions
from features.conditions import (
    CONDITION_COLUMNS,
    ConditionAccumulator,
    band_limit_hz,
    clipped_ratio,
    gated_ratio,
    recording_conditions,
)
from features.tracks import intensity_db

REAL_ES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real-es"


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> tuple[np.ndarray, int, np.ndarray]:
    """A synthetic interview (~15 s, noise floor 47 dB below speech) and its truth
    speech activity on the 10 ms frame grid."""
    root = tmp_path_factory.mktemp("conditions")
    write_corpus(root, n_speakers=1, seed=5, minutes_per_speaker=0.3, jobs=1)
    y, sr = sf.read(root / "audio" / "S001" / "S001_interview.wav", dtype="float64")
    ipus = pd.read_csv(root / "truth" / "ipus.csv")
    ipus = ipus[ipus["recording_id"] == "S001_interview"]
    t = np.arange(1 + y.size // round(0.01 * sr)) * 0.01
    active = np.zeros(t.size, bool)
    for start, end in zip(ipus["start_s"], ipus["end_s"], strict=True):
        active[(t >= start) & (t < end)] = True
    return y, sr, active


def _conditions(y, sr, active, spec) -> dict[str, float]:
    x = apply_conditions(y, sr, spec, rng=np.random.default_rng(1))
    return recording_conditions(x, sr, active=active)


def test_clean_synthetic_speech_reads_as_clean(speech) -> None:
    y, sr, active = speech
    c = recording_conditions(y, sr, active=active)
    assert list(c) == list(CONDITION_COLUMNS)
    assert 7000 <= c["band_limit_hz"] <= 8000  # wideband (the resampler's edge)
    assert c["gated_ratio"] == 0 and c["clipped_ratio"] == 0
    assert 43 <= c["snr_db"] <= 50  # the synthesiser's floor is 47 dB below speech
    assert c["reverb_decay_s"] < 0.25


def test_narrowband_codec_and_telephone_lower_the_band_limit(speech) -> None:
    y, sr, active = speech
    assert 4000 <= _conditions(y, sr, active, {"opus": 8.0})["band_limit_hz"] <= 5000
    telephone = soxr.resample(soxr.resample(y, sr, 8000), 8000, sr)
    assert 3400 <= recording_conditions(telephone, sr)["band_limit_hz"] <= 4000
    # Opus at 24 kbit/s and AAC at 32 kbit/s keep the wide band.
    for spec in ({"opus": 24.0}, {"aac": 32.0}):
        assert _conditions(y, sr, active, spec)["band_limit_hz"] >= 7000


@pytest.mark.parametrize("snr", [30.0, 20.0, 10.0, 0.0])
def test_snr_estimate_lands_within_1_db_of_white_noise_at_known_snr(speech, snr) -> None:
    y, sr, active = speech
    samples = np.repeat(active, round(0.01 * sr))[: y.size]
    gain = np.sqrt(np.mean(y[samples] ** 2) / 10 ** (snr / 10))
    noisy = y + gain * np.random.default_rng(2).standard_normal(y.size)
    # The estimate on the truth activity and on its own activity both track the truth.
    assert recording_conditions(noisy, sr, active=active)["snr_db"] == pytest.approx(snr, abs=1)
    if snr >= 10:
        assert recording_conditions(noisy, sr)["snr_db"] == pytest.approx(snr, abs=1.5)
    noisy_band = band_limit_hz(noisy, sr)
    assert noisy_band >= 7000  # broadband noise fills no cliff


def test_gated_pauses_are_measured_and_give_no_snr(speech) -> None:
    y, sr, active = speech
    samples = np.repeat(active, round(0.01 * sr))[: y.size]
    gated = np.where(samples, y, 0.0)
    truth = 1 - samples.mean()
    c = recording_conditions(gated, sr, active=active)
    assert c["gated_ratio"] == pytest.approx(truth, abs=0.02)
    assert np.isnan(c["snr_db"])
    # Dithered silence (+-1 LSB) is still digital silence; runs under 20 ms are not.
    dither = np.random.default_rng(0).integers(-1, 2, 8000) / 32768
    assert gated_ratio(dither, sr) == 1.0
    short = np.tile(np.r_[np.zeros(160), np.ones(160) * 0.1], 20)
    assert gated_ratio(short, sr) == 0.0


@pytest.mark.parametrize(("gain", "share"), [(2.0, 0.35), (4.0, 0.7), (10.0, 0.9)])
def test_clipping_by_scaling_up_is_counted(speech, gain, share) -> None:
    y, _, _ = speech
    scaled = y / np.abs(y).max() * gain
    truth = np.mean(np.abs(scaled) >= 1)
    estimate = clipped_ratio(np.clip(scaled, -1, 1))
    # Plateaus shorter than 3 samples are not counted: mild clipping (x2, mostly 1-2
    # sample tops) is undercounted (43 % of the clipped samples; x4: 75 %), heavy clipping is not.
    assert share * truth <= estimate <= truth
    # A clipped recording scaled down afterwards still shows its plateaus.
    assert clipped_ratio(0.5 * np.clip(scaled, -1, 1)) == pytest.approx(estimate)
    assert clipped_ratio(y) == 0


def test_reverberation_lengthens_the_decay_time_in_order(speech) -> None:
    y, sr, active = speech
    decay = [recording_conditions(y, sr)["reverb_decay_s"]] + [
        _conditions(y, sr, active, {"reverb": rt60})["reverb_decay_s"] for rt60 in (0.3, 0.5, 1.0)
    ]
    assert decay == sorted(decay)
    assert decay[0] < 0.25 and 0.3 <= decay[1] <= 0.45 and decay[3] >= 0.45
    # AGC, packet loss and codecs leave it near the clean value.
    for spec in ({"agc": 0.5}, {"loss": 0.05}, {"opus": 24.0}):
        assert abs(_conditions(y, sr, active, spec)["reverb_decay_s"] - decay[0]) < 0.05


def test_blocks_fed_to_the_accumulator_agree_with_the_whole(speech) -> None:
    y, sr, active = speech
    x = np.clip(np.where(np.repeat(active, 160)[: y.size], y, 0.0) * 20, -1, 1)
    whole = recording_conditions(x, sr, active=active)
    accumulator = ConditionAccumulator(sr)
    for block in np.array_split(x, 3):
        accumulator.update(block)
    parts = accumulator.result(intensity_db(x, sr), active)
    assert parts["gated_ratio"] == pytest.approx(whole["gated_ratio"], abs=0.01)
    assert parts["clipped_ratio"] == pytest.approx(whole["clipped_ratio"], rel=0.01)
    assert parts["band_limit_hz"] == pytest.approx(whole["band_limit_hz"], abs=100)


def test_bad_input_is_refused_with_its_shape() -> None:
    with pytest.raises(ValueError, match=r"mono signal.*\(2, 10\)"):
        recording_conditions(np.zeros((2, 10)), 16000)


@pytest.mark.skipif(not REAL_ES.is_dir(), reason="shared/data/real-es not present")
def test_real_telephone_and_g722_speech_read_as_their_bands() -> None:
    co1 = sorted((REAL_ES / "audio" / "CO1").glob("*.*"))[:4]
    mx1 = sorted((REAL_ES / "audio" / "MX1").glob("*.*"))[:4]
    assert co1 and mx1
    for path, lo, hi in [*((p, 3400, 4000) for p in co1), *((p, 6500, 8000) for p in mx1)]:
        y, sr = sf.read(path, dtype="float64")
        band = recording_conditions(y, sr)["band_limit_hz"]
        assert lo <= band <= hi, (path.name, sr, band)


def test_decay_index_does_not_depend_on_where_in_a_long_recording_the_decays_are():
    """The same decays read the same 3 hours in: each run's slope is fitted on its own
    clock (on the recording's clock, n*stt - st**2 cancelled to zero past an hour)."""
    from features.conditions import reverb_decay_s

    rng = np.random.default_rng(4)
    hop_s = 0.01
    bursts = []
    for _ in range(40):  # speech at -20 dB, then a 60 dB/0.4 s decay to a -80 dB floor
        steady = -20 + rng.normal(0, 0.5, 30)
        decay = -20 - 150 * np.arange(1, 25) * hop_s
        bursts.append(np.concatenate([steady, decay, np.full(20, -80.0)]))
    level = np.concatenate(bursts)
    early = reverb_decay_s(level, hop_s=hop_s)
    late = reverb_decay_s(np.concatenate([np.full(1_080_000, -80.0), level]), hop_s=hop_s)
    assert early == pytest.approx(0.4, rel=0.05)
    assert late == pytest.approx(early, rel=1e-9)
