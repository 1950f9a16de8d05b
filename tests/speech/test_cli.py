"""The `speech-profile` command line: exit codes, messages, summaries."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from speech.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def fault_missing_speakers(root: Path) -> str:
    (root / "speakers.csv").unlink()
    return "speakers.csv: speakers.csv is required"


def fault_unknown_speaker(root: Path) -> str:
    path = root / "recordings.csv"
    text = path.read_text().replace("S03_u01.wav,utterance,S03", "S03_u01.wav,utterance,S07")
    path.write_text(text)
    return "recordings.csv:5: column 'speaker_id': speaker is not in speakers.csv"


def fault_education(root: Path) -> str:
    path = root / "speakers.csv"
    path.write_text(path.read_text().replace("master_phd", "doctorate"))
    return "speakers.csv:3: column 'education'"


def fault_country(root: Path) -> str:
    path = root / "speakers.csv"
    path.write_text(path.read_text().replace(",VE,", ",VZ,"))
    return "speakers.csv:4: column 'country'"


def fault_truncated_audio(root: Path) -> str:
    path = root / "audio/S01/S01_interview.wav"
    path.write_bytes(path.read_bytes()[:40000])
    return "audio/S01/S01_interview.wav"


def fault_malformed_textgrid(root: Path) -> str:
    path = root / "transcripts/S01_interview.TextGrid"
    path.write_text('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = \n')
    return "transcripts/S01_interview.TextGrid"


def fault_vtt_overlap(root: Path) -> str:
    (root / "transcripts/S02_interview.vtt").write_text(
        "WEBVTT\n\n00:00:00.100 --> 00:00:01.500\n<v S02>uno</v>\n\n"
        "00:00:01.000 --> 00:00:02.000\n<v S02>dos</v>\n"
    )
    return "transcripts/S02_interview.vtt"


def fault_email_column(root: Path) -> str:
    path = root / "speakers.csv"
    lines = path.read_text().splitlines()
    lines[0] += ",contact"
    lines[1:] = [f"{line},w{i}@mail.com" for i, line in enumerate(lines[1:])]
    path.write_text("\n".join(lines) + "\n")
    return "speakers.csv:2: column 'contact': value looks like an e-mail address"


FAULTS = [
    fault_missing_speakers, fault_unknown_speaker, fault_education, fault_country,
    fault_truncated_audio, fault_malformed_textgrid, fault_vtt_overlap, fault_email_column,
]  # fmt: skip


def test_check_passes_a_valid_corpus_and_summarises_it(corpus_dir):
    result = run("check", corpus_dir)
    assert result.exit_code == 0, result.output
    assert "3 speakers (2 consented)" in result.output
    assert "4 recordings (2 interview, 2 utterance)" in result.output
    assert "by country" in result.output and "by education" in result.output


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.__name__)
def test_check_names_each_fault_and_exits_2(corpus_dir, fault):
    expected = fault(corpus_dir)
    result = run("check", corpus_dir)
    assert result.exit_code == 2, result.output
    assert expected in result.output


def test_check_lists_all_faults_together(corpus_dir):
    expected = [fault(corpus_dir) for fault in FAULTS[1:]]  # missing speakers.csv hides others
    result = run("check", corpus_dir)
    assert result.exit_code == 2
    for text in expected:
        assert text in result.output
    assert "ana@" not in result.output and "w0@mail.com" not in result.output


def test_check_of_a_missing_directory_is_bad_input(tmp_path):
    result = run("check", tmp_path / "nope")
    assert result.exit_code == 2 and "corpus directory not found" in result.output


def test_help_shows_examples():
    for command in ("synth", "check", "demo"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Examples" in result.output
        assert f"speech-profile {command}" in result.output


def test_synth_rejects_bad_arguments(tmp_path):
    result = run("synth", tmp_path / "c", "--speakers", "0")
    assert result.exit_code == 2 and "0" in result.output


def test_synth_then_check_end_to_end(tmp_path):
    out = tmp_path / "synthetic"
    result = run("synth", out, "--speakers", "2", "--seed", "4", "--minutes", "0.3", "-j", "1")
    assert result.exit_code == 0, result.output
    assert "Wrote 2 speakers" in result.output
    result = run("check", out)
    assert result.exit_code == 0, result.output
    assert "2 speakers (2 consented)" in result.output
    result = run("synth", out, "--speakers", "2")  # refuses to overwrite
    assert result.exit_code == 2 and str(out) in result.output


def test_synth_per_participant_then_check(tmp_path):
    out = tmp_path / "zoom"
    result = run("synth", out, "--speakers", "1", "--seed", "4", "--minutes", "0.3", "-j", "1",
                 "--per-participant", "--crosstalk-db", "-25", "--max-offset", "1")
    assert result.exit_code == 0, result.output
    rows = (out / "recordings.csv").read_text().splitlines()
    assert rows[0].endswith(",offset_s")
    assert sum(r.startswith("S001_interview,") for r in rows) == 2  # one row per file
    result = run("check", out)
    assert result.exit_code == 0, result.output
    assert "1 interview" in result.output  # two files, one recording
    result = run("synth", tmp_path / "x", "--per-participant", "--gate")
    assert result.exit_code == 2 and "--per-participant" in result.output
    result = run("synth", tmp_path / "y", "--per-participant", "--crosstalk-db", "3")
    assert result.exit_code == 2 and "crosstalk_db" in result.output


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline_to_the_report(tmp_path):
    result = run("demo", "--out", tmp_path / "demo", "--speakers", "6", "--minutes", "0.3")
    assert result.exit_code == 0, result.output
    assert "passed every check" in result.output
    assert (tmp_path / "demo" / "corpus" / "truth" / "effects.md").is_file()
    assert (tmp_path / "demo" / "store" / "models" / "associations.parquet").is_file()
    assert "Main findings" in result.output
    assert (tmp_path / "demo" / "report" / "report.html").is_file()
    from speech.demo import built_by_this_code

    assert built_by_this_code(tmp_path / "demo")  # the notebooks may explore it


def test_extract_then_eval(synthetic_corpus, tmp_path):
    store = tmp_path / "store"
    result = run("extract", synthetic_corpus, "--store", store)
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    result = run("extract", synthetic_corpus, "--store", store)
    assert "Extracted 0 recordings" in result.output and "0 failed" in result.output
    result = run("eval", store, "--reference", synthetic_corpus, "--json")
    assert result.exit_code == 0, result.output
    assert '"boundary_f1": 1.0' in result.output or '"boundary_f1": 0.9' in result.output


def test_extract_refuses_a_broken_corpus_and_bad_settings(corpus_dir, tmp_path):
    (corpus_dir / "speakers.csv").write_text("speaker_id,country\nS01,XX\n")
    result = run("extract", corpus_dir, "--store", tmp_path / "s")
    assert result.exit_code == 2 and "speakers.csv:2: column 'country'" in result.output
    result = run("extract", corpus_dir, "--store", tmp_path / "s", "--vad", "webrtc")
    assert result.exit_code == 2 and "unknown vad" in result.output
    result = run("extract", corpus_dir, "--store", tmp_path / "s", "--formant-ceilings", "1")
    assert result.exit_code == 2 and "--formant-ceilings" in result.output


def test_eval_of_an_empty_store_is_bad_input(synthetic_corpus, tmp_path):
    result = run("eval", tmp_path / "nothing", "--reference", synthetic_corpus)
    assert result.exit_code == 2 and "run extract first" in result.output


def test_synth_with_noise_keeps_the_truth(tmp_path):
    clean, noisy = tmp_path / "clean", tmp_path / "noisy"
    args = ["--speakers", "1", "--seed", "2", "--minutes", "0.3", "-j", "1"]
    assert run("synth", clean, *args).exit_code == 0
    assert run("synth", noisy, *args, "--noise", "white", "--snr", "10").exit_code == 0
    assert (clean / "truth/tokens.csv").read_bytes() == (noisy / "truth/tokens.csv").read_bytes()
    import numpy as np
    import soundfile as sf

    wav = next((clean / "audio").rglob("*_interview.wav")).relative_to(clean)
    a, _ = sf.read(clean / wav)
    b, _ = sf.read(noisy / wav)
    residual = b / (np.max(np.abs(b)) / np.max(np.abs(a))) - a
    assert 3 < 10 * np.log10(np.mean(a**2) / np.mean(residual**2)) < 14
    result = run("synth", tmp_path / "x", *args, "--noise", "pink")
    assert result.exit_code == 2 and "unknown noise" in result.output


def test_synth_gate_zeros_the_pauses_keeps_speech_and_truth(tmp_path):
    clean, gated = tmp_path / "clean", tmp_path / "gated"
    args = ["--speakers", "1", "--seed", "2", "--minutes", "0.3", "-j", "1"]
    assert run("synth", clean, *args).exit_code == 0
    result = run("synth", gated, *args, "--gate")
    assert result.exit_code == 0, result.output
    for name in ("truth/ipus.csv", "truth/tokens.csv", "recordings.csv"):
        assert (clean / name).read_bytes() == (gated / name).read_bytes()
    import numpy as np
    import pandas as pd
    import soundfile as sf

    ipus = pd.read_csv(gated / "truth/ipus.csv")
    for row in pd.read_csv(gated / "recordings.csv").itertuples():
        a, sr = sf.read(clean / row.path)
        b, _ = sf.read(gated / row.path)
        inside = np.zeros(a.size, dtype=bool)
        for start, end in ipus.loc[ipus.recording_id == row.recording_id,
                                   ["start_s", "end_s"]].to_numpy():
            inside[round(start * sr) : round(end * sr)] = True
        assert np.all(b[~inside] == 0.0) and (~inside).sum() > 0.1 * sr
        np.testing.assert_array_equal(a[inside], b[inside])


def test_extract_and_eval_of_a_gated_corpus(tmp_path):
    # Issue #14: pauses of digital silence; boundary F1 against the truth >= 0.95.
    corpus, store = tmp_path / "gated", tmp_path / "store"
    result = run("synth", corpus, "--speakers", "2", "--seed", "5", "--minutes", "0.3",
                 "-j", "1", "--noise", "white", "--snr", "15", "--gate")
    assert result.exit_code == 0, result.output
    result = run("extract", corpus, "--store", store, "--no-features")
    assert result.exit_code == 0 and "0 failed" in result.output, result.output
    result = run("eval", store, "--reference", corpus, "--json")
    assert result.exit_code == 0, result.output
    import json

    scores = json.loads(result.output[result.output.index("{"):])
    assert scores["boundary_f1"] >= 0.95, scores


def test_profile_one_file(synthetic_corpus):
    wav = next((synthetic_corpus / "audio").rglob("*_interview.wav"))
    result = run("profile", wav, "--speakers", "2")
    assert result.exit_code == 0, result.output
    assert "articulation_rate_syll_s" in result.output and "V2" in result.output
    result = run("profile", wav, "--json")
    assert result.exit_code == 0 and '"jitter_local_pct"' in result.output
    assert run("profile", wav.with_name("missing.wav")).exit_code == 2


def test_bench_prints_both_speeds_and_the_ratio(tmp_path):
    from corpora.synth import write_corpus

    write_corpus(tmp_path / "c", n_speakers=1, seed=3, minutes_per_speaker=0.3, jobs=1)
    wav = next((tmp_path / "c" / "audio").rglob("*_interview.wav"))
    result = run("bench", wav, "--repeats", "1")
    assert result.exit_code == 0, result.output
    assert "x real time" in result.output and "openSMILE eGeMAPSv02" in result.output
    assert "full (" in result.output and "feature core (" in result.output
    ratios = re.search(r"full (\d+\.\d+), feature core (\d+\.\d+)", result.output)
    assert ratios is not None, result.output
    # without FastTrack's formant analyses the core is faster than the full extraction
    assert float(ratios[2]) > float(ratios[1]) > 0


def test_check_and_extract_accept_the_timit_layout(corpus_dir, tmp_path):
    # Issue #14: audio/S01/sa1.flac and audio/S02/sa1.flac, no recordings.csv.
    from tests.corpora.test_corpus import timit_like

    timit_like(corpus_dir)
    result = run("check", corpus_dir)
    assert result.exit_code == 0, result.output
    store = tmp_path / "store"
    result = run("extract", corpus_dir, "--store", store, "--no-features")
    assert result.exit_code == 0 and "0 failed" in result.output, result.output
    import pandas as pd

    recordings = pd.read_parquet(store / "recordings")
    assert sorted(recordings["recording_id"].astype(str)) == [
        "S01_free", "S01_sa1", "S01_sx12", "S02_sa1", "S02_sx12"]
    assert (recordings["status"] == "ok").all(), recordings[["recording_id", "status"]]
    segments = pd.read_parquet(store / "segments")
    assert set(segments["recording_id"].astype(str)) == set(recordings["recording_id"].astype(str))
    one = segments[segments["recording_id"].astype(str) == "S02_sa1"]
    assert len(one) == 1 and one["speaker_id"].astype(str).item() == "S02"
    assert abs(one["start_s"].item() - 0.3) < 0.05 and abs(one["end_s"].item() - 1.3) < 0.05
    result = run("extract", corpus_dir, "--store", store, "--no-features")
    assert "Extracted 0 recordings" in result.output  # same corpus, same ids: nothing redone
