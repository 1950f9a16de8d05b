"""Vowels of real Spanish speech: orthography labels, our formants and a Praat baseline.

Usage::

    python scripts/real_vowels.py [REAL_ES] [--work DIR] [--jobs 1]

On ``../shared/data/real-es`` (142 words by two real speakers, README there), writes a
copy of the corpus with one CSV transcript per recording (one interval over the
whole file holding its word), runs ``extract``, and takes each word's stressed vowel
token (labelled from orthography, :mod:`corpora.languages.es`). For each speaker it
prints how often that vowel is recovered from the token's ``vowels`` F1/F2 by LDA
under leave-one-word-out cross-validation, beside a plain Praat Burg baseline on the
same tokens: one ``To Formant (burg)`` of the original file at a fixed ceiling
(5500 Hz at 16 kHz, 3900 Hz at 8 kHz, below its 4 kHz Nyquist frequency), read at
the token's midpoint.

The label-free check (``--no-transcripts`` part): the same corpus extracted without
transcripts; each one-syllable letter name of MX1 (``a`` ... ``u``, ``be``, ``ce``,
``ka``, ``cu`` ...) gives its last nucleus token, classified by the LDA fitted on
that speaker's orthography-labelled words.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import parselmouth
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict

from corpora.corpus import read_corpus
from corpora.languages import rules_for, text_nuclei
from corpora.languages.es import word_nuclei
from speech.extract import extract
from speech.segmentation import SegmentationConfig
from speech.store import Store

REAL_ES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real-es"
#: Fixed ceilings of the Praat baseline per source rate (Hz).
BASELINE_CEILING_HZ = {16000: 5500.0, 8000: 3900.0}


def write_corpus(real_es: Path, root: Path, *, transcripts: bool) -> pd.DataFrame:
    """Copy real-es to ``root`` in the corpus layout (+ one CSV transcript per file)."""
    words = pd.read_csv(real_es / "words.csv", dtype={"word": str})
    shutil.copytree(real_es / "audio", root / "audio")
    shutil.copy(real_es / "speakers.csv", root / "speakers.csv")
    (root / "corpus.toml").write_text('name = "real-es"\nlanguage = "es"\n', encoding="utf-8")
    if transcripts:
        (root / "transcripts").mkdir()
        for row in words.itertuples():
            pd.DataFrame({"start": [0.0], "end": [row.duration_s], "speaker": [row.speaker_id],
                          "text": [row.word], "level": ["words"]}).to_csv(
                root / "transcripts" / f"{row.recording_id}.csv", index=False)
    return words


def extracted_vowels(real_es: Path, work: Path, *, transcripts: bool, jobs: int = 1,
                     config: SegmentationConfig | None = None) -> pd.DataFrame:
    """The ``vowels`` table of real-es extracted with (or without) word transcripts."""
    root = work / ("corpus" if transcripts else "corpus-bare")
    if root.exists():
        shutil.rmtree(root)
    write_corpus(real_es, root, transcripts=transcripts)
    store = Store(root / "store")
    extract(read_corpus(root), store, config=config or SegmentationConfig(), jobs=jobs)
    return store.read_table("vowels")


def stressed_tokens(vowels: pd.DataFrame, words: pd.DataFrame) -> pd.DataFrame:
    """Each word's orthography-labelled stressed token (the most confident when
    several), with the word and its recording's source file."""
    mine = vowels[(vowels["label_source"] == "orthography") & vowels["stress"].fillna(False)]
    mine = mine.sort_values("label_confidence", ascending=False).drop_duplicates("recording_id")
    return mine.merge(words[["recording_id", "word"]], on="recording_id").sort_values(
        "recording_id").reset_index(drop=True)


def praat_midpoint(real_es: Path, tokens: pd.DataFrame) -> pd.DataFrame:
    """F1/F2 (Hz) of plain Praat Burg on the original file at a fixed ceiling, read at
    each token's midpoint (Praat defaults otherwise: 5 formants, 25 ms, 50 Hz)."""
    rows = []
    for t in tokens.itertuples():
        sound = parselmouth.Sound(str(real_es / "audio" / t.speaker_id / f"{t.recording_id}.flac"))
        ceiling = BASELINE_CEILING_HZ[int(sound.sampling_frequency)]
        formant = sound.to_formant_burg(maximum_formant=ceiling)
        mid = (t.start_s + t.end_s) / 2
        rows.append((formant.get_value_at_time(1, mid), formant.get_value_at_time(2, mid)))
    return pd.DataFrame(rows, columns=["f1_hz", "f2_hz"], index=tokens.index)


def lda_accuracy(f1: np.ndarray, f2: np.ndarray, vowel: np.ndarray, word: np.ndarray) -> float:
    """Share of tokens whose vowel LDA on (F1, F2) recovers, leave-one-word-out."""
    x = np.c_[f1, f2]
    ok = np.all(np.isfinite(x), axis=1)
    predicted = np.full(vowel.size, "", dtype=object)
    predicted[ok] = cross_val_predict(LinearDiscriminantAnalysis(), x[ok], vowel[ok],
                                      groups=word[ok], cv=LeaveOneGroupOut())
    return float(np.mean(predicted == vowel))


def evaluate(real_es: Path, work: Path, *, jobs: int = 1,
             config: SegmentationConfig | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per speaker: words, stressed tokens found, LDA accuracy ours and Praat baseline;
    and the stressed tokens themselves (with their Praat baseline F1/F2)."""
    words = pd.read_csv(real_es / "words.csv", dtype={"word": str})
    vowels = extracted_vowels(real_es, work, transcripts=True, jobs=jobs, config=config)
    tokens = stressed_tokens(vowels, words)
    baseline = praat_midpoint(real_es, tokens)
    rows = []
    for speaker, mine in tokens.groupby("speaker_id"):
        base = baseline.loc[mine.index]
        labels, groups = mine["vowel"].to_numpy(dtype=object), mine["word"].to_numpy(dtype=object)
        rows.append({
            "speaker_id": speaker, "n_words": int((words["speaker_id"] == speaker).sum()),
            "n_tokens": len(mine),
            "ours": lda_accuracy(mine["f1_hz"].to_numpy(float), mine["f2_hz"].to_numpy(float),
                                 labels, groups),
            "praat_midpoint": lda_accuracy(base["f1_hz"].to_numpy(float),
                                           base["f2_hz"].to_numpy(float), labels, groups),
        })  # fmt: skip
    tokens[["praat_f1_hz", "praat_f2_hz"]] = baseline.to_numpy()
    return pd.DataFrame(rows), tokens


def truth_vowels(words: pd.Series) -> pd.Series:
    """The stressed vowel each word's spelling gives."""
    rules = rules_for("es")
    return words.map(lambda w: next(n.vowel for n in text_nuclei(w, rules) if n.stressed))


def letters_label_free(real_es: Path, work: Path, labelled: pd.DataFrame, *, jobs: int = 1,
                       speaker: str = "MX1", config: SegmentationConfig | None = None,
                       ) -> pd.DataFrame:
    """One-syllable letter names of ``speaker``, extracted without transcripts: the
    last nucleus token's vowel as classified by the LDA fitted on the speaker's
    orthography-labelled stressed word tokens (``labelled``, from :func:`evaluate`;
    the letter names excluded)."""
    words = pd.read_csv(real_es / "words.csv", dtype={"word": str})
    train = labelled[(labelled["speaker_id"] == speaker)
                     & ~labelled["recording_id"].str.contains("_let_")]
    train = train.dropna(subset=["f1_hz", "f2_hz"])
    lda = LinearDiscriminantAnalysis().fit(train[["f1_hz", "f2_hz"]].to_numpy(),
                                           train["vowel"].to_numpy(dtype=object))
    bare = extracted_vowels(real_es, work, transcripts=False, jobs=jobs, config=config)
    letters = words[(words["speaker_id"] == speaker) & words["recording_id"].str.contains("_let_")]
    letters = letters[letters["word"].map(lambda w: len(word_nuclei(w)) == 1)]
    last = bare.sort_values("start_s").groupby("recording_id").tail(1)
    out = letters.merge(last[["recording_id", "f1_hz", "f2_hz"]], on="recording_id", how="left")
    out["vowel"] = truth_vowels(out["word"])
    found = out[["f1_hz", "f2_hz"]].notna().all(axis=1)
    out["predicted"] = None
    out.loc[found, "predicted"] = lda.predict(out.loc[found, ["f1_hz", "f2_hz"]].to_numpy())
    return out[["recording_id", "word", "vowel", "predicted", "f1_hz", "f2_hz"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("real_es", nargs="?", type=Path, default=REAL_ES)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        result, tokens = evaluate(args.real_es, work, jobs=args.jobs)
        print("Stressed vowel from F1/F2, LDA leave-one-word-out (share of tokens):")
        print(result.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        letters = letters_label_free(args.real_es, work, tokens, jobs=args.jobs)
        print("\nMX1 one-syllable letter names, no transcript (last nucleus, LDA of the words):")
        print(letters.to_string(index=False, float_format=lambda v: f"{v:.0f}"))
        print(f"correct: {(letters['vowel'] == letters['predicted']).mean():.3f}")


if __name__ == "__main__":
    main()
