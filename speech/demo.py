"""The built-in demo: a synthetic corpus through the whole pipeline, and the store
the notebooks explore.

``speech-profile demo`` and the notebooks share :func:`build_demo`, so the
notebooks always look at what the pipeline really produces.
"""

from __future__ import annotations

import hashlib
import os
import shutil
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
#: The packages whose code a demo store is built by.
PIPELINE_PACKAGES = ("corpora", "features", "speech", "models")
#: File, beside a demo's ``corpus/`` and ``store/``, naming the code that built them.
BUILT_BY = "built_by.sha256"


def code_fingerprint(root: Path | None = None) -> str:
    """SHA-256 over the pipeline's Python sources (paths and contents) under ``root``
    (default: the repository, :data:`ROOT`).

    A demo built by other code may lack columns or files that the notebooks now
    read, so a cached demo is reused only when this matches what built it.
    """
    root = ROOT if root is None else root
    digest = hashlib.sha256()
    for package in PIPELINE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def mark_built(out: Path) -> None:
    """Record in ``OUT/built_by.sha256`` that the current code built ``OUT``."""
    (out / BUILT_BY).write_text(code_fingerprint() + "\n", encoding="utf-8")


def built_by_this_code(out: Path) -> bool:
    """Whether ``OUT`` holds a fitted demo store built by the current code."""
    stamp = out / BUILT_BY
    return ((out / "store" / "models" / "fit.json").is_file() and stamp.is_file()
            and stamp.read_text(encoding="utf-8").strip() == code_fingerprint())


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
    (out / BUILT_BY).unlink(missing_ok=True)  # re-marked only once the demo is complete
    if not (corpus / "speakers.csv").is_file():
        say("synth")
        write_corpus(corpus, n_speakers=speakers, seed=seed, minutes_per_speaker=minutes,
                     jobs=jobs)
    say("extract")
    extract(read_corpus(corpus), Store(store), jobs=jobs or os.cpu_count() or 1)
    say("fit")
    fit_store(store, random_state=seed, n_permutations=n_permutations)
    mark_built(out)
    return store


def notebook_store() -> Path:
    """The store a notebook explores.

    ``$SPEECH_PROFILE_STORE`` if set; else the demo's (``demo-out/store``, written by
    ``make demo``) when the current code built and fitted it; else a small demo
    (12 speakers x 0.75 min) under ``.cache/``, rebuilt whenever the pipeline's
    code has changed since it was built (see :func:`code_fingerprint`).
    """
    if os.environ.get(STORE_VARIABLE):
        return Path(os.environ[STORE_VARIABLE])
    demo = ROOT / "demo-out"
    if built_by_this_code(demo):
        return demo / "store"
    small = ROOT / ".cache" / "notebook-demo"
    if not built_by_this_code(small):
        if small.exists():
            shutil.rmtree(small)
        build_demo(small, speakers=12, minutes=0.75, seed=1, n_permutations=999)
    return small / "store"
