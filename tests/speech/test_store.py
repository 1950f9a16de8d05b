"""The store: hive-partitioned Parquet per table, atomic writes, manifest."""

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from speech.store import Store, config_hash, file_record, fingerprint


def segments(n: int, rid: str) -> pd.DataFrame:
    return pd.DataFrame({
        "recording_id": rid, "segment_id": [f"{rid}-{i}" for i in range(n)],
        "start_s": [float(i) for i in range(n)], "end_s": [i + 0.5 for i in range(n)],
    })  # fmt: skip


def test_partitions_round_trip_and_are_readable_by_pandas(tmp_path):
    store = Store(tmp_path / "store")
    store.write_partition("segments", "S01_interview", segments(3, "S01_interview"))
    store.write_partition("segments", "S02 u01", segments(2, "S02 u01"))
    table = store.read_table("segments").sort_values("segment_id")
    assert table["recording_id"].tolist() == ["S01_interview"] * 3 + ["S02 u01"] * 2
    assert table.columns[0] == "recording_id"
    assert store.recording_ids("segments") == ["S01_interview", "S02 u01"]
    only = store.read_table("segments", recording_ids=["S02 u01"])
    assert len(only) == 2
    # plain pandas reads the dataset too, partition column included
    direct = pd.read_parquet(tmp_path / "store" / "segments")
    assert len(direct) == 5 and "recording_id" in direct


def test_rewriting_a_partition_replaces_it_and_empty_removes_it(tmp_path):
    store = Store(tmp_path)
    store.write_partition("segments", "r1", segments(3, "r1"))
    store.write_partition("segments", "r1", segments(1, "r1"))
    assert len(store.read_table("segments")) == 1
    store.write_partition("segments", "r1", segments(0, "r1"))
    assert store.read_table("segments").empty
    assert store.recording_ids("segments") == []


def test_no_temporary_files_are_left_and_failed_writes_leave_the_old_table(tmp_path):
    store = Store(tmp_path)
    store.write_partition("segments", "r1", segments(2, "r1"))
    bad = pd.DataFrame({"x": [object()]})  # not convertible to Arrow
    with pytest.raises(Exception):  # noqa: B017 - whatever pyarrow raises, nothing is lost
        store.write_partition("segments", "r1", bad)
    assert len(store.read_table("segments")) == 2
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_manifest_round_trip(tmp_path):
    store = Store(tmp_path)
    assert store.read_manifest() == {"recordings": {}}
    store.write_manifest({"recordings": {"r1": {"status": "ok"}}, "config": {"a": 1}})
    assert store.read_manifest()["recordings"]["r1"]["status"] == "ok"
    assert store.recovery is None
    # torn: recovered from the backup that every write keeps
    (tmp_path / "manifest.json").write_text("{broken")
    assert store.read_manifest()["recordings"]["r1"]["status"] == "ok"
    assert store.recovery.startswith("manifest.json: not valid JSON")
    assert "recovered from manifest.backup.json" in store.recovery
    # both copies torn: rebuilt from the partitions (none here), never a traceback
    (tmp_path / "manifest.backup.json").write_text("{broken")
    assert store.read_manifest()["recordings"] == {}
    assert "rebuilt from the metadata of 0 recordings" in store.recovery


def test_partitions_carry_what_produced_them_and_their_checksum(tmp_path):
    store = Store(tmp_path)
    entry = {"inputs": {"audio": "sha256:ab"}, "config_hash": "c0ffee", "status": "ok"}
    record = store.write_partition("segments", "r1", segments(2, "r1"), metadata=entry)
    path = store.partition_dir("segments", "r1") / "part-0.parquet"
    assert record == file_record(path) and record["size"] == path.stat().st_size
    assert json.loads(pq.read_schema(path).metadata[b"speech_profile"]) == entry
    assert store.write_partition("segments", "r1", segments(0, "r1")) is None


def test_fingerprints_follow_content_and_config_hash_ignores_key_order(tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    a.write_bytes(b"RIFF1234")
    b.write_bytes(b"RIFF1234")
    assert fingerprint(a) == fingerprint(b)
    b.write_bytes(b"RIFF1235")
    assert fingerprint(a) != fingerprint(b)
    assert config_hash({"x": 1, "y": [1, 2]}) == config_hash({"y": [1, 2], "x": 1})
    assert config_hash({"x": 1}) != config_hash({"x": 2})


def test_unknown_tables_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown"):
        Store(tmp_path).write_partition("segmnts", "r1", segments(1, "r1"))
    with pytest.raises(ValueError, match="unknown table"):
        Store(tmp_path).read_table("nope")


def test_a_column_null_in_the_first_recording_takes_the_type_of_the_others(tmp_path):
    # A failed recording writes its unknown values as nulls (Arrow's null type); the
    # table must still read, with the type the other recordings give the column.
    store = Store(tmp_path / "store")
    store.write_partition("recordings", "A_failed", pd.DataFrame(
        {"status": ["error"], "num_channels": [None], "method": [None]}))
    store.write_partition("recordings", "B_ok", pd.DataFrame(
        {"status": ["ok"], "num_channels": [2], "method": ["transcript"]}))
    table = store.read_table("recordings").set_index("recording_id")
    assert table.loc["B_ok", "num_channels"] == 2
    assert pd.isna(table.loc["A_failed", "num_channels"])
    assert table.loc["B_ok", "method"] == "transcript"
