"""The notebooks are committed clean: valid nbformat, no outputs, no execution counts.

Executing them is nbmake's job (``pytest --nbmake notebooks/``); this test only reads
the files, so it runs in the normal suite in well under a second.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = ("01_corpus_overview.ipynb", "02_vowel_space.ipynb", "03_sociolinguistic_models.ipynb")
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_three_notebooks_exist():
    assert {p.name for p in PATHS} >= set(EXPECTED)


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_is_valid_nbformat_4(path: Path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4
    nbformat.validate(nb)  # raises ValidationError with the offending field
    assert nb.metadata.get("kernelspec", {}).get("language") == "python"


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_has_no_outputs_or_execution_counts(path: Path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a notebook without code cells explores nothing"
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert dirty == [], f"cells {dirty} have outputs or execution counts: run nbstripout"
    # Markdown and raw cells carry no attachments of rendered output either.
    assert all(not c.get("attachments") for c in nb.cells)


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_explains_itself_and_reads_the_shared_store(path: Path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    markdown = sum(c.cell_type == "markdown" for c in nb.cells)
    assert markdown >= 4, "too little prose for phoneticians to follow"
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    # Every notebook explores the same store: the demo's or $SPEECH_PROFILE_STORE.
    assert "notebook_store()" in source
    assert "References" in "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_a_dirty_notebook_is_detected(tmp_path: Path):
    """The check above can fail: an output or an execution count is caught."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nb.cells[0].execution_count = 1
    nb.cells[0].outputs = [
        nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)
    ]
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(AssertionError, match="outputs or execution counts"):
        test_notebook_has_no_outputs_or_execution_counts(path)
