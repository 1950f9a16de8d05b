"""Web-conference conditions: each degrades the signal as named, keeps it aligned with
its truth, and is reproducible from its seed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy.signal import welch

from corpora.synth import write_corpus
from corpora.synth.conditions import (
    PLAN_CONDITIONS,
    PRESETS,
    agc,
    apply_conditions,
    codec_roundtrip,
    degrade_corpus,
    packet_loss,
    parse_conditions,
    reverb,
    room_impulse_response,
    split_conditions,
)

SR = 16000


def _speechlike(seconds: float = 4.0, seed: int = 0) -> np.ndarray:
    """Harmonic bursts (150 Hz, 10 harmonics) with noise, 0.6 s on / 0.4 s off: loud and
    soft phrases, as the level follower of an AGC sees speech."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    voiced = sum(np.sin(2 * np.pi * 150 * k * t + k) / k for k in range(1, 11))
    on = (t % 1.0) < 0.6
    loud = np.where((t % 2.0) < 1.0, 0.3, 0.03)
    return voiced * on * loud + 0.002 * rng.standard_normal(t.size)


def _lag(reference: np.ndarray, other: np.ndarray, max_lag: int = 400) -> int:
    """The shift (samples) of ``other`` against ``reference`` that correlates best."""
    core = reference[max_lag:-max_lag]
    scores = [np.dot(other[max_lag + k : other.size - max_lag + k], core)
              for k in range(-max_lag, max_lag + 1)]
    return int(np.argmax(scores)) - max_lag


@pytest.mark.parametrize("codec", ["opus", "aac"])
@pytest.mark.parametrize("codec_sr", [48000, 16000])
def test_codec_round_trip_stays_aligned_with_the_input(codec: str, codec_sr: int) -> None:
    y = _speechlike()
    out = codec_roundtrip(y, SR, codec=codec, kbps=32, codec_sr=codec_sr)
    assert out.shape == y.shape
    assert _lag(y, out) == 0
    assert np.corrcoef(y, out)[0, 1] > 0.9


def test_low_opus_bit_rate_removes_the_upper_band() -> None:
    """At 8 kbit/s Opus codes narrowband (4 kHz): the 5-7 kHz band of the harmonics loses
    more than 20 dB, where at 64 kbit/s it loses less than 3 dB."""
    y = _speechlike()

    def band_db(x: np.ndarray) -> float:
        f, p = welch(x, SR, nperseg=1024)
        return 10 * np.log10(p[(f > 5000) & (f < 7000)].sum())

    assert band_db(y) - band_db(codec_roundtrip(y, SR, codec="opus", kbps=8)) > 20
    assert abs(band_db(y) - band_db(codec_roundtrip(y, SR, codec="opus", kbps=64))) < 3


def test_agc_narrows_the_level_range_and_zero_strength_is_identity() -> None:
    y = _speechlike(8.0)
    loud, soft = y[: SR // 2], y[SR + SR // 10 : SR + SR // 2]
    out = agc(y, SR, strength=1.0)
    ratio_in = np.std(loud) / np.std(soft)
    ratio_out = np.std(out[: SR // 2]) / np.std(out[SR + SR // 10 : SR + SR // 2])
    assert ratio_in > 8 and ratio_out < ratio_in / 3
    np.testing.assert_array_equal(agc(y, SR, strength=0.0), y)


def test_packet_loss_rate_bursts_and_concealment() -> None:
    y = _speechlike(60.0)
    out, lost = packet_loss(y, SR, rate=0.05, rng=np.random.default_rng(3))
    assert 0.035 < lost.mean() < 0.065
    starts = np.flatnonzero(np.diff(np.concatenate([[0], lost.astype(int)])) == 1)
    assert 1.5 < lost.sum() / starts.size < 2.6  # mean burst of 2 packets
    size = SR // 50
    changed = np.array([not np.array_equal(out[i * size : (i + 1) * size],
                                           y[i * size : (i + 1) * size])
                        for i in range(lost.size)])
    np.testing.assert_array_equal(changed & ~lost, np.zeros_like(lost))  # received: intact
    first = starts[0]  # a lost packet repeats the last received one at half level
    np.testing.assert_allclose(out[first * size : (first + 1) * size],
                               0.5 * y[(first - 1) * size : first * size])
    again, _ = packet_loss(y, SR, rate=0.05, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(out, again)


def test_room_impulse_response_has_the_requested_rt60() -> None:
    """Schroeder backward integration: the -5 to -25 dB decay, extrapolated to 60 dB."""
    for rt60 in (0.3, 0.8):
        h = room_impulse_response(SR, rt60_s=rt60, rng=np.random.default_rng(1))
        tail = h.copy()
        tail[0] = 0.0
        edc = 10 * np.log10(np.cumsum(tail[::-1] ** 2)[::-1] / np.sum(tail**2))
        t = np.arange(h.size) / SR
        fit = (edc < -5) & (edc > -25)
        slope = np.polyfit(t[fit], edc[fit], 1)[0]
        assert -60 / slope == pytest.approx(rt60, rel=0.1)


def test_reverb_keeps_the_direct_path_at_lag_zero() -> None:
    """An impulse comes out as the room's response: its largest sample at lag 0 (the
    direct path), nothing for 2 ms, then the tail; the signal keeps its peak level."""
    impulse = np.zeros(SR)
    impulse[SR // 4] = 0.5
    out = reverb(impulse, SR, rt60_s=0.5, rng=np.random.default_rng(2))
    assert out.shape == impulse.shape
    assert np.argmax(np.abs(out)) == SR // 4
    assert np.max(np.abs(out)) == pytest.approx(0.5)
    assert np.all(np.abs(out[: SR // 4]) < 1e-12)
    assert np.all(np.abs(out[SR // 4 + 1 : SR // 4 + 32]) < 1e-12)
    assert np.std(out[SR // 4 + 64 :]) > 0


def test_parse_conditions_presets_overrides_and_errors() -> None:
    assert parse_conditions("webconf") == PRESETS["webconf"]
    assert parse_conditions("webconf,opus=12")["opus"] == 12.0
    assert parse_conditions("reverb=0.4, loss=0.1") == {"reverb": 0.4, "loss": 0.1}
    with pytest.raises(ValueError, match="'echo'"):
        parse_conditions("echo=1")
    with pytest.raises(ValueError, match=r"loss .* \[0, 0.5\], got 0.9"):
        parse_conditions("loss=0.9")
    with pytest.raises(ValueError, match="'fast' is not a number"):
        parse_conditions("opus=fast")
    with pytest.raises(ValueError, match="needs a strength"):
        parse_conditions("opus")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def clean_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("conditions") / "clean"
    write_corpus(root, n_speakers=1, seed=5, minutes_per_speaker=0.3, jobs=1)
    return root


def test_degrade_corpus_keeps_truth_changes_audio_and_is_reproducible(
    clean_corpus: Path, tmp_path: Path
) -> None:
    copies = [tmp_path / "a", tmp_path / "b"]
    signal = split_conditions(PRESETS["webconf"])[1]
    for copy in copies:
        shutil.copytree(clean_corpus, copy)
        degrade_corpus(copy, signal, seed=9)
    listing = pd.read_csv(clean_corpus / "recordings.csv", dtype=str)
    for path in sorted((clean_corpus / "truth").rglob("*")):
        if path.is_file():
            assert _digest(path) == _digest(copies[0] / path.relative_to(clean_corpus))
    for rel in listing["path"]:
        clean, _ = sf.read(clean_corpus / rel)
        degraded, sr = sf.read(copies[0] / rel)
        assert sr == SR and degraded.shape == clean.shape
        assert not np.allclose(clean, degraded, atol=1e-3)
        assert _digest(copies[0] / rel) == _digest(copies[1] / rel)
    written = pd.read_csv(copies[0] / "truth" / "conditions.csv")
    assert dict(zip(written["condition"], written["strength"], strict=True)) == signal


def test_plan_conditions_are_split_off_and_go_to_the_synthesiser() -> None:
    plan, signal = split_conditions(parse_conditions("webconf,overlap=0.2"))
    assert plan == {"overlap": 0.2, "backchannel_per_min": 4.0}  # write_corpus's keywords
    assert set(PLAN_CONDITIONS) == {"overlap", "backchannel"}
    assert set(signal) == {"reverb", "agc", "opus", "loss"}
    assert list(signal) == ["reverb", "agc", "opus", "loss"]  # the order they apply in
    with pytest.raises(ValueError, match=r"overlap .* \[0, 1\], got 1.5"):
        parse_conditions("overlap=1.5")
    with pytest.raises(ValueError, match="changes the interview plan"):
        apply_conditions(_speechlike(0.5), SR, {"backchannel": 4.0}, rng=np.random.default_rng(0))


def test_degrade_corpus_refuses_plan_conditions_the_corpus_was_not_written_with(
    clean_corpus: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(clean_corpus, copy)
    with pytest.raises(ValueError, match=r"corpus.toml: overlap = 0.0, but 0.15 was asked"):
        degrade_corpus(copy, PRESETS["webconf"], seed=9)


def test_webconf_corpus_has_its_plan_conditions_in_corpus_toml_and_the_truth(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from speech.cli import app

    out = tmp_path / "call"
    result = CliRunner().invoke(app, ["synth", str(out), "--speakers", "1", "--minutes", "0.5",
                                      "--jobs", "1", "--condition", "webconf,backchannel=12"])
    assert result.exit_code == 0, result.output
    meta = (out / "corpus.toml").read_text()
    assert "overlap = 0.15\n" in meta and "backchannel_per_min = 12.0\n" in meta
    written = pd.read_csv(out / "truth" / "conditions.csv")
    assert dict(zip(written["condition"], written["strength"], strict=True)) == {
        **PRESETS["webconf"], "backchannel": 12.0}
    ipus = pd.read_csv(out / "truth" / "ipus.csv")
    interview = ipus[ipus["recording_id"] == "S001_interview"]
    assert interview["speaker_id"].nunique() == 2
    assert (pd.read_csv(out / "truth" / "overlaps.csv")["recording_id"] == "S001_interview").all()


def test_cli_refuses_an_unknown_condition(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from speech.cli import app

    result = CliRunner().invoke(app, ["synth", str(tmp_path / "x"), "--speakers", "1",
                                      "--condition", "echo=2"])
    assert result.exit_code == 2
    assert "unknown condition 'echo'" in result.output
