"""A small synthetic corpus, synthesised once per test session (a few seconds)."""

from pathlib import Path

import pytest

from corpora.synth import write_corpus


@pytest.fixture(scope="session")
def synthetic_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "corpus"
    write_corpus(root, n_speakers=3, seed=11, minutes_per_speaker=0.4, jobs=1)
    return root
