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

PARTITIONED_TABLES: tuple[str, ...] = ("recordings", "segments", "vowels", "sibilants", "errors")
TABLES: tuple[str, ...] = (*PARTITIONED_TABLES, "speakers")
MANIFEST = "manifest.json"
PART = "part-0.parquet"


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


class Store:
    """A store directory (created on first write).

    Parameters
    ----------
    root : str or Path
        The store directory.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

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
        """The manifest, or an empty one for a new store."""
        if not self.manifest_path.is_file():
            return {"recordings": {}}
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{self.manifest_path}: not valid JSON ({e}); the store is "
                             "damaged: remove it and extract again") from e

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        text = json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
        _atomic_write_bytes(self.manifest_path,
                            lambda tmp: Path(tmp).write_text(text, encoding="utf-8"),
                            root=self.root)

    # ------------------------------------------------------------------ tables
    def partition_dir(self, table: str, recording_id: str) -> Path:
        if table not in PARTITIONED_TABLES:
            raise ValueError(f"unknown partitioned table {table!r}; known: {PARTITIONED_TABLES}")
        return self.root / table / f"recording_id={quote(recording_id, safe='')}"

    def write_partition(self, table: str, recording_id: str, frame: pd.DataFrame) -> None:
        """Replace one recording's rows of a table (atomically). An empty frame
        removes the partition (a dataset has no use for empty files)."""
        directory = self.partition_dir(table, recording_id)
        if frame.empty:
            self.delete_partition(table, recording_id)
            return
        arrow = pa.Table.from_pandas(frame.drop(columns="recording_id", errors="ignore"),
                                     preserve_index=False)
        _atomic_write_bytes(directory / PART, lambda tmp: pq.write_table(arrow, tmp),
                            root=self.root)

    def delete_partition(self, table: str, recording_id: str) -> None:
        shutil.rmtree(self.partition_dir(table, recording_id), ignore_errors=True)

    def write_table(self, table: str, frame: pd.DataFrame) -> None:
        """Replace an unpartitioned table (e.g. ``speakers``) atomically."""
        if table in PARTITIONED_TABLES:
            raise ValueError(f"{table!r} is partitioned by recording: use write_partition")
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        _atomic_write_bytes(self.root / table / PART, lambda tmp: pq.write_table(arrow, tmp),
                            root=self.root)

    def read_table(self, table: str, *, recording_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Read a whole table (or the given recordings' rows) into pandas.

        ``recording_id`` comes back as a plain string column.
        """
        directory = self.root / table
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        if not directory.is_dir() or not any(directory.rglob("*.parquet")):
            return pd.DataFrame()
        if table not in PARTITIONED_TABLES:
            return pq.read_table(directory / PART).to_pandas()
        dataset = ds.dataset(
            directory, format="parquet", partitioning="hive",
            exclude_invalid_files=True, ignore_prefixes=[".", "_"],
        )  # fmt: skip
        # A column that is all-null in one recording (e.g. a failed one) is stored with
        # Arrow's null type; unify over every file so the dataset takes the real type.
        schema = pa.unify_schemas(
            [f.physical_schema for f in dataset.get_fragments()] + [dataset.schema],
            promote_options="permissive")
        dataset = ds.dataset(
            directory, format="parquet", partitioning="hive", schema=schema,
            exclude_invalid_files=True, ignore_prefixes=[".", "_"],
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
