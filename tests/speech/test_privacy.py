"""Privacy end to end: no transcript text or contacts in the outputs, and `forget`
erases a speaker from every table, model output and report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpora.synth import write_corpus
from speech.cli import app
from speech.privacy import erasure_hash

pytestmark = pytest.mark.slow

#: Planted in a transcript: a name and a contact that must never reach an output.
SECRETS = ("zebulonia", "maria.lopez@example.org")
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".m4a", ".mp4", ".webm"}


def _texts(path: Path) -> str:
    """Everything readable in a file: its bytes as text and, for Parquet, every
    value, column name and metadata entry (compression hides raw bytes)."""
    raw = path.read_bytes().decode("latin-1")
    if path.suffix != ".parquet":
        return raw
    table = pq.read_table(path)
    cells = [str(v) for column in table.columns for v in column.to_pylist()]
    meta = [str(table.schema.metadata or {}), *table.column_names]
    return "\n".join([raw, *cells, *meta])


def _leaks(roots: list[Path], needles: tuple[str, ...]) -> list[str]:
    found = []
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            text = _texts(path).lower()
            found += [f"{path.relative_to(root)}: {n}" for n in needles if n.lower() in text]
    return found


def _plant_secrets(corpus: Path) -> None:
    """Rename two words of S002's interview transcript to the secrets."""
    grid = corpus / "transcripts" / "S002_interview.TextGrid"
    text = grid.read_text(encoding="utf-8")
    words = re.findall(r'text = "([a-z]{4,})"', text)
    for old, new in zip(words[:2], SECRETS, strict=True):
        text = text.replace(f'text = "{old}"', f'text = "{new}"', 1)
    grid.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("privacy")
    corpus, store, report = root / "corpus", root / "store", root / "report"
    write_corpus(corpus, n_speakers=7, seed=5, minutes_per_speaker=0.3, jobs=1)
    _plant_secrets(corpus)
    run = CliRunner()
    for args in (["extract", str(corpus), "--store", str(store)],
                 ["fit", str(store), "--permutations", "99"],
                 ["report", str(store), "--out", str(report)]):
        result = run.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    return corpus, store, report


def test_outputs_carry_no_audio_no_text_and_no_contacts(pipeline):
    corpus, store, report = pipeline
    outputs = [p for root in (store, report) for p in root.rglob("*") if p.is_file()]
    assert outputs and not [p for p in outputs if p.suffix.lower() in AUDIO_SUFFIXES]
    assert _leaks([store, report], SECRETS) == []
    # ...and the scan does see them when text is kept on purpose.
    kept = corpus.parent / "kept"
    result = CliRunner().invoke(app, ["extract", str(corpus), "--store", str(kept),
                                      "--keep-text"])
    assert result.exit_code == 0, result.output
    assert _leaks([kept], SECRETS[:1])


def test_forget_erases_the_speaker_everywhere_and_for_good(pipeline):
    corpus, store, report = pipeline
    before = _leaks([store, report], ("S002",))
    assert before  # the speaker was there: tables, models
    result = CliRunner().invoke(app, ["forget", str(store), "S002"])
    assert result.exit_code == 0, result.output
    assert _leaks([store, report], ("S002",)) == []
    manifest = json.loads((store / "manifest.json").read_text())
    (entry,) = manifest["erasures"]
    assert entry["speaker_hash"] == erasure_hash(manifest["key"], "S002")
    # models refitted without them, report rebuilt
    fitted = pq.read_table(store / "models" / "speaker_features.parquet").to_pandas()
    assert len(fitted) == 6 and "S002" not in set(fitted["speaker_id"])
    findings = json.loads((report / "findings.json").read_text())
    assert findings["k_anonymity"] == 5
    # the corpus still lists S002 with consent: a new extract must not bring them back
    result = CliRunner().invoke(app, ["extract", str(corpus), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "1 erased speakers skipped" in result.output
    assert _leaks([store], ("S002",)) == []
    # erasing twice is harmless; an unknown id is bad input
    assert CliRunner().invoke(app, ["forget", str(store), "S002"]).exit_code == 0
    assert CliRunner().invoke(app, ["forget", str(store), "S999"]).exit_code == 2
