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
