"""A small synthetic corpus, synthesised once per test session (a few seconds)."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from corpora.synth import write_corpus


@pytest.fixture(scope="session")
def synthetic_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "corpus"
    write_corpus(root, n_speakers=3, seed=11, minutes_per_speaker=0.4, jobs=1)
    return root


@pytest.fixture
def three_recordings(synthetic_corpus, tmp_path) -> Path:
    """Three short recordings of the session corpus (utterances: seconds each)."""
    root = tmp_path / "corpus"
    shutil.copytree(synthetic_corpus, root)
    listing = pd.read_csv(root / "recordings.csv", dtype=str, keep_default_na=False)
    listing = listing[listing["kind"] == "utterance"].head(3)
    listing.to_csv(root / "recordings.csv", index=False)
    for transcript in (root / "transcripts").iterdir():
        if transcript.stem not in set(listing["recording_id"]):
            transcript.unlink()
    return root
