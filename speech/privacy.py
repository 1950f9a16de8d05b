"""Privacy of a store: its key, the erasure of a speaker, and the erasure log.

A worker who withdraws from the study is erased completely: every row that
names them leaves every table, the model outputs and reports that used them are
recomputed without them, and later ``extract`` runs refuse their recordings even
if the corpus still holds them. The manifest logs each erasure as a keyed hash
of the speaker id (HMAC-SHA256 with the store's key), never the id itself: the
log proves that an erasure happened and lets ``extract`` recognise the speaker,
without keeping who it was in readable form.

The store's key also keys the pseudonymous ``word_id`` of vowel and /s/ tokens
(see :class:`speech.segmentation.SegmentationConfig`). It lives in the manifest
(and in ``privacy.json``, for a manifest rebuild), so it hides words and ids from
a casual reader, not from whoever holds the store.

An erasure holds against a running ``extract``: ``forget`` first files an erasure
request (``STORE/.erasure-requests/<keyed hash>.json``, written without the lock),
then waits for the store's write lock. ``extract`` reads the requests before it
commits each recording and withholds every row of a requested speaker, whichever
worker (local or Dask) computed it and whenever it started; once ``extract`` ends,
``forget`` gets the lock, erases what earlier runs stored and logs the erasure.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from speech.store import PARTITIONED_TABLES, Store, _atomic_write_bytes

#: Manifest fields: the store's key and the erasure log.
KEY_FIELD = "key"
ERASURES_FIELD = "erasures"
#: Manifest field listing the directories reports of this store were written to.
REPORTS_FIELD = "reports"
#: Directory of the erasure requests of ``forget`` runs waiting for the lock.
REQUESTS_DIR = ".erasure-requests"


class StoreKeyLost(ValueError):
    """The store's key was lost with its manifest (and ``privacy.json``)."""


def store_key(store: Store) -> str:
    """The store's secret key (hex), created and saved on first use (hold the store's
    write lock: this may write the manifest)."""
    manifest = store.read_manifest()
    key = manifest.get(KEY_FIELD)
    if not key and store.recovery and "rebuilt" in store.recovery:
        raise StoreKeyLost(
            f"{store.root}: the store's key was lost with its manifest ({store.recovery}); "
            "its word ids and erasure log cannot be trusted: extract into a new store, "
            "and forget there again every speaker erased before")
    if not key:
        key = secrets.token_hex(16)
        manifest[KEY_FIELD] = key
        store.write_manifest(manifest)
    return key


def erasure_hash(key: str, speaker_id: str) -> str:
    """HMAC-SHA256 of ``speaker_id`` under the store's ``key`` (hex)."""
    return hmac.new(key.encode(), str(speaker_id).encode(), hashlib.sha256).hexdigest()


def erased_speakers(manifest: dict, candidates) -> set[str]:
    """The ids among ``candidates`` that the manifest's erasure log names."""
    key = manifest.get(KEY_FIELD)
    logged = {e["speaker_hash"] for e in manifest.get(ERASURES_FIELD, [])}
    if not key or not logged:
        return set()
    return {s for s in candidates if erasure_hash(key, s) in logged}


def request_erasure(store: Store, speaker_id: str) -> bool:
    """File an erasure request that a running ``extract`` obeys before each commit.

    Written without the write lock (the point is to reach a writer that holds it).
    Returns False when the store has no key yet (no extract ever committed to it:
    there is nothing to withhold).
    """
    key = store.read_manifest().get(KEY_FIELD)
    if not key:
        return False
    path = store.root / REQUESTS_DIR / f"{erasure_hash(key, speaker_id)}.json"
    if not path.is_file():
        text = json.dumps({"withheld_recordings": 0}) + "\n"
        _atomic_write_bytes(path, lambda tmp: Path(tmp).write_text(text), root=store.root)
    return True


def requested_erasures(store: Store) -> set[str]:
    """Keyed hashes of the speakers whose erasure was requested and not yet done."""
    directory = store.root / REQUESTS_DIR
    if not directory.is_dir():
        return set()
    return {p.stem for p in directory.glob("*.json") if not p.name.startswith(".")}


def note_withheld(store: Store, speaker_hash: str) -> None:
    """Count a recording that ``extract`` withheld for a pending erasure request (under
    the write lock), so that ``forget`` can report it."""
    path = store.root / REQUESTS_DIR / f"{speaker_hash}.json"
    try:
        count = json.loads(path.read_text())["withheld_recordings"] + 1
    except (OSError, ValueError, KeyError):
        count = 1
    text = json.dumps({"withheld_recordings": count}) + "\n"
    _atomic_write_bytes(path, lambda tmp: Path(tmp).write_text(text), root=store.root)


def _withheld(store: Store, speaker_hash: str) -> int:
    """Recordings a running ``extract`` withheld for this speaker's request."""
    try:
        path = store.root / REQUESTS_DIR / f"{speaker_hash}.json"
        return int(json.loads(path.read_text())["withheld_recordings"])
    except (OSError, ValueError, KeyError):
        return 0


def _drop_request(store: Store, speaker_hash: str) -> None:
    """Remove a request once its erasure is logged (or found to have no object)."""
    (store.root / REQUESTS_DIR / f"{speaker_hash}.json").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        (store.root / REQUESTS_DIR).rmdir()  # only when empty


def erased_ids(manifest: dict, store: Store, candidates: Iterable[str]) -> set[str]:
    """The ids among ``candidates`` that are erased or whose erasure is requested now."""
    key = manifest.get(KEY_FIELD)
    if not key:
        return set()
    hashes = {e["speaker_hash"] for e in manifest.get(ERASURES_FIELD, [])}
    hashes |= requested_erasures(store)
    return {s for s in candidates if erasure_hash(key, s) in hashes}


def mentions(frame: pd.DataFrame, speaker_ids: Iterable[str]) -> pd.Series:
    """Rows naming any of ``speaker_ids`` (see :func:`_mentions`)."""
    hit = pd.Series(False, index=frame.index)
    for speaker_id in speaker_ids:
        hit |= _mentions(frame, speaker_id)
    return hit


@dataclass
class ForgetSummary:
    """What :func:`forget_speaker` removed and recomputed."""

    recordings_removed: int = 0
    rows_removed: dict[str, int] = field(default_factory=dict)
    models: str = "none"  # "refitted", "removed" (too few speakers left) or "none"
    reports: list[str] = field(default_factory=list)


def _mentions(frame: pd.DataFrame, speaker_id: str) -> pd.Series:
    """Rows with the id in ``speaker_id`` or anywhere inside a text cell, in any case
    (the vowels table keeps words lower-cased: "S001" is stored as "s001")."""
    hit = pd.Series(False, index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if column == "speaker_id":
            hit |= values.astype("string").eq(speaker_id).fillna(False)
        elif values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            hit |= values.astype("string").str.contains(speaker_id, case=False,
                                                      regex=False).fillna(False)
    return hit


def forget_speaker(
    store: Store,
    speaker_id: str,
    *,
    refit: Callable[[Path], object] | None = None,
    rebuild: Callable[[Path, Path], object] | None = None,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> ForgetSummary:
    """Erase ``speaker_id`` from every table of ``store`` and what was computed from it.

    Holds the store's write lock. When another writer holds it (an ``extract`` in
    progress), an erasure request is filed first, which that writer obeys before each
    commit, and the erasure proper waits for the lock.

    Parameters
    ----------
    store : Store
    speaker_id : str
        The pseudonymous id as in ``speakers.csv``.
    refit : callable, optional
        ``refit(store_root)`` recomputes ``STORE/models`` (``speech.fit.fit_store``
        with the settings saved in ``fit.json``); called when model outputs exist.
        When it raises (e.g. too few speakers left) the model outputs are removed.
    rebuild : callable, optional
        ``rebuild(store_root, report_dir)`` rewrites a report; called for every
        report directory the manifest lists. Without model outputs the report's
        files are removed instead.
    wait : bool
        Wait for another writer (default); else raise at once, having done nothing.
    on_wait : callable, optional
        Called with the other writer's description before waiting for it.

    Returns
    -------
    ForgetSummary

    Raises
    ------
    KeyError
        The store holds nothing of ``speaker_id`` and never erased it.
    speech.lock.StoreBusy
        ``wait=False`` and another process writes the store.
    """
    from speech.lock import StoreBusy

    speaker_id = str(speaker_id)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(store.writing("forget", wait=False))
        except StoreBusy as busy:
            if not wait:
                raise
            request_erasure(store, speaker_id)
            if on_wait is not None:
                on_wait(busy.holder)
            stack.enter_context(store.writing("forget"))
        return _forget_locked(store, speaker_id, refit, rebuild)


def _forget_locked(store: Store, speaker_id: str, refit, rebuild) -> ForgetSummary:
    key = store_key(store)
    manifest = store.read_manifest()
    summary = ForgetSummary()
    already = erased_speakers(manifest, [speaker_id])
    speaker_hash = erasure_hash(key, speaker_id)
    withheld = _withheld(store, speaker_hash)

    # Their recordings go whole: an interview is the worker's, interviewers included.
    recordings = store.read_table("recordings")
    theirs = set()
    if len(recordings):
        theirs = set(recordings.loc[recordings["speaker_id"].astype("string") == speaker_id,
                                    "recording_id"])
    for rid in sorted(theirs):
        for table in PARTITIONED_TABLES:
            store.delete_partition(table, rid)
        manifest.get("recordings", {}).pop(rid, None)
    summary.recordings_removed = len(theirs) + withheld
    # Elsewhere (a voice in someone else's recording, an error message): the rows only.
    for table in PARTITIONED_TABLES:
        for rid in store.recording_ids(table):
            rows = store.read_table(table, recording_ids=[rid])
            hit = _mentions(rows, speaker_id)
            if hit.any():
                record = store.write_partition(table, rid, rows[~hit],
                                               metadata=manifest["recordings"].get(rid))
                _note_file(manifest, table, rid, record)
                summary.rows_removed[table] = summary.rows_removed.get(table, 0) + int(hit.sum())
    speakers = store.read_table("speakers")
    if len(speakers):
        hit = speakers["speaker_id"].astype("string").eq(speaker_id).fillna(False)
        if hit.any():
            manifest.setdefault("files", {})["speakers"] = store.write_table(
                "speakers", speakers[~hit])
            summary.rows_removed["speakers"] = int(hit.sum())
    if not (theirs or summary.rows_removed or already or withheld):
        _drop_request(store, speaker_hash)
        raise KeyError(f"speaker {speaker_id!r} is not in the store {store.root}")

    if not already:
        manifest.setdefault(ERASURES_FIELD, []).append({
            "speaker_hash": speaker_hash,
            "erased_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "recordings_removed": summary.recordings_removed,
        })  # fmt: skip
    store.write_manifest(manifest)
    _drop_request(store, speaker_hash)
    summary.models, summary.reports = _recompute_outputs(store, manifest, refit, rebuild)
    return summary


def _note_file(manifest: dict, table: str, rid: str, record: dict | None) -> None:
    """Keep the manifest's checksum of a partition rewritten outside ``extract``."""
    entry = manifest.get("recordings", {}).get(rid)
    if entry is None or "files" not in entry:
        return
    if record is None:
        entry["files"].pop(table, None)
    else:
        entry["files"][table] = record


def _recompute_outputs(store: Store, manifest: dict, refit, rebuild) -> tuple[str, list[str]]:
    """Refit the models and rebuild the reports without the erased speaker."""
    models, state, reports = store.root / "models", "none", []
    if models.is_dir():
        try:
            if refit is None:
                raise RuntimeError("no refit given")
            refit(store.root)
            state = "refitted"
        except Exception:
            # Results that still carry the speaker must not survive the erasure.
            shutil.rmtree(models, ignore_errors=True)
            state = "removed"
    for directory in manifest.get(REPORTS_FIELD, []):
        out = Path(directory)
        if not out.is_dir():
            continue
        if models.is_dir() and rebuild is not None:
            rebuild(store.root, out)
        else:
            for name in ("report.html", "findings.json"):
                (out / name).unlink(missing_ok=True)
        reports.append(str(out))
    return state, reports
