"""`eval`: scores that reward the truth and punish errors."""

import pandas as pd
import pytest
from praatio import textgrid

from corpora.corpus import read_corpus
from speech.evaluate import evaluate, load_reference
from speech.extract import extract
from speech.store import Store


@pytest.fixture(scope="module")
def store(synthetic_corpus, tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("eval") / "store")
    extract(read_corpus(synthetic_corpus), store)
    return store


def rewrite_segments(store, tmp_path, change):
    """A copy of the store whose segments went through ``change``."""
    copy = Store(tmp_path / "copy")
    for rid, group in store.read_table("segments").groupby("recording_id"):
        copy.write_partition("segments", rid, change(group.copy()))
    for rid, group in store.read_table("recordings").groupby("recording_id"):
        copy.write_partition("recordings", rid, group)
    return copy


def test_extracted_segments_score_well_on_clean_synthetic_speech(store, synthetic_corpus):
    per_recording, per_speaker, summary = evaluate(store, synthetic_corpus)
    assert summary["boundary_f1"] >= 0.95
    assert summary["attribution_accuracy"] >= 0.95
    assert summary["profiled_identified"] == 1.0
    assert set(per_speaker["speaker_id"]) == set(read_corpus(synthetic_corpus).recordings_table()
                                                 ["speaker_id"])
    assert len(per_recording) == len(read_corpus(synthetic_corpus))


def test_shifted_boundaries_lose_their_hits(store, synthetic_corpus, tmp_path):
    def shift(seg):
        seg[["start_s", "end_s"]] += 0.1
        return seg

    _, _, summary = evaluate(rewrite_segments(store, tmp_path, shift), synthetic_corpus)
    assert summary["boundary_f1"] < 0.05
    _, _, loose = evaluate(rewrite_segments(store, tmp_path / "b", shift), synthetic_corpus,
                           tolerance_s=0.15)
    assert loose["boundary_f1"] >= 0.95


def test_wrong_speakers_lower_attribution(store, synthetic_corpus, tmp_path):
    def everyone_is_the_interviewer(seg):
        seg["speaker_id"] = "INT9"
        return seg

    _, _, summary = evaluate(rewrite_segments(store, tmp_path, everyone_is_the_interviewer),
                             synthetic_corpus)
    assert summary["profiled_identified"] == 0.0
    interviews = summary["attribution_by_method"]
    assert min(interviews.values()) < 0.9


def test_textgrid_reference_equals_truth_reference(synthetic_corpus):
    truth_ipus, truth_vowels = load_reference(synthetic_corpus)
    grid_ipus, grid_vowels = load_reference(synthetic_corpus / "transcripts")
    key = ["recording_id", "speaker_id", "start_s"]
    a = truth_ipus.sort_values(key).reset_index(drop=True)
    b = grid_ipus.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[[*key, "end_s"]], b[[*key, "end_s"]], check_dtype=False,
                                  atol=1e-6)
    assert len(truth_vowels) == len(grid_vowels)


def test_missing_reference_is_a_clear_error(store, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no truth/ipus\.csv"):
        evaluate(store, tmp_path)
    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier("X - words", [(0.1, 0.5, "hola")], 0, 1))
    tg.save(str(tmp_path / "unknown.TextGrid"), format="long_textgrid", includeBlankSpaces=True)
    with pytest.raises(ValueError, match="no recording"):
        evaluate(store, tmp_path)


def test_reference_textgrids_in_speaker_folders_take_the_corpus_ids(tmp_path):
    # The TIMIT layout: transcripts/<speaker>/<name>.TextGrid is recording <speaker>_<name>
    # (as audio/<speaker>/<name>.wav is), beside transcripts/<recording_id>.TextGrid.
    for rel, speaker in (("R01/sa1", "R01"), ("R02/sa1", "R02"), ("R02_sx9", "R02")):
        path = tmp_path / "transcripts" / f"{rel}.TextGrid"
        path.parent.mkdir(parents=True, exist_ok=True)
        tg = textgrid.Textgrid()
        tg.addTier(textgrid.IntervalTier(f"{speaker} - words", [(0.1, 0.5, "ella")], 0, 1))
        tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)
    ipus, _ = load_reference(tmp_path)
    assert sorted(ipus["recording_id"]) == ["R01_sa1", "R02_sa1", "R02_sx9"]
    assert dict(zip(ipus["recording_id"], ipus["speaker_id"], strict=True))["R01_sa1"] == "R01"


# --- overlapping reference IPUs --------------------------------------------------------------


def _overlap_case(tmp_path, segments, method="cluster"):
    """A reference with an overlapped turn start (B joins 0.3 s before A ends) and a
    backchannel of A inside B's IPU, and a store holding ``segments`` for it."""
    ref = pd.DataFrame({"recording_id": "R", "speaker_id": ["A", "B", "A", "A"],
                        "start_s": [0.5, 2.7, 3.5, 6.0], "end_s": [3.0, 5.0, 3.8, 8.0]})
    (tmp_path / "ref" / "truth").mkdir(parents=True)
    ref.to_csv(tmp_path / "ref" / "truth" / "ipus.csv", index=False)
    ref.assign(is_vowel=True)[["recording_id", "speaker_id", "start_s", "is_vowel"]].to_csv(
        tmp_path / "ref" / "truth" / "tokens.csv", index=False)
    store = Store(tmp_path / "store")
    seg = pd.DataFrame(segments, columns=["speaker_id", "start_s", "end_s"]).assign(
        recording_id="R", n_nuclei=1)
    store.write_partition("segments", "R", seg)
    store.write_partition("recordings", "R", pd.DataFrame(
        {"recording_id": ["R"], "kind": ["interview"], "method": [method], "speaker_id": ["A"]}))
    return store, tmp_path / "ref"


def test_overlap_spans_are_the_intersections_of_different_voices():
    from speech.evaluate import overlap_spans

    ref = pd.DataFrame({"speaker_id": ["A", "B", "A", "A", "B"],
                        "start_s": [0.5, 2.7, 3.5, 6.0, 7.9], "end_s": [3.0, 5.0, 3.8, 8.0, 9.0]})
    assert overlap_spans(ref).tolist() == [[2.7, 3.0], [3.5, 3.8], [7.9, 8.0]]
    assert overlap_spans(ref[ref["speaker_id"] == "A"]).shape == (0, 2)


def test_boundaries_inside_the_other_voice_are_not_scored_in_a_mix(tmp_path):
    # The voice switches inside the overlap; the backchannel is inside B's speech.
    store, ref = _overlap_case(tmp_path, [("A", 0.5, 2.85), ("B", 2.85, 5.0), ("A", 6.0, 8.0)])
    per_recording, _, summary = evaluate(store, ref)
    assert summary["boundary_f1"] == 1.0
    assert per_recording.loc[0, ["n_ref", "n_est", "n_hit"]].tolist() == [4, 4, 4]
    assert summary["attribution_accuracy"] == 1.0
    # One segment over the whole overlapped change is as right for the boundaries ...
    store, ref = _overlap_case(tmp_path / "merged", [("A", 0.5, 5.0), ("A", 6.0, 8.0)])
    per_recording, _, summary = evaluate(store, ref)
    assert summary["boundary_f1"] == 1.0
    assert summary["attribution_accuracy"] == 1.0  # ... and A covers it longer (2.8 s > 2.3 s)
    # ... but a boundary off by more than the tolerance outside an overlap still misses.
    store, ref = _overlap_case(tmp_path / "late", [("A", 0.5, 5.0), ("A", 6.2, 8.0)])
    assert evaluate(store, ref)[2]["boundary_f1"] == pytest.approx(0.75)



def test_a_voice_switch_placed_outside_the_overlap_costs_two_false_boundaries(tmp_path):
    # A frame-level split (features.attribution.relabel_frames) that lands 0.3 s after A
    # stopped puts 0.3 s of B's solo speech in A's segment: its end and B's start are
    # both wrong, while the unsplit stretch (previous test) names no boundary there.
    store, ref = _overlap_case(tmp_path, [("A", 0.5, 3.3), ("B", 3.3, 5.0), ("A", 6.0, 8.0)])
    per_recording, _, summary = evaluate(store, ref)
    assert per_recording.loc[0, ["n_ref", "n_est", "n_hit"]].tolist() == [4, 6, 4]
    assert summary["boundary_f1"] == pytest.approx(0.8)

def test_channel_attribution_scores_every_edge(tmp_path):
    # One voice per channel: B's start inside A's speech is audible in B's channel.
    store, ref = _overlap_case(tmp_path, [("A", 0.5, 2.85), ("B", 2.85, 5.0), ("A", 6.0, 8.0)],
                               method="channel")
    per_recording, _, summary = evaluate(store, ref)
    assert per_recording.loc[0, ["n_ref", "n_est"]].tolist() == [8, 6]
    assert summary["boundary_f1"] < 0.8
