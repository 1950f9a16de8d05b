"""A tiny good corpus, synthesised once per session, copied for every hostile test.

Each test plants one hostile item next to two good read utterances and runs the real
pipeline (``check_corpus`` and/or ``extract``): the hostile item must come out as a
clear problem or error (naming the file, line or value) or with its documented
handling, and the good utterances must always finish with segments.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from corpora.corpus import Corpus, read_corpus, scan_corpus
from corpora.synth import write_corpus
from speech.extract import extract
from speech.store import Store

GOOD = ("S001_u01", "S002_u01")
HEADER = "recording_id,path,kind,speaker_id,n_speakers,channels\n"


@pytest.fixture(scope="session")
def synthetic_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 speakers x 0.3 min, written once (about 3 s)."""
    root = tmp_path_factory.mktemp("hostile") / "synth"
    write_corpus(root, n_speakers=2, seed=3, minutes_per_speaker=0.3, jobs=1)
    return root


@pytest.fixture(scope="session")
def good_base(synthetic_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two read utterances (one per speaker) with their TextGrids: the good batch."""
    root = tmp_path_factory.mktemp("hostile") / "base"
    (root / "transcripts").mkdir(parents=True)
    for name in ("speakers.csv", "corpus.toml"):
        shutil.copy(synthetic_source / name, root / name)
    rows = []
    for rid in GOOD:
        speaker = rid.split("_")[0]
        (root / "audio" / speaker).mkdir(parents=True)
        shutil.copy(synthetic_source / f"audio/{speaker}/{rid}.wav", root / f"audio/{speaker}")
        shutil.copy(synthetic_source / f"transcripts/{rid}.TextGrid", root / "transcripts")
        rows.append(f"{rid},audio/{speaker}/{rid}.wav,utterance,{speaker},1,\n")
    (root / "recordings.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    return root


@dataclass
class HostileCorpus:
    """A fresh copy of the good corpus in which a test plants one hostile item."""

    root: Path
    store: Path

    @property
    def good_audio(self) -> tuple[np.ndarray, int]:
        """The first good utterance's samples (float32) and rate, to derive bad files from."""
        y, sr = sf.read(self.root / "audio/S001/S001_u01.wav", dtype="float32")
        return y, sr

    def add_recording(self, rid: str, path: str, *, speaker: str = "S001",
                      kind: str = "utterance", n_speakers: int = 1,
                      transcript_from: str | None = None) -> None:
        """List a recording in recordings.csv; optionally copy a good TextGrid for it."""
        with (self.root / "recordings.csv").open("a", encoding="utf-8") as f:
            f.write(f"{rid},{path},{kind},{speaker},{n_speakers},\n")
        if transcript_from is not None:
            shutil.copy(self.root / f"transcripts/{transcript_from}.TextGrid",
                        self.root / f"transcripts/{rid}.TextGrid")

    def extract(self, corpus: Corpus | None = None) -> ExtractResult:
        """Run the batch (in-process) on the corpus, or on an already scanned one."""
        corpus = corpus if corpus is not None else read_corpus(self.root)
        summary = extract(corpus, Store(self.store))
        store = Store(self.store)
        return ExtractResult(summary, store.read_table("recordings"),
                             store.read_table("segments"), store.read_table("errors"))

    def extract_scanned(self) -> ExtractResult:
        """Extract what ``scan_corpus`` could read despite problems (the good part)."""
        corpus, problems = scan_corpus(self.root)
        assert problems, "the hostile item should have been reported by scan_corpus"
        return self.extract(corpus)


@dataclass
class ExtractResult:
    summary: object
    recordings: pd.DataFrame
    segments: pd.DataFrame
    errors: pd.DataFrame

    def row(self, rid: str) -> pd.Series:
        return self.recordings.set_index("recording_id").loc[rid]

    def assert_good_finished(self) -> None:
        """Both good utterances are 'ok' with segments and no error row."""
        status = self.recordings.set_index("recording_id")["status"]
        for rid in GOOD:
            assert status.get(rid) == "ok", f"{rid}: {status.get(rid)}"
            assert (self.segments["recording_id"] == rid).sum() >= 1
            if len(self.errors):
                assert rid not in set(self.errors["recording_id"])

    def error_for(self, rid: str) -> str:
        """The recording's error row as one line: 'stage error: message'."""
        assert len(self.errors), "no errors table"
        rows = self.errors[self.errors["recording_id"] == rid]
        assert len(rows) == 1, f"expected one error row for {rid}, got {len(rows)}"
        r = rows.iloc[0]
        return f"{r['stage']} {r['error']}: {r['message']}"


@pytest.fixture
def hostile(good_base: Path, tmp_path: Path) -> HostileCorpus:
    root = tmp_path / "corpus"
    shutil.copytree(good_base, root)
    return HostileCorpus(root=root, store=tmp_path / "store")
