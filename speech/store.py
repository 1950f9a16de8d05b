"""The store: Parquet datasets plus ``manifest.json`` (docs/architecture.md).

::

    STORE/
      manifest.json                       tool + feature-set version, configuration,
                                          and per recording: input fingerprints, status
      recordings/recording_id=<id>/part-0.parquet
      segments/recording_id=<id>/part-0.parquet
      vowels/recording_id=<id>/part-0.parquet       (one row per vowel token)
      sibilants/recording_id=<id>/part-0.parquet    (one row per /s/ token)
      errors/recording_id=<id>/part-0.parquet
      speakers/part-0.parquet             (not partitioned: one row per speaker)

Hive-style partition directories, so pandas (``pd.read_parquet(STORE/"segments")``),
pyarrow datasets, DuckDB (``read_parquet('STORE/segments/*/*.parquet',
hive_partitioning=true)``) and R's arrow read the tables directly. The partition
column lives in the directory name, not in the files.

Every write is atomic: a file is written under a temporary name in its final
directory and renamed into place, and the manifest is rewritten the same way
after each recording, so a killed run leaves no partial table and the next run
redoes exactly the recordings that were not finished.

Damage done from outside (a failed copy, a sync tool, a full disk) is caught:

- every partition file carries, in its Parquet key-value metadata
  (``speech_profile``), the manifest entry that produced it (input fingerprints,
  recording description, settings hash, status), and :meth:`Store.write_partition`
  returns the file's size and SHA-256, which ``extract`` records in the manifest
  and checks before it calls a recording unchanged;
- the manifest is written twice, ``manifest.json`` then ``manifest.backup.json``
  (each atomically), and the store's key and erasure log once more in
  ``privacy.json``; :meth:`Store.read_manifest` recovers a torn manifest from the
  backup and, failing that, rebuilds it from the partitions' metadata;
- a table that cannot be read raises :class:`StoreDamaged`, one line naming the file.

One writer at a time: :meth:`Store.writing` (see :mod:`speech.lock`).

A store that refuses writes (read-only directory or file system, disk full)
raises :class:`StoreError` naming the store and the file, after removing the
temporary file; the manifest on disk stays the last complete one. Reading
never writes, so a read-only store can be queried.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from speech.lock import store_lock

PARTITIONED_TABLES: tuple[str, ...] = ("recordings", "segments", "vowels", "sibilants", "errors")
TABLES: tuple[str, ...] = (*PARTITIONED_TABLES, "speakers")
MANIFEST = "manifest.json"
MANIFEST_BACKUP = "manifest.backup.json"
#: The manifest fields a rebuild from the partitions could not recover (the store's
#: key and erasure log, see speech.privacy), kept once more in their own file.
PRIVACY = "privacy.json"
PRIVACY_FIELDS = ("key", "erasures")
PART = "part-0.parquet"
#: Key of the Parquet key-value metadata entry that says what produced a partition.
METADATA_KEY = b"speech_profile"


def fingerprint(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Content fingerprint of an input file: ``"sha256:<hex>"`` over its bytes.

    Content, not modification time: copying a corpus elsewhere must not force a
    recomputation, and touching a file without changing it must not either.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def config_hash(config: Mapping[str, Any]) -> str:
    """Stable hash of a JSON-serialisable configuration (key order does not matter)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_record(path: str | Path) -> dict[str, Any]:
    """What the manifest records of a file it commits: ``{"size": bytes, "sha256": hex}``.

    The whole file is hashed, not only the Parquet footer: on the 30-speaker demo store
    (601 files, 24 MiB) that costs 0.15 s against 0.09 s for the footers, and it
    catches damage inside a data page that a footer hash would miss.
    """
    with Path(path).open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return {"size": Path(path).stat().st_size, "sha256": digest}


def file_problem(path: Path, record: Mapping[str, Any] | None) -> str | None:
    """Why ``path`` does not match its manifest ``record`` (None when it does).

    Without a record (a store written before checksums were kept) the file must at
    least open as Parquet.
    """
    if not path.is_file():
        return "missing (the manifest lists it)"
    if record is None:
        try:
            pq.read_metadata(path)
        except (pa.ArrowException, OSError) as e:
            return f"not readable as Parquet ({str(e).strip()})"
        return None
    size = path.stat().st_size
    if size != record.get("size"):
        return f"size {size} bytes, the manifest says {record.get('size')} (truncated or replaced)"
    if file_record(path)["sha256"] != record.get("sha256"):
        return "checksum differs from the manifest's (the content changed on disk)"
    return None


class StoreError(OSError):
    """A store that cannot be written: read-only, full, or otherwise refusing writes.

    Carries the ``errno`` of the operating-system error (``EACCES``, ``EROFS``,
    ``ENOSPC``...) and a message that names the store and the file, says what to do,
    and that nothing partial was left behind.
    """


_ADVICE = {
    errno.ENOSPC: "no space left on the device; free some space and run again",
    errno.EDQUOT: "disk quota exceeded; free some space and run again",
    errno.EROFS: "the store lies on a read-only file system; choose another --store",
    errno.EACCES: "permission denied (the store directory is read-only for this user); "
                  "make it writable or choose another --store",
    errno.EPERM: "operation not permitted; make the store writable or choose another --store",
}


def _store_error(root: Path, path: Path, e: OSError) -> StoreError:
    advice = _ADVICE.get(e.errno or 0, e.strerror or str(e))
    try:
        where = path.relative_to(root).as_posix()
    except ValueError:
        where = str(path)
    return StoreError(
        e.errno or 0,
        f"cannot write the store {root} ({where}): {advice}. Nothing partial was left: "
        "recordings finished before this one are kept, and a rerun does only what is missing",
    )


def _atomic_write_bytes(path: Path, write, *, root: Path | None = None) -> None:
    """Write ``path`` through a temporary file in its directory, then rename.

    On failure the temporary file, and a directory created for it, are removed; an
    operating-system error becomes a :class:`StoreError` naming ``path``.
    """
    created = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        write(tmp)
        Path(tmp).replace(path)
    except BaseException as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        for directory in created:  # innermost first; only if still empty
            with contextlib.suppress(OSError):
                directory.rmdir()
        if isinstance(e, OSError) and not isinstance(e, StoreError):
            raise _store_error(root or path.parent, path, e) from e
        raise


class StoreDamaged(ValueError):
    """A file of the store is damaged: the message names it and says what to do."""


def _damaged(root: Path, path: Path, reason: str) -> StoreDamaged:
    return StoreDamaged(f"{path}: damaged ({reason}); `speech-profile check {root}` lists "
                        "every damaged file and `extract` recomputes them")


def _partition_metadata(path: Path) -> dict[str, Any] | None:
    """The ``speech_profile`` entry of a partition's Parquet metadata (None if absent)."""
    try:
        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta[METADATA_KEY]) if METADATA_KEY in meta else None
    except (pa.ArrowException, OSError, ValueError):
        return None


class Store:
    """A store directory (created on first write).

    Parameters
    ----------
    root : str or Path
        The store directory.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        #: How the last :meth:`read_manifest` recovered a damaged manifest (None: intact).
        self.recovery: str | None = None
        self._privacy_written: str | None = None

    @contextlib.contextmanager
    def writing(self, command: str, *, wait: bool = True, on_wait=None):
        """Context manager: hold the store's exclusive write lock (see :mod:`speech.lock`).

        Raises
        ------
        speech.lock.StoreBusy
            ``wait=False`` and another process writes the store.
        StoreError
            The lock file cannot be created (read-only store...).
        """
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(store_lock(self.root, command, wait=wait, on_wait=on_wait))
            except OSError as e:
                raise _store_error(self.root, self.root / ".lock", e) from e
            yield

    def check_writable(self) -> None:
        """Fail fast, before any work, when the store cannot be written.

        Creates the directory if needed and writes and removes a probe file.

        Raises
        ------
        StoreError
            Read-only directory or file system, no space, no permission.
        """
        _atomic_write_bytes(self.root / ".write-probe", lambda tmp: None, root=self.root)
        (self.root / ".write-probe").unlink(missing_ok=True)

    # ------------------------------------------------------------------ manifest
    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def read_manifest(self) -> dict[str, Any]:
        """The manifest, or an empty one for a new store.

        A torn ``manifest.json`` is recovered from ``manifest.backup.json``, or failing
        that rebuilt from the partitions' metadata; :attr:`recovery` then says which.
        Nothing is written here: the next writer saves the recovered manifest.
        """
        self.recovery = None
        problems = []
        for name in (MANIFEST, MANIFEST_BACKUP):
            path = self.root / name
            if not path.is_file():
                continue
            try:
                manifest = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                problems.append(f"{name}: not valid JSON ({e})")
                continue
            if problems:
                self.recovery = f"{problems[0]}; recovered from {name}"
            return manifest
        if not problems and not self.recording_ids():
            return {"recordings": {}}
        manifest = self._rebuild_manifest()
        self.recovery = ("; ".join(problems) or f"no {MANIFEST}") + (
            f"; rebuilt from the metadata of {len(manifest['recordings'])} recordings' "
            "partitions")
        return manifest

    def _rebuild_manifest(self) -> dict[str, Any]:
        """A manifest from what the partitions say produced them, plus ``privacy.json``.

        A recording keeps its entry only when every partition of it carries the same
        entry (a killed run may have replaced some of them only): the others are
        recomputed by the next ``extract``.
        """
        manifest: dict[str, Any] = {"recordings": {}}
        # Without privacy.json the key and erasure log are lost too (speech.privacy says so).
        with contextlib.suppress(OSError, ValueError):
            manifest.update(json.loads((self.root / PRIVACY).read_text(encoding="utf-8")))
        for rid in self.recording_ids():
            entry = _partition_metadata(self.partition_dir("recordings", rid) / PART)
            if entry is None:
                continue
            files = {}
            for table in PARTITIONED_TABLES:
                path = self.partition_dir(table, rid) / PART
                if path.is_file():
                    if _partition_metadata(path) != entry:
                        break
                    files[table] = file_record(path)
            else:
                manifest["recordings"][rid] = {**entry, "files": files}
        return manifest

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Write ``manifest.json``, then its backup (each atomically), and ``privacy.json``
        when the key or the erasure log changed."""
        text = json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
        privacy = {k: manifest[k] for k in PRIVACY_FIELDS if k in manifest}
        privacy_text = json.dumps(privacy, indent=2, sort_keys=True) + "\n"
        if privacy and privacy_text != self._privacy_written:
            self._write_text(PRIVACY, privacy_text)
            self._privacy_written = privacy_text
        for name in (MANIFEST, MANIFEST_BACKUP):
            self._write_text(name, text)

    def _write_text(self, name: str, text: str) -> None:
        _atomic_write_bytes(self.root / name,
                            lambda tmp: Path(tmp).write_text(text, encoding="utf-8"),
                            root=self.root)

    # ------------------------------------------------------------------ tables
    def partition_dir(self, table: str, recording_id: str) -> Path:
        if table not in PARTITIONED_TABLES:
            raise ValueError(f"unknown partitioned table {table!r}; known: {PARTITIONED_TABLES}")
        return self.root / table / f"recording_id={quote(recording_id, safe='')}"

    def write_partition(self, table: str, recording_id: str, frame: pd.DataFrame, *,
                        metadata: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """Replace one recording's rows of a table (atomically). An empty frame
        removes the partition (a dataset has no use for empty files).

        ``metadata`` (JSON-serialisable: what produced these rows) is kept in the
        file's Parquet key-value metadata. Returns the file's :func:`file_record`,
        or None when the partition was removed.
        """
        directory = self.partition_dir(table, recording_id)
        if frame.empty:
            self.delete_partition(table, recording_id)
            return None
        arrow = pa.Table.from_pandas(frame.drop(columns="recording_id", errors="ignore"),
                                     preserve_index=False)
        return self._write_parquet(directory / PART, arrow, metadata)

    def _write_parquet(self, path: Path, arrow: pa.Table,
                       metadata: Mapping[str, Any] | None) -> dict[str, Any]:
        if metadata is not None:
            extra = json.dumps(metadata, sort_keys=True, default=str).encode()
            arrow = arrow.replace_schema_metadata(
                {**(arrow.schema.metadata or {}), METADATA_KEY: extra})
        record: dict[str, Any] = {}

        def write(tmp: str) -> None:
            pq.write_table(arrow, tmp)
            record.update(file_record(tmp))  # the bytes about to be renamed into place

        _atomic_write_bytes(path, write, root=self.root)
        return record

    def delete_partition(self, table: str, recording_id: str) -> None:
        shutil.rmtree(self.partition_dir(table, recording_id), ignore_errors=True)

    def write_table(self, table: str, frame: pd.DataFrame) -> dict[str, Any]:
        """Replace an unpartitioned table (e.g. ``speakers``) atomically; returns its
        :func:`file_record`."""
        if table in PARTITIONED_TABLES:
            raise ValueError(f"{table!r} is partitioned by recording: use write_partition")
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        return self._write_parquet(self.root / table / PART, arrow, None)

    def read_table(self, table: str, *, recording_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Read a whole table (or the given recordings' rows) into pandas.

        ``recording_id`` comes back as a plain string column.

        Raises
        ------
        StoreDamaged
            A file of the table is not readable Parquet (the message names it).
        """
        directory = self.root / table
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        for attempt in range(3):
            if not directory.is_dir() or not any(directory.rglob("*.parquet")):
                return pd.DataFrame()
            try:
                return self._read(table, recording_ids)
            except FileNotFoundError:
                # A writer removed a partition between listing and reading (readers
                # take no lock): list again.
                if attempt == 2:
                    raise
            except (pa.ArrowException, OSError) as e:
                raise self._find_damage(directory, e) from e
        raise AssertionError("unreachable")

    def _find_damage(self, directory: Path, error: Exception) -> Exception:
        """The first unreadable file under ``directory`` as a StoreDamaged (or ``error``)."""
        for path in sorted(directory.rglob("*.parquet")):
            if path.name.startswith("."):
                continue
            try:
                pq.read_metadata(path)
            except (pa.ArrowException, OSError) as e:
                return _damaged(self.root, path, str(e).strip())
        return _damaged(self.root, directory, str(error).strip())

    def _read(self, table: str, recording_ids: Iterable[str] | None) -> pd.DataFrame:
        directory = self.root / table
        if table not in PARTITIONED_TABLES:
            return pq.read_table(directory / PART).to_pandas()
        dataset = ds.dataset(
            directory, format="parquet", partitioning="hive",
            exclude_invalid_files=False, ignore_prefixes=[".", "_"],
        )  # fmt: skip
        # A column that is all-null in one recording (e.g. a failed one) is stored with
        # Arrow's null type; unify over every file so the dataset takes the real type.
        schema = pa.unify_schemas(
            [f.physical_schema for f in dataset.get_fragments()] + [dataset.schema],
            promote_options="permissive")
        dataset = ds.dataset(
            directory, format="parquet", partitioning="hive", schema=schema,
            exclude_invalid_files=False, ignore_prefixes=[".", "_"],
        )  # fmt: skip
        wanted = None
        if recording_ids is not None:
            wanted = ds.field("recording_id").isin(list(recording_ids))
        # pyarrow decodes the URI-quoted directory names itself (segment_encoding="uri").
        frame = dataset.to_table(filter=wanted).to_pandas()
        frame["recording_id"] = frame["recording_id"].astype(str)
        front = ["recording_id", *[c for c in frame.columns if c != "recording_id"]]
        return frame[front]

    def recording_ids(self, table: str = "recordings") -> list[str]:
        """Recordings that have a partition in ``table``."""
        directory = self.root / table
        if not directory.is_dir():
            return []
        return sorted(
            unquote(p.name.partition("=")[2])
            for p in directory.iterdir()
            if p.is_dir() and p.name.startswith("recording_id=")
        )
