"""SQL over the store with DuckDB: each table is a view of the same name.

DuckDB reads the hive-partitioned Parquet directly (the partition directories
give ``recording_id``), so nothing is loaded into memory that the query does
not need.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from speech.schema import ERROR_COLUMNS
from speech.store import PARTITIONED_TABLES, TABLES, Store, StoreDamaged


def connect(store: Store) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per table present in the store."""
    if not (store.root / "manifest.json").is_file():
        raise FileNotFoundError(f"{store.root}: not a store (no manifest.json); run extract")
    con = duckdb.connect()
    for table in TABLES:
        directory = store.root / table
        if not any(directory.rglob("*.parquet")) if directory.is_dir() else True:
            if table == "errors":  # no failures: an empty table, not a missing one
                columns = ", ".join(f"NULL::VARCHAR AS {c}" for c in ERROR_COLUMNS)
                con.execute(f"create view errors as select {columns} where false")
            continue
        pattern = "*/*.parquet" if table in PARTITIONED_TABLES else "*.parquet"
        glob = (directory / pattern).as_posix().replace("'", "''")
        hive = "true" if table in PARTITIONED_TABLES else "false"
        try:
            con.execute(f"create view {table} as select * from "
                        f"read_parquet('{glob}', hive_partitioning={hive}, union_by_name=true)")
        except duckdb.Error as e:
            con.close()
            raise _damaged(store, e) from e
    return con


def _damaged(store: Store, error: Exception) -> StoreDamaged:
    """DuckDB's error on an unreadable file, as one line that names the file first."""
    reason = str(error).strip().splitlines()[0]
    named = re.search(r"file '([^']+)'", reason)
    where = named.group(1) if named else str(store.root)
    return StoreDamaged(f"{where}: damaged ({reason}); `speech-profile check {store.root}` "
                        "lists every damaged file and `extract` recomputes them")


def query(store: Store | str | Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` against the store's tables (``recordings``, ``segments``,
    ``errors``, ``speakers``...) and return the result as a DataFrame.

    Raises
    ------
    ValueError
        The SQL is invalid or names a table the store does not have (DuckDB's
        message, which names the problem).
    """
    store = store if isinstance(store, Store) else Store(store)
    con = connect(store)
    try:
        return con.execute(sql).df()
    except duckdb.Error as e:
        raise ValueError(str(e).strip()) from e
    finally:
        con.close()
