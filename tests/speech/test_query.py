"""`query`: SQL over the store's tables by name."""

import pytest
from typer.testing import CliRunner

from corpora.corpus import read_corpus
from speech.cli import app
from speech.extract import extract
from speech.query import query
from speech.store import Store


@pytest.fixture(scope="module")
def store(synthetic_corpus, tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("q") / "store")
    extract(read_corpus(synthetic_corpus), store)
    return store


def test_tables_are_views_with_the_partition_column(store):
    direct = store.read_table("segments")
    counted = query(store, "select recording_id, count(*) n from segments group by 1")
    assert counted.set_index("recording_id")["n"].to_dict() == (
        direct.groupby("recording_id").size().to_dict()
    )
    joined = query(store, "select s.speaker_id, r.kind from segments s join recordings r "
                          "using (recording_id) limit 3")
    assert len(joined) == 3


def test_bad_sql_and_missing_store_are_clear_errors(store, tmp_path):
    with pytest.raises(ValueError, match="nope"):
        query(store, "select * from nope")
    with pytest.raises(FileNotFoundError, match="not a store"):
        query(tmp_path, "select 1")


def test_cli_prints_a_table_or_csv_and_exits_2_on_bad_sql(store):
    runner = CliRunner()
    result = runner.invoke(app, ["query", str(store.root), "select count(*) as n from errors"])
    assert result.exit_code == 0 and "0" in result.output  # no failures: an empty table
    result = runner.invoke(app, ["query", str(store.root), "select * from nope"])
    assert result.exit_code == 2 and "nope" in result.output
    result = runner.invoke(app, ["query", str(store.root),
                                 "select kind, count(*) n from segments group by 1 order by 1",
                                 "--csv"])
    assert result.exit_code == 0 and result.output.startswith("kind,n\n")
