"""``speech-profile check STORE``: every damaged or orphaned file of a store, one line each.

A reader: it takes no lock and writes nothing. It checks, against the manifest:

- ``manifest.json`` and its backup parse (a torn one is reported, and which copy
  ``extract`` would recover from);
- every partition file the manifest records exists with the recorded size and
  SHA-256 (see :func:`speech.store.file_record`), and the speakers table too;
  files of a store written before checksums were kept must at least open as Parquet;
- no partition lies outside the manifest (orphaned: a stray copy, or a run killed
  before it saved its manifest), no temporary file is left, and every Parquet file
  under ``models/`` opens.

Each problem is one line starting with the file's path relative to the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from speech.lock import holder_of, is_locked
from speech.store import (
    MANIFEST,
    MANIFEST_BACKUP,
    PART,
    PARTITIONED_TABLES,
    Store,
    file_problem,
)


@dataclass
class StoreCheck:
    """What :func:`check_store` found."""

    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    bytes_checked: int = 0
    writer: str | None = None  # who was writing the store during the check

    @property
    def ok(self) -> bool:
        return not self.problems


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a store rather than a corpus (a manifest, or a store's tables,
    and no speakers.csv)."""
    root = Path(path)
    if (root / "speakers.csv").exists():
        return False
    return any((root / name).exists() for name in (MANIFEST, MANIFEST_BACKUP, "recordings"))


def _manifest(root: Path, check: StoreCheck) -> dict:
    found: dict | None = None
    for name in (MANIFEST, MANIFEST_BACKUP):
        path = root / name
        if not path.is_file():
            if name == MANIFEST:
                check.problems.append(f"{name}: missing")
            continue
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            check.problems.append(f"{name}: damaged (not valid JSON: {e}); the next `extract` "
                                  "recovers it from the other copy or from the partitions")
            continue
        found = manifest if found is None else found
    if found is None:
        return Store(root).read_manifest()  # rebuilt from the partitions, in memory
    return found


def _add(check: StoreCheck, root: Path, path: Path, record) -> None:
    where = path.relative_to(root).as_posix()
    problem = file_problem(path, record)
    if problem is not None:
        check.problems.append(f"{where}: {problem}")
    elif path.is_file():
        check.files_checked += 1
        check.bytes_checked += path.stat().st_size


def check_store(root: str | Path) -> StoreCheck:
    """Verify every file of the store ``root`` against its manifest.

    Returns
    -------
    StoreCheck
        ``problems``: one line per damaged, missing or orphaned file, path first.
    """
    root = Path(root)
    check = StoreCheck(writer=holder_of(root) if is_locked(root) else None)
    store = Store(root)
    manifest = _manifest(root, check)
    recordings = manifest.get("recordings", {})
    expected: set[Path] = set()
    for rid, entry in sorted(recordings.items()):
        files = entry.get("files")
        for table in PARTITIONED_TABLES:
            path = store.partition_dir(table, rid) / PART
            if files is None:  # written before checksums: readable is all we can ask
                if path.exists():
                    expected.add(path)
                    _add(check, root, path, None)
            elif table in files:
                expected.add(path)
                _add(check, root, path, files[table])
    speakers = root / "speakers" / PART
    if speakers.exists():
        expected.add(speakers)
        _add(check, root, speakers, manifest.get("files", {}).get("speakers"))
    for table in (*PARTITIONED_TABLES, "speakers"):
        for path in sorted((root / table).rglob("*")) if (root / table).is_dir() else []:
            if path.is_file() and path not in expected:
                kind = ("temporary file left by an interrupted write"
                        if path.name.startswith(".") else "orphaned: not in the manifest")
                check.problems.append(f"{path.relative_to(root).as_posix()}: {kind}; the next "
                                      "`extract` replaces or removes it")
    for path in sorted(root.glob(".*.tmp")):
        check.problems.append(f"{path.name}: temporary file left by an interrupted write")
    models = root / "models"
    for path in sorted(models.glob("*.parquet")) if models.is_dir() else []:
        _add(check, root, path, None)
    return check
