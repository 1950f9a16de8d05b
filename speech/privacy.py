"""Privacy of a store: its key, the erasure of a speaker, and the erasure log.

A worker who withdraws from the study is erased completely: every row that
names them leaves every table, the model outputs and reports that used them are
recomputed without them, and later ``extract`` runs refuse their recordings even
if the corpus still holds them. The manifest logs each erasure as a keyed hash
of the speaker id (HMAC-SHA256 with the store's key), never the id itself: the
log proves that an erasure happened and lets ``extract`` recognise the speaker,
without keeping who it was in readable form.

The store's key also keys the pseudonymous ``word_id`` of vowel and /s/ tokens
(see :class:`speech.segmentation.SegmentationConfig`). It lives in the manifest,
so it hides words and ids from a casual reader, not from whoever holds the store.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from speech.store import PARTITIONED_TABLES, Store

#: Manifest fields: the store's key and the erasure log.
KEY_FIELD = "key"
ERASURES_FIELD = "erasures"
#: Manifest field listing the directories reports of this store were written to.
REPORTS_FIELD = "reports"


def store_key(store: Store) -> str:
    """The store's secret key (hex), created and saved on first use."""
    manifest = store.read_manifest()
    key = manifest.get(KEY_FIELD)
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


@dataclass
class ForgetSummary:
    """What :func:`forget_speaker` removed and recomputed."""

    recordings_removed: int = 0
    rows_removed: dict[str, int] = field(default_factory=dict)
    models: str = "none"  # "refitted", "removed" (too few speakers left) or "none"
    reports: list[str] = field(default_factory=list)


def _mentions(frame: pd.DataFrame, speaker_id: str) -> pd.Series:
    """Rows with the id in ``speaker_id`` or anywhere inside a text cell."""
    hit = pd.Series(False, index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if column == "speaker_id":
            hit |= values.astype("string").eq(speaker_id).fillna(False)
        elif values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            hit |= values.astype("string").str.contains(speaker_id, regex=False).fillna(False)
    return hit


def forget_speaker(
    store: Store,
    speaker_id: str,
    *,
    refit: Callable[[Path], object] | None = None,
    rebuild: Callable[[Path, Path], object] | None = None,
) -> ForgetSummary:
    """Erase ``speaker_id`` from every table of ``store`` and what was computed from it.

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

    Returns
    -------
    ForgetSummary

    Raises
    ------
    KeyError
        The store holds nothing of ``speaker_id`` and never erased it.
    """
    speaker_id = str(speaker_id)
    key = store_key(store)
    manifest = store.read_manifest()
    summary = ForgetSummary()
    already = erased_speakers(manifest, [speaker_id])

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
    summary.recordings_removed = len(theirs)
    # Elsewhere (a voice in someone else's recording, an error message): the rows only.
    for table in PARTITIONED_TABLES:
        for rid in store.recording_ids(table):
            rows = store.read_table(table, recording_ids=[rid])
            hit = _mentions(rows, speaker_id)
            if hit.any():
                store.write_partition(table, rid, rows[~hit])
                summary.rows_removed[table] = summary.rows_removed.get(table, 0) + int(hit.sum())
    speakers = store.read_table("speakers")
    if len(speakers):
        hit = speakers["speaker_id"].astype("string").eq(speaker_id).fillna(False)
        if hit.any():
            store.write_table("speakers", speakers[~hit])
            summary.rows_removed["speakers"] = int(hit.sum())
    if not (theirs or summary.rows_removed or already):
        raise KeyError(f"speaker {speaker_id!r} is not in the store {store.root}")

    if not already:
        manifest.setdefault(ERASURES_FIELD, []).append({
            "speaker_hash": erasure_hash(key, speaker_id),
            "erased_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "recordings_removed": summary.recordings_removed,
        })  # fmt: skip
    store.write_manifest(manifest)

    models = store.root / "models"
    if models.is_dir():
        try:
            if refit is None:
                raise RuntimeError("no refit given")
            refit(store.root)
            summary.models = "refitted"
        except Exception:
            # Results that still carry the speaker must not survive the erasure.
            shutil.rmtree(models, ignore_errors=True)
            summary.models = "removed"
    for directory in manifest.get(REPORTS_FIELD, []):
        out = Path(directory)
        if not out.is_dir():
            continue
        if models.is_dir() and rebuild is not None:
            rebuild(store.root, out)
        else:
            for name in ("report.html", "findings.json"):
                (out / name).unlink(missing_ok=True)
        summary.reports.append(str(out))
    return summary
