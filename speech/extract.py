"""Batch extraction: a corpus -> the store, one recording per task.

Only recordings of speakers who consented are read at all; the partitions of a
speaker who withdrew consent (or of a recording that left the corpus) are
removed. A recording is recomputed when one of its inputs (audio, transcript)
changed or the configuration did; otherwise its rows stay as they are and no
audio is decoded. A failing recording becomes a row of the ``errors`` table and
the others finish, including one that kills its worker process (segfault,
out-of-memory kill): stage ``"worker"`` (see :mod:`speech.executors`).

The work runs in this process (``jobs=1``), a local process pool (``jobs>1``) or
on a Dask cluster (``scheduler=``); in every case the results come back here and
only this process writes the store, so the tables do not depend on where the
work ran. A killed run leaves only finished recordings (and stray temporary
files, which the next run removes) and the next run does the rest.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from corpora.corpus import Corpus, Recording
from features.registry import FEATURE_SET_VERSION
from features.rhythm import speaker_timing
from models.aggregate import aggregate_speakers
from models.vowel_space import vowel_space
from speech import __version__
from speech.executors import TaskFailed, run_tasks
from speech.privacy import KEY_FIELD, erased_ids, erasure_hash, mentions, note_withheld, store_key
from speech.schema import ERROR_COLUMNS, RECORDING_COLUMNS, SEGMENT_COLUMNS
from speech.segmentation import RecordingResult, SegmentationConfig, segment_recording
from speech.store import (
    PART,
    PARTITIONED_TABLES,
    Store,
    config_hash,
    file_problem,
    file_record,
    fingerprint,
)

#: Segment columns that are keys, times or labels, not features to average per speaker.
NOT_AGGREGATED = frozenset({
    "recording_id", "segment_id", "speaker_id", "start_s", "end_s", "duration_s", "kind",
    "turn_id", "text", "method", "n_nuclei",
})  # fmt: skip
#: Rewrite the manifest at most this often during a run (s); always at the end.
MANIFEST_EVERY_S = 5.0
#: TEST-ONLY hook, never for production use: when this environment variable (read
#: by the process that runs ``extract``) names a recording id, the worker process
#: that picks that recording up kills itself with SIGKILL, as an out-of-memory
#: kill or a segfault in native code would. Used by tests/speech/test_faults.py
#: to prove crash isolation; ignored in-process (``jobs=1``), where it would kill
#: the run itself.
CRASH_HOOK_ENV = "SPEECH_PROFILE_TEST_CRASH"


#: TEST-ONLY hook, never for production use: when this environment variable names
#: a directory, ``extract`` pauses before committing a recording R for which the file
#: ``<dir>/R.hold`` exists: it creates ``<dir>/R.waiting`` and waits until the hold
#: file is removed (at most HOLD_MAX_S). Tests use it to run ``forget`` or a second
#: writer at a known moment (tests/speech/test_concurrency.py), not by timing luck.
HOLD_HOOK_ENV = "SPEECH_PROFILE_TEST_HOLD"
HOLD_MAX_S = 300.0


@dataclass
class ExtractSummary:
    """What one ``extract`` run did.

    ``repaired`` maps a recording recomputed because a file of it was damaged to
    the problem found; ``withheld`` lists recordings computed but not written
    because their speaker's erasure was requested during the run;
    ``manifest_recovery`` says how a damaged manifest was recovered.
    """

    computed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    repaired: dict[str, str] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)
    skipped_no_consent: int = 0
    skipped_erased: int = 0
    audio_s: float = 0.0
    elapsed_s: float = 0.0
    manifest_recovery: str | None = None


def _inputs(recording: Recording) -> dict[str, str]:
    """Fingerprints of every input file: the audio (each file of a recording of
    several, ``audio``, ``audio_1``...) and the transcript."""
    found = {"audio" if i == 0 else f"audio_{i}": fingerprint(source.path)
             for i, source in enumerate(recording.sources)}
    if recording.transcript is not None:
        found["transcript"] = fingerprint(recording.transcript)
    return found


def _describe(recording: Recording) -> dict:
    """Everything about a recording's metadata that changes its segmentation."""
    described = {
        "kind": recording.kind, "speaker_id": recording.speaker_id,
        "n_speakers": recording.n_speakers,
        "channels": {str(c): v for c, v in sorted(recording.channels.items())},
    }  # fmt: skip
    if recording.is_timeline:  # each file's channels and start (one plain file: as before)
        described["sources"] = [
            {"offset_s": s.offset_s, "channels": {str(c): v for c, v in sorted(s.channels.items())}}
            for s in recording.sources
        ]
    return described


def _warm_worker() -> None:
    """Pay imports and Praat's first call once per worker, not once per recording."""
    import numpy as np

    from features.tracks import pitch_track

    pitch_track(np.zeros(1600, np.float32), 16000)


def _run(recording: Recording, config: SegmentationConfig, genders: dict[str, str],
         crash: bool = False) -> RecordingResult:
    """The worker task: one recording. ``crash`` is the test-only hook (CRASH_HOOK_ENV)."""
    if crash:
        os.kill(os.getpid(), signal.SIGKILL)
    # One BLAS/OpenMP thread per task wherever it runs: workers run side by side
    # (more threads would oversubscribe the cores), and a threaded BLAS sums in
    # another order, so in-process, pool and Dask results would differ in their
    # last bits (Dask's nannies already set OMP_NUM_THREADS=1).
    with threadpool_limits(limits=1):
        return segment_recording(recording, config, genders=genders)


def _failed(recording: Recording, config: SegmentationConfig,
            failure: TaskFailed) -> RecordingResult:
    """The rows of a recording whose task produced no result (its worker died):
    the same shape as segment_recording's own failures, stage ``"worker"``."""
    row = {
        "recording_id": recording.recording_id, "speaker_id": recording.speaker_id,
        "kind": recording.kind, "n_speakers": recording.n_speakers, "duration_s": float("nan"),
        "sample_rate": config.sample_rate, "source_sample_rate": None, "num_channels": None,
        "status": "error", "method": None, "n_segments": 0, "speech_s": 0.0, "warnings": "",
    }  # fmt: skip
    errors = pd.DataFrame([{
        "recording_id": recording.recording_id, "stage": "worker", "error": failure.error,
        "message": failure.message,
    }], columns=ERROR_COLUMNS)  # fmt: skip
    # Typed nulls: an all-None column is written as Arrow's null type, which a
    # dataset whose first partition has it cannot cast the other partitions to.
    recording_row = pd.DataFrame([row], columns=RECORDING_COLUMNS).astype(
        {"source_sample_rate": "Int64", "num_channels": "Int64", "method": "str"})
    return RecordingResult(recording_row, pd.DataFrame(columns=SEGMENT_COLUMNS), errors)


def remove_stale_temporaries(store: Store) -> list[str]:
    """Delete the temporary files a killed run left behind (``.<name>.<random>.tmp``,
    see speech.store's atomic writes); return their paths relative to the store.

    Called under the store's write lock: no other run can be writing to it.
    """
    if not store.root.is_dir():
        return []
    stale = [p for p in store.root.rglob(".*.tmp") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return sorted(str(p.relative_to(store.root)) for p in stale)


def extract(
    corpus: Corpus,
    store: Store,
    *,
    config: SegmentationConfig | None = None,
    jobs: int = 1,
    progress: Callable[[Recording, RecordingResult | None], None] | None = None,
    scheduler: str | None = None,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> ExtractSummary:
    """Segment every consented recording of ``corpus`` into ``store``.

    Parameters
    ----------
    corpus : Corpus
        From :func:`corpora.corpus.read_corpus`.
    store : Store
    config : SegmentationConfig, optional
    jobs : int
        Worker processes (long-lived, one recording per task); 1 runs in-process.
        Ignored with ``scheduler``.
    progress : callable, optional
        Called with each recording when it is done (result ``None`` when unchanged
        or withheld).
    scheduler : str, optional
        A Dask distributed scheduler (``tcp://HOST:PORT``, or a scheduler file):
        one task per recording on the cluster, whose workers must import this
        project and see the corpus at the same path. The results come back to
        this process, which alone writes the store.
    wait : bool
        When another process writes the store: wait for it (default), or raise
        :class:`speech.lock.StoreBusy` at once.
    on_wait : callable, optional
        Called with the other writer's description before waiting for it.

    Returns
    -------
    ExtractSummary
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    with store.writing("extract", wait=wait, on_wait=on_wait):
        started = time.perf_counter()
        summary = _extract(corpus, store, config, jobs, progress, scheduler)
        summary.elapsed_s = time.perf_counter() - started
        return summary


@dataclass
class _Plan:
    """What a run must do, decided before any audio is read."""

    config: SegmentationConfig
    manifest: dict
    todo: list[tuple[Recording, dict]]
    erased: set[str]
    gender_of: dict[str, str]


def _extract(corpus: Corpus, store: Store, config: SegmentationConfig | None, jobs: int,
             progress, scheduler: str | None) -> ExtractSummary:
    plan, summary = _plan(corpus, store, config)
    if progress is not None:
        for rid in summary.unchanged:
            progress(corpus.recordings[rid], None)
    known = {*corpus.speakers["speaker_id"].astype(str), *(r.speaker_id for r in corpus)}
    committer = _Committer(store, plan.manifest, summary, progress, known)
    crash = os.environ.get(CRASH_HOOK_ENV) if (jobs > 1 or scheduler) else None
    tasks = {
        r.recording_id: (r, plan.config, _genders(r, plan.gender_of), r.recording_id == crash)
        for r, _ in plan.todo
    }  # fmt: skip
    entries = {r.recording_id: (r, e) for r, e in plan.todo}
    for rid, result in run_tasks(_run, tasks, jobs=jobs, scheduler=scheduler,
                                 initializer=_warm_worker):
        recording, entry = entries[rid]
        if isinstance(result, TaskFailed):
            result, entry = _failed(recording, plan.config, result), {**entry, "retry": True}
        committer.commit(recording, entry, result)
    damaged = _write_speakers(store, corpus, plan.manifest, summary,
                              plan.erased | committer.erased())
    if damaged is not None:
        summary.repaired["speakers"] = damaged
    store.write_manifest(plan.manifest)
    return summary


def _plan(corpus: Corpus, store: Store,
          config: SegmentationConfig | None) -> tuple[_Plan, ExtractSummary]:
    """Read the manifest (recovering it if damaged), remove what is no longer wanted,
    and sort the wanted recordings into unchanged (verified on disk) and to do.

    Returns the plan and the summary so far (unchanged, repaired, removed, skipped).
    """
    remove_stale_temporaries(store)
    manifest = store.read_manifest()
    summary = ExtractSummary(manifest_recovery=store.recovery)
    # The vowel inventory is the corpus's (corpus.toml), whatever the caller passed.
    # Word ids are keyed with the store's own key, so they are stable across runs.
    config = replace(config or SegmentationConfig(), vowels=tuple(corpus.config.vowels),
                     language=corpus.config.language, text_key=store_key(store))
    manifest = store.read_manifest() if KEY_FIELD not in manifest else manifest
    settings = {"segmentation": config.as_dict(), "feature_set_version": FEATURE_SET_VERSION}
    settings_hash = config_hash(settings)
    previous = manifest.setdefault("recordings", {})

    consented = set(corpus.consented["speaker_id"])
    # A speaker erased with `forget` stays erased, even if the corpus still lists them.
    erased = erased_ids(manifest, store, consented)
    consented -= erased
    summary.skipped_erased = len(erased)
    profiles = corpus.consented
    gender_of = (dict(zip(profiles["speaker_id"], profiles["gender"], strict=True))
                 if "gender" in profiles else {})
    wanted = {r.recording_id: r for r in corpus if r.speaker_id in consented}
    summary.skipped_no_consent = len(corpus) - len(wanted)
    summary.removed = _remove_unwanted(store, previous, set(wanted))

    todo: list[tuple[Recording, dict]] = []
    for rid, recording in wanted.items():
        entry = {"inputs": _inputs(recording), "recording": _describe(recording),
                 "config_hash": settings_hash}
        old = previous.get(rid, {})
        same = all(old.get(k) == entry[k] for k in ("inputs", "recording", "config_hash"))
        # A recording whose worker died is retried: the death may have been the
        # neighbours' fault (memory pressure), unlike an error of its own.
        if same and old.get("status") is not None and not old.get("retry"):
            problem, files = _verify(store, rid, old)
            if problem is None:
                old["files"] = files
                summary.unchanged.append(rid)
                continue
            summary.repaired[rid] = problem
        todo.append((recording, entry))

    manifest.update({
        "tool_version": __version__, "feature_set_version": FEATURE_SET_VERSION,
        "corpus": str(corpus.root), "config": settings, "config_hash": settings_hash,
    })  # fmt: skip
    if todo or summary.removed:
        # The speakers table is stale until rewritten at the end: a manifest saved
        # mid-run (then a kill) must not let the next run believe it is current.
        manifest.pop("profiles", None)
    return _Plan(config, manifest, todo, erased, gender_of), summary


def _remove_unwanted(store: Store, previous: dict, wanted: set[str]) -> list[str]:
    """Erasure: whatever the store holds of recordings not wanted any more goes."""
    stored = set(previous) | {rid for t in PARTITIONED_TABLES for rid in store.recording_ids(t)}
    removed = sorted(stored - wanted)
    for rid in removed:
        for table in PARTITIONED_TABLES:
            store.delete_partition(table, rid)
        previous.pop(rid, None)
    return removed


def _verify(store: Store, rid: str, entry: dict) -> tuple[str | None, dict]:
    """Check a recording's files against its manifest entry before calling it unchanged.

    Returns the first problem (``"<file>: <why>"``, None when intact) and the file
    records to keep. An entry without records (a store written before checksums) is
    accepted when its files read as Parquet, and their records are taken now.
    """
    recorded = entry.get("files")
    files = {}
    for table in PARTITIONED_TABLES:
        path = store.partition_dir(table, rid) / PART
        where = path.relative_to(store.root).as_posix()
        if recorded is not None and table not in recorded:
            if path.exists():
                return f"{where}: not in the manifest (orphaned)", {}
            continue
        if recorded is None and not path.exists():
            continue
        problem = file_problem(path, None if recorded is None else recorded[table])
        if problem is not None:
            return f"{where}: {problem}", {}
        files[table] = recorded[table] if recorded is not None else file_record(path)
    return None, files


class _Committer:
    """Writes each finished recording's partitions, unless its speaker's erasure was
    requested meanwhile, and saves the manifest now and then."""

    def __init__(self, store: Store, manifest: dict, summary: ExtractSummary, progress,
                 speaker_ids: set[str]):
        self.store, self.manifest, self.summary, self.progress = (
            store, manifest, summary, progress)
        self.speaker_ids = speaker_ids
        self.last_write = time.perf_counter()

    def erased(self) -> set[str]:
        """Speakers erased or whose erasure was requested, now (requests arrive while
        the run goes on: read them again before each commit)."""
        return erased_ids(self.manifest, self.store, self.speaker_ids)

    def commit(self, recording: Recording, entry: dict, result: RecordingResult) -> None:
        rid = recording.recording_id
        _hold_for_tests(rid)
        erased = self.erased()
        if recording.speaker_id in erased:
            self._withhold(recording)
            return
        files = {}
        status = str(result.recording["status"].iloc[0])
        entry = {**entry, "status": status}
        for table in PARTITIONED_TABLES:
            rows = getattr(result, "recording" if table == "recordings" else table)
            rows = pd.DataFrame() if rows is None else rows
            if erased and len(rows):  # an erased speaker named in someone else's recording
                rows = rows[~mentions(rows, erased)]
            record = self.store.write_partition(table, rid, rows, metadata=entry)
            if record is not None:
                files[table] = record
        self.manifest["recordings"][rid] = {**entry, "files": files}
        (self.summary.failed if status == "error" else self.summary.computed).append(rid)
        duration = result.recording["duration_s"].iloc[0]
        self.summary.audio_s += float(duration) if duration == duration else 0.0
        if self.progress is not None:
            self.progress(recording, result)
        if time.perf_counter() - self.last_write > MANIFEST_EVERY_S:
            self.store.write_manifest(self.manifest)
            self.last_write = time.perf_counter()

    def _withhold(self, recording: Recording) -> None:
        rid = recording.recording_id
        for table in PARTITIONED_TABLES:
            self.store.delete_partition(table, rid)
        self.manifest["recordings"].pop(rid, None)
        note_withheld(self.store, erasure_hash(self.manifest[KEY_FIELD], recording.speaker_id))
        self.summary.withheld.append(rid)
        if self.progress is not None:
            self.progress(recording, None)


def _hold_for_tests(recording_id: str) -> None:
    """The test-only pause of HOLD_HOOK_ENV (a no-op unless that variable is set)."""
    directory = os.environ.get(HOLD_HOOK_ENV)
    if not directory:
        return
    hold = Path(directory) / f"{recording_id}.hold"
    if not hold.exists():
        return
    (Path(directory) / f"{recording_id}.waiting").touch()
    deadline = time.monotonic() + HOLD_MAX_S
    while hold.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _write_speakers(store: Store, corpus: Corpus, manifest: dict, summary: ExtractSummary,
                    erased: set[str]) -> str | None:
    """Rewrite the speakers table when anything under it changed or it is damaged;
    returns the damage found (None when it was intact)."""
    profiles_print = fingerprint(corpus.root / "speakers.csv")
    path = store.root / "speakers" / PART
    record = manifest.get("files", {}).get("speakers")
    damaged = file_problem(path, record) if path.is_file() else None
    if (summary.computed or summary.failed or summary.removed or summary.withheld or damaged
            or manifest.get("profiles") != profiles_print or not path.is_file()):
        manifest.setdefault("files", {})["speakers"] = store.write_table(
            "speakers", speakers_table(store, corpus, exclude=erased))
        manifest["profiles"] = profiles_print
    return f"speakers/{PART}: {damaged}" if damaged else None


def _genders(recording: Recording, gender_of: dict) -> dict[str, str]:
    gender = gender_of.get(recording.speaker_id)
    return {recording.speaker_id: gender} if isinstance(gender, str) else {}


def aggregate_segments(segments: pd.DataFrame,
                       profiles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per voice: the duration-weighted mean of every numeric segment feature with
    its counts (models.aggregate), then timing (speech rate, pauses) per speaker.
    With ``profiles``, one row per profiled speaker, profile columns first."""
    features = [
        c for c in segments.columns
        if c not in NOT_AGGREGATED and pd.api.types.is_numeric_dtype(segments[c])
    ]  # fmt: skip
    table = aggregate_speakers(segments, features=features, profiles=profiles)
    if len(segments):
        timing = speaker_timing(segments, by="speaker_id")
        timing = timing[["speaker_id", *(c for c in timing.columns if c not in table)]]
        table = table.merge(timing, on="speaker_id", how="left")
    return table


def speakers_table(store: Store, corpus: Corpus, *,
                   exclude: frozenset[str] | set[str] = frozenset()) -> pd.DataFrame:
    """One row per consented speaker (but those in ``exclude``, the erased): profile,
    timing, and the duration-weighted mean of every segment feature over the speaker's
    own segments (interviewers are left out), with counts of the speech behind each value."""
    profiles = corpus.consented[~corpus.consented["speaker_id"].isin(set(exclude))]
    segments = store.read_table("segments")
    if segments.empty:
        return profiles.assign(n_segments=0, speech_s=0.0)
    own = segments[segments["speaker_id"].isin(set(profiles["speaker_id"]))]
    table = aggregate_segments(own, profiles=profiles)
    for extra in (_vowel_summary(store, profiles), _sibilant_summary(store, profiles)):
        if extra is not None:
            table = table.merge(extra, on="speaker_id", how="left")
    return table


def _vowel_summary(store: Store, profiles: pd.DataFrame) -> pd.DataFrame | None:
    """Vowel space per speaker (models.vowel_space), from tokens that passed QC."""
    vowels = store.read_table("vowels")
    if vowels.empty:
        return None
    own = vowels[vowels["speaker_id"].isin(set(profiles["speaker_id"]))]
    clean = own[own["qc"].fillna("").eq("") & own[["f1_hz", "f2_hz"]].notna().all(axis=1)]
    if clean.empty:
        return None
    space = vowel_space(clean.assign(vowel=clean["vowel"].astype(object)), f3="f3_hz")
    space = space.rename(columns={c: f"vowel_{c}" for c in space.columns if c != "speaker_id"})
    counts = own.groupby("speaker_id").size().rename("n_vowel_tokens").reset_index()
    return counts.merge(space, on="speaker_id", how="left")


def _sibilant_summary(store: Store, profiles: pd.DataFrame) -> pd.DataFrame | None:
    """Coda /s/ realisation rates per speaker: [s], [h] (aspirated), deleted."""
    sibilants = store.read_table("sibilants")
    if sibilants.empty:
        return None
    coda = sibilants[sibilants["speaker_id"].isin(set(profiles["speaker_id"]))
                     & (sibilants["position"] == "coda")]
    if coda.empty:
        return None
    rates = pd.crosstab(coda["speaker_id"], coda["realisation"], normalize="index")
    rates = rates.reindex(columns=["s", "h", "0"], fill_value=0.0)
    rates.columns = ["coda_s_sibilant_ratio", "coda_s_aspirated_ratio", "coda_s_deleted_ratio"]
    rates["n_coda_s"] = coda.groupby("speaker_id").size()
    return rates.reset_index()
