"""The built-in demo: a synthetic corpus through the whole pipeline, and the store
the notebooks explore.

``speech-profile demo`` and the notebooks share :func:`build_demo`, so the
notebooks always look at what the pipeline really produces.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from corpora.corpus import read_corpus
from corpora.synth import write_corpus
from speech.extract import extract
from speech.fit import fit_store
from speech.store import Store

#: Repository root (the notebooks' default demo lives under it).
ROOT = Path(__file__).resolve().parents[1]
#: Environment variable naming the store the notebooks explore.
STORE_VARIABLE = "SPEECH_PROFILE_STORE"


def build_demo(
    out: Path,
    *,
    speakers: int = 30,
    minutes: float = 1.0,
    seed: int = 0,
    jobs: int | None = None,
    n_permutations: int = 9999,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Synthesise ``OUT/corpus``, extract it into ``OUT/store`` and fit the models.

    Returns
    -------
    Path
        ``OUT/store`` (with ``models/``).
    """
    corpus, store = out / "corpus", out / "store"
    say = progress or (lambda _: None)
    if not (corpus / "speakers.csv").is_file():
        say("synth")
        write_corpus(corpus, n_speakers=speakers, seed=seed, minutes_per_speaker=minutes,
                     jobs=jobs)
    say("extract")
    extract(read_corpus(corpus), Store(store), jobs=jobs or os.cpu_count() or 1)
    say("fit")
    fit_store(store, random_state=seed, n_permutations=n_permutations)
    return store


def notebook_store() -> Path:
    """The store a notebook explores: ``$SPEECH_PROFILE_STORE`` if set; else the
    demo's (``demo-out/store``, written by ``make demo``) when it has been fitted;
    else a small demo (12 speakers x 0.75 min) built once under ``.cache/``."""
    if os.environ.get(STORE_VARIABLE):
        return Path(os.environ[STORE_VARIABLE])
    demo = ROOT / "demo-out" / "store"
    if (demo / "models" / "fit.json").is_file():
        return demo
    small = ROOT / ".cache" / "notebook-demo"
    if not (small / "store" / "models" / "fit.json").is_file():
        build_demo(small, speakers=12, minutes=0.75, seed=1, n_permutations=999)
    return small / "store"
