"""The built-in demo: a synthetic corpus through the whole pipeline, and the store
the notebooks explore.

``speech-profile demo`` and the notebooks share :func:`build_demo`, so the
notebooks always look at what the pipeline really produces; the command only prints
what each step returns.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from corpora.check import check_corpus
from corpora.corpus import Recording, read_corpus
from corpora.problems import CorpusError
from corpora.synth import write_corpus
from speech.evaluate import evaluate
from speech.extract import extract
from speech.fit import fit_store
from speech.report import build_report
from speech.segmentation import RecordingResult
from speech.store import Store

#: Repository root (the notebooks' default demo lives under it).
ROOT = Path(__file__).resolve().parents[1]
#: Environment variable naming the store the notebooks explore.
STORE_VARIABLE = "SPEECH_PROFILE_STORE"
#: The packages whose code (and data: the profile vocabulary) a demo store is built by.
PIPELINE_PACKAGES = ("corpora", "features", "speech", "models", "vocabulary")
#: File, beside a demo's ``corpus/`` and ``store/``, naming the code that built them.
BUILT_BY = "built_by.sha256"


def code_fingerprint(root: Path | None = None) -> str:
    """SHA-256 over the pipeline's Python sources and TOML data (paths and contents) under
    ``root``
    (default: the repository, :data:`ROOT`).

    A demo built by other code may lack columns or files that the notebooks now
    read, so a cached demo is reused only when this matches what built it.
    """
    root = ROOT if root is None else root
    digest = hashlib.sha256()
    for package in PIPELINE_PACKAGES:
        for path in sorted([*(root / package).rglob("*.py"), *(root / package).rglob("*.toml")]):
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


#: What ``speech-profile demo`` runs, in order.
DEMO_STEPS = ("synth", "check", "extract", "eval", "fit", "report")
#: What the notebooks' demo runs.
NOTEBOOK_STEPS = ("synth", "extract", "fit")


def build_demo(
    out: Path,
    *,
    speakers: int = 30,
    minutes: float = 1.0,
    seed: int = 0,
    jobs: int | None = None,
    n_permutations: int = 9999,
    steps: tuple[str, ...] = NOTEBOOK_STEPS,
    fresh: bool = False,
    progress: Callable[[str], None] | None = None,
    on_step: Callable[[str, Any], None] | None = None,
    on_recording: Callable[[Recording, RecordingResult | None], None] | None = None,
) -> Path:
    """Synthesise ``OUT/corpus``, extract it into ``OUT/store``, fit the models, and
    (with the :data:`DEMO_STEPS`) check the corpus, score the segmentation against the
    truth and write ``OUT/report``.

    Parameters
    ----------
    out : Path
        The demo's directory.
    speakers, minutes, seed : int, float, int
        The synthetic corpus (speakers, minutes of audio each, random seed; the seed
        also seeds the models).
    jobs : int, optional
        Worker processes (default: all cores).
    n_permutations : int
        B of the association permutation tests.
    steps : tuple of str
        Which of :data:`DEMO_STEPS` to run (always in that order); ``"synth"`` reuses an
        existing corpus unless ``fresh``.
    fresh : bool
        Remove ``OUT/corpus``, ``OUT/store`` and ``OUT/report`` first.
    progress : callable, optional
        Called with each step's name as it starts.
    on_step : callable, optional
        Called with each step's name and result once it is done: the corpus summary
        (synth, None when the corpus is reused), the check report, the extraction
        summary, the evaluation summary (dict), the models directory, the report's path.
    on_recording : callable, optional
        Called with each recording extracted (see :func:`speech.extract.extract`).

    Returns
    -------
    Path
        ``OUT/store`` (with ``models/``).

    Raises
    ------
    CorpusError
        When the check step finds a problem (after ``on_step`` has seen the report).
    """
    unknown = sorted(set(steps) - set(DEMO_STEPS))
    if unknown:
        raise ValueError(f"unknown demo step(s) {unknown}; use some of {DEMO_STEPS}")
    corpus, store, report = out / "corpus", out / "store", out / "report"
    say = progress or (lambda _: None)
    done = on_step or (lambda _step, _result: None)
    (out / BUILT_BY).unlink(missing_ok=True)  # re-marked only once the demo is complete
    for path in (corpus, store, report) if fresh else ():
        if path.exists():
            shutil.rmtree(path)
    for step in (s for s in DEMO_STEPS if s in steps):
        say(step)
        if step == "synth":
            result = None if (corpus / "speakers.csv").is_file() else write_corpus(
                corpus, n_speakers=speakers, seed=seed, minutes_per_speaker=minutes, jobs=jobs)
        elif step == "check":
            result = check_corpus(corpus)
        elif step == "extract":
            result = extract(read_corpus(corpus), Store(store), jobs=jobs or os.cpu_count() or 1,
                             progress=on_recording)
        elif step == "eval":
            result = evaluate(Store(store), corpus)[2]
        elif step == "fit":
            result = fit_store(store, random_state=seed, n_permutations=n_permutations)
        else:
            result = build_report(store, report)
        done(step, result)
        if step == "check" and not result.ok:
            raise CorpusError(result.problems)
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
