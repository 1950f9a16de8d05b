"""Vowel labels from the words alone (phone tiers removed) against the synthetic truth."""

import shutil

import numpy as np
import pandas as pd
import pytest
from praatio import textgrid

from corpora.corpus import read_corpus
from speech.extract import extract
from speech.store import Store


def words_only(corpus, root):
    """A copy of ``corpus`` whose TextGrids keep their words tiers only."""
    shutil.copytree(corpus, root)
    for path in (root / "transcripts").glob("*.TextGrid"):
        grid = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
        for name in [n for n in grid.tierNames if n.endswith("phones")]:
            grid.removeTier(name)
        grid.save(str(path), format="long_textgrid", includeBlankSpaces=True)
    return root


@pytest.fixture(scope="module")
def labelled(synthetic_corpus, tmp_path_factory):
    root = words_only(synthetic_corpus, tmp_path_factory.mktemp("words") / "corpus")
    store = Store(root / "store")
    extract(read_corpus(root), store, jobs=2)
    truth = pd.read_csv(synthetic_corpus / "truth" / "tokens.csv")
    profiled = pd.read_csv(synthetic_corpus / "speakers.csv")["speaker_id"]
    truth = truth[truth["speaker_id"].isin(profiled) & truth["is_vowel"].astype(bool)]
    return store.read_table("vowels"), truth


def _true_vowel_at(tokens: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Each token's true vowel interval (the one of its recording and voice holding the
    token's centre), as the row index into ``truth`` (-1 when none)."""
    hit = np.full(len(tokens), -1)
    centre = ((tokens["start_s"] + tokens["end_s"]) / 2).to_numpy()
    for (rec, voice), rows in tokens.groupby(["recording_id", "speaker_id"]).groups.items():
        mine = truth[(truth["recording_id"] == rec) & (truth["speaker_id"] == voice)]
        mine = mine.sort_values("start_s")
        pos = tokens.index.get_indexer(rows)
        slot = np.searchsorted(mine["start_s"].to_numpy(), centre[pos], side="right") - 1
        ok = (slot >= 0) & (centre[pos] <= mine["end_s"].to_numpy()[np.maximum(slot, 0)])
        hit[pos[ok]] = mine.index.to_numpy()[slot[ok]]
    return hit


def test_orthography_labels_agree_with_the_true_phones(labelled):
    vowels, truth = labelled
    assert set(vowels["label_source"]) <= {"orthography", "none"}
    mine = vowels[vowels["label_source"] == "orthography"].reset_index(drop=True)
    assert mine["label_confidence"].between(0.5, 1).all()
    assert mine["stress"].notna().all()
    hit = _true_vowel_at(mine, truth)
    found = hit >= 0
    agree = (mine["vowel"].to_numpy()[found] == truth.loc[hit[found], "phone"].to_numpy())
    share_agree = agree.sum() / len(mine)  # a label on no true vowel counts as wrong
    covered = truth.index.isin(hit[found]).mean()
    print(f"agree {share_agree:.3f} of {len(mine)} labelled tokens; "
          f"{covered:.3f} of {len(truth)} true vowels labelled")
    assert share_agree >= 0.95
    assert covered >= 0.90
    stress_true = truth.loc[hit[found], "stressed"].astype(str).str.lower().eq("true")
    assert (mine["stress"].to_numpy(dtype=bool)[found] == stress_true.to_numpy()).mean() >= 0.9
