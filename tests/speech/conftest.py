"""A small synthetic corpus, synthesised once per test session (a few seconds)."""

import re
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


#: The speaker whose id `planted` writes into another speaker's transcript.
PLANTED_ID = "S001"


@pytest.fixture
def planted(three_recordings) -> Path:
    """The three recordings, with the erased speaker's id planted as a word in the
    other speaker's transcript: kept with --keep-text, it must be found by the scan."""
    listing = pd.read_csv(three_recordings / "recordings.csv", dtype=str)
    other = listing.loc[listing["speaker_id"] != PLANTED_ID, "recording_id"].iloc[0]
    grid = three_recordings / "transcripts" / f"{other}.TextGrid"
    text = grid.read_text(encoding="utf-8")
    word = re.findall(r'text = "([a-z]{3,})"', text)[0]
    grid.write_text(text.replace(f'text = "{word}"', f'text = "{PLANTED_ID}"'), encoding="utf-8")
    return three_recordings
