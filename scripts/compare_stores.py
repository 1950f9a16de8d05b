"""Compare two stores table by table: the check that a refactor left results unchanged.

Usage::

    python scripts/compare_stores.py STORE_A STORE_B [--rtol 0]

Every Parquet table under each store (the partitioned tables and the files under
``models/``) is read, sorted by its key columns, and compared value by value
(``pandas.testing.assert_frame_equal``; exact unless ``--rtol`` is given). Prints one
line per table and exits 1 when any differs, naming the table and the first
difference. The manifests are compared on their configuration only (times and
tool versions differ between runs by design). Values keyed with the store's own
random key (``word_id``, the configuration's ``text_key``) differ between any two
stores by design and are left out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

#: Keyed with each store's own random key: equal inputs give different values.
KEYED = ("word_id", "text_key")
#: Columns that order rows in each table (whichever of them the table has).
SORT_KEYS = ("recording_id", "segment_id", "speaker_id", "start_s", "token_id", "feature",
             "variable", "level", "term", "contrast", "model", "target", "fold", "vowel")


def tables(root: Path) -> dict[str, pd.DataFrame]:
    """Every table of a store by its relative name, read whole."""
    found: dict[str, pd.DataFrame] = {}
    for path in sorted(root.iterdir()):
        if path.is_dir() and any(path.rglob("*.parquet")) and path.name != "models":
            found[path.name] = ds.dataset(path, format="parquet",
                                          partitioning="hive").to_table().to_pandas()
    for path in sorted((root / "models").rglob("*.parquet")) if (root / "models").is_dir() else []:
        found[str(path.relative_to(root))] = pd.read_parquet(path)
    return found


def normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a canonical order, columns sorted, categoricals as plain values."""
    frame = frame.drop(columns=[c for c in KEYED if c in frame.columns])
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(object)
    keys = [k for k in SORT_KEYS if k in frame.columns]
    if keys:
        frame = frame.sort_values(keys, kind="stable")
    return frame.reset_index(drop=True)[sorted(frame.columns)]


def _unkeyed(value):
    """A configuration without its keyed entries, at any depth."""
    if isinstance(value, dict):
        return {k: _unkeyed(v) for k, v in value.items() if k not in KEYED}
    return value


def compare(a: Path, b: Path, *, rtol: float = 0.0) -> list[str]:
    """One line per table; lines starting with 'DIFF' or 'MISSING' are failures."""
    left, right = tables(a), tables(b)
    lines = []
    for name in sorted(set(left) | set(right)):
        if name not in left or name not in right:
            lines.append(f"MISSING {name}: only in {'A' if name in left else 'B'}")
            continue
        try:
            pd.testing.assert_frame_equal(normalised(left[name]), normalised(right[name]),
                                          check_dtype=False, check_exact=rtol == 0,
                                          rtol=rtol or 1e-5)
        except AssertionError as e:
            first = " ".join(str(e).split())[:300]
            lines.append(f"DIFF {name}: {first}")
        else:
            lines.append(f"same {name}: {len(left[name])} rows x {left[name].shape[1]} columns")
    config = [_unkeyed(json.loads((s / "manifest.json").read_text())["config"]) for s in (a, b)]
    lines.append("same configuration" if config[0] == config[1] else
                 f"DIFF configuration: {sorted(set(config[0]) ^ set(config[1]))} or values differ")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store_a", type=Path)
    parser.add_argument("store_b", type=Path)
    parser.add_argument("--rtol", type=float, default=0.0,
                        help="relative tolerance for floats (default: exact)")
    args = parser.parse_args(argv)
    lines = compare(args.store_a, args.store_b, rtol=args.rtol)
    print("\n".join(lines))
    return 1 if any(line.startswith(("DIFF", "MISSING")) for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
