"""Shared fixtures: a small, valid corpus written by hand (no synthesizer), into
which single tests plant one fault at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from praatio import textgrid

SR = 16000

SPEAKERS_CSV = """\
speaker_id,gender,age,country,education,student,field,languages,income_band,main_income,platforms,consent
S01,F,31,MX,bachelor,false,stem,en,500-1000,true,Appen;Clickworker,true
S02,M,45,ES,master_phd,false,humanities,en;fr,1000-2000,false,Toloka,true
S03,F,24,VE,secondary,true,business,,<250,true,Microworkers,false
"""

RECORDINGS_CSV = """\
recording_id,path,kind,speaker_id,n_speakers,channels
S01_interview,audio/S01/S01_interview.wav,interview,S01,2,
S01_u01,audio/S01/S01_u01.flac,utterance,S01,1,
S02_interview,audio/S02/S02_interview.wav,interview,S02,2,0:S02;1:INT1
S03_u01,audio/S03/S03_u01.wav,utterance,S03,1,
"""


def tone(duration_s: float, f0_hz: float = 150.0, *, channels: int = 1) -> np.ndarray:
    """A quiet harmonic tone, shape (n,) or (n, channels) as soundfile writes it."""
    t = np.arange(int(duration_s * SR)) / SR
    y = sum(0.1 / k * np.sin(2 * np.pi * k * f0_hz * t) for k in range(1, 6)).astype(np.float32)
    return y if channels == 1 else np.stack([y * (c + 1) / channels for c in range(channels)], 1)


def write_mfa_textgrid(path: Path, duration_s: float, turns: list[tuple[str, float, float, str]]):
    """MFA-style TextGrid: '<speaker> - words' and '<speaker> - phones' per voice."""
    tg = textgrid.Textgrid()
    for speaker in sorted({t[0] for t in turns}):
        words = [(s, e, w) for who, s, e, w in turns if who == speaker]
        phones = [(s, e, w[0]) for who, s, e, w in turns if who == speaker]
        for level, entries in (("words", words), ("phones", phones)):
            tier = textgrid.IntervalTier(f"{speaker} - {level}", entries, 0, duration_s)
            tg.addTier(tier)
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)


def build_corpus(root: Path) -> Path:
    """Write a valid 3-speaker corpus with interviews, utterances and transcripts."""
    (root / "transcripts").mkdir(parents=True)
    for sid in ("S01", "S02", "S03"):
        (root / "audio" / sid).mkdir(parents=True)
    (root / "speakers.csv").write_text(SPEAKERS_CSV, encoding="utf-8")
    (root / "recordings.csv").write_text(RECORDINGS_CSV, encoding="utf-8")
    (root / "corpus.toml").write_text('name = "tiny"\nlanguage = "es"\n', encoding="utf-8")
    sf.write(root / "audio/S01/S01_interview.wav", tone(3.0), SR, subtype="PCM_16")
    sf.write(root / "audio/S01/S01_u01.flac", tone(1.5, 200), SR)
    sf.write(root / "audio/S02/S02_interview.wav", tone(3.0, 120, channels=2), SR)
    sf.write(root / "audio/S03/S03_u01.wav", tone(1.0, 210), SR)
    write_mfa_textgrid(
        root / "transcripts/S01_interview.TextGrid",
        3.0,
        [("INT1", 0.1, 0.9, "hola"), ("S01", 1.2, 2.0, "bueno"), ("S01", 2.1, 2.8, "pues")],
    )
    (root / "transcripts/S02_interview.vtt").write_text(
        "WEBVTT\n\n"
        "00:00:00.100 --> 00:00:01.000\n<v INT1>¿Cómo empezó?</v>\n\n"
        "00:00:01.200 --> 00:00:02.500\n<v S02>Pues hace dos años.</v>\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return build_corpus(tmp_path / "corpus")
