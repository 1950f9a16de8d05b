"""The notebooks' demo store is reused only while the code that built it is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from speech import demo


@pytest.fixture
def fake_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[Path]]:
    """A repository root with one source file per pipeline package, and a build_demo
    that only writes a fitted-store marker (and records each build)."""
    for package in demo.PIPELINE_PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "core.py").write_text(f"NAME = {package!r}\n")
    monkeypatch.setattr(demo, "ROOT", tmp_path)
    monkeypatch.delenv(demo.STORE_VARIABLE, raising=False)
    builds: list[Path] = []

    def build(out: Path, **_: object) -> Path:
        (out / "store" / "models").mkdir(parents=True)
        (out / "store" / "models" / "fit.json").write_text("{}")
        demo.mark_built(out)
        builds.append(out)
        return out / "store"

    monkeypatch.setattr(demo, "build_demo", build)
    return tmp_path, builds


def test_fingerprint_follows_any_source_change(tmp_path: Path) -> None:
    for package in demo.PIPELINE_PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "core.py").write_text("x = 1\n")
    before = demo.code_fingerprint(tmp_path)
    assert demo.code_fingerprint(tmp_path) == before
    (tmp_path / "models" / "core.py").write_text("x = 2\n")
    edited = demo.code_fingerprint(tmp_path)
    assert edited != before
    (tmp_path / "models" / "core.py").rename(tmp_path / "models" / "renamed.py")
    assert demo.code_fingerprint(tmp_path) not in {before, edited}
    (tmp_path / "notes.txt").write_text("not code")
    assert demo.code_fingerprint(tmp_path) == demo.code_fingerprint(tmp_path)


def test_cached_demo_is_built_once_then_reused(fake_repo) -> None:
    root, builds = fake_repo
    first = demo.notebook_store()
    assert first == root / ".cache" / "notebook-demo" / "store"
    assert demo.notebook_store() == first
    assert len(builds) == 1


def test_cached_demo_is_rebuilt_from_scratch_after_a_code_change(fake_repo) -> None:
    root, builds = fake_repo
    store = demo.notebook_store()
    leftover = store / "vowels" / "old.parquet"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("written by older code")
    (root / "features" / "core.py").write_text("NAME = 'changed'\n")
    assert demo.notebook_store() == store
    assert len(builds) == 2
    assert not leftover.exists()


def test_make_demo_store_is_preferred_only_while_current(fake_repo) -> None:
    root, builds = fake_repo
    out = root / "demo-out"
    (out / "store" / "models").mkdir(parents=True)
    (out / "store" / "models" / "fit.json").write_text("{}")
    assert demo.notebook_store() == root / ".cache" / "notebook-demo" / "store"  # unmarked
    demo.mark_built(out)
    assert demo.notebook_store() == out / "store"
    (root / "speech" / "core.py").write_text("NAME = 'changed'\n")
    assert demo.notebook_store() == root / ".cache" / "notebook-demo" / "store"
    assert len(builds) == 2


def test_the_environment_variable_wins(fake_repo, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path) -> None:
    _, builds = fake_repo
    monkeypatch.setenv(demo.STORE_VARIABLE, str(tmp_path / "mine"))
    assert demo.notebook_store() == tmp_path / "mine"
    assert builds == []


def test_build_demo_runs_the_steps_in_order_and_reports_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    class Report:
        ok, problems = True, []

    def fake(name: str, result: object):
        def step(*_: object, **__: object) -> object:
            calls.append(name)
            if name == "synth":
                (tmp_path / "corpus").mkdir(exist_ok=True)
                (tmp_path / "corpus" / "speakers.csv").write_text("speaker_id\n")
            if name == "fit":
                (tmp_path / "store" / "models").mkdir(parents=True, exist_ok=True)
                (tmp_path / "store" / "models" / "fit.json").write_text("{}")
            return result
        return step

    for name, attr, result in (("synth", "write_corpus", "summary"), ("check", "check_corpus",
                               Report()), ("extract", "extract", "extracted"),
                               ("eval", "evaluate", (None, None, {"f1": 1.0})),
                               ("fit", "fit_store", "models"), ("report", "build_report", "html")):
        monkeypatch.setattr(demo, attr, fake(name, result))
    monkeypatch.setattr(demo, "read_corpus", lambda path: path)
    stale = tmp_path / "report" / "old.html"
    stale.parent.mkdir()
    stale.write_text("old")
    seen: list[tuple[str, object]] = []
    started: list[str] = []
    store = demo.build_demo(tmp_path, steps=demo.DEMO_STEPS, fresh=True, progress=started.append,
                            on_step=lambda step, result: seen.append((step, result)))
    assert store == tmp_path / "store"
    assert calls == started == list(demo.DEMO_STEPS)
    assert [s for s, _ in seen] == list(demo.DEMO_STEPS)
    assert dict(seen)["eval"] == {"f1": 1.0} and dict(seen)["synth"] == "summary"
    assert not stale.exists()  # fresh: the old report went first
    calls.clear()
    demo.build_demo(tmp_path)  # the notebooks' steps reuse the corpus
    assert calls == ["extract", "fit"]
    with pytest.raises(ValueError, match="'plot'"):
        demo.build_demo(tmp_path, steps=("synth", "plot"))


def test_build_demo_stops_on_a_failed_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from corpora.problems import CorpusError, Problem

    class Report:
        ok, problems = False, [Problem("speakers.csv", "bad")]

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "speakers.csv").write_text("speaker_id\n")
    monkeypatch.setattr(demo, "check_corpus", lambda *_: Report())
    monkeypatch.setattr(demo, "extract",
                        lambda *_, **__: pytest.fail("extracted after a failed check"))
    with pytest.raises(CorpusError, match="bad"):
        demo.build_demo(tmp_path, steps=("synth", "check", "extract"))
    assert not (tmp_path / demo.BUILT_BY).exists()
