"""Formant error of a store against a synthetic corpus's truth, broken down by what
the token went through: recording kind (interview or one-voice utterance), speaker
attribution, true overlap, backchannel, and the overlap withdrawal (qc ``overlap``).

Usage::

    python scripts/overlap_formants.py CORPUS STORE

``CORPUS`` is a synthetic corpus (``truth/tokens.csv``, ``truth/overlaps.csv``,
``truth/ipus.csv``), ``STORE`` a store extracted from it (e.g. the ``webconf`` row of
``scripts/degradation.py --out DIR``: ``DIR/webconf`` and ``DIR/stores/webconf``).
Each store vowel token is matched to the truth vowel that holds its midpoint (the
store's tokens are syllable nuclei, whose edges are not the truth's phone edges),
truth vowels of at least 50 ms as in the degradation table. Prints the median
|relative error| of F1 (and F2) per group, and the share of tokens more than 20 %
off.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from corpora.synth.session import BACKCHANNELS
from speech.store import Store

#: The backchannel IPUs' text (a backchannel is one of these words alone).
BACKCHANNEL_TEXT = frozenset(word.spelling for word in BACKCHANNELS)


def matched_tokens(corpus: Path, store: Path) -> pd.DataFrame:
    """One row per store vowel token whose midpoint lies in a truth vowel."""
    read = {"dtype": {"recording_id": str}}
    truth = pd.read_csv(corpus / "truth" / "tokens.csv", **read)
    truth = truth[truth["is_vowel"].astype(bool)]
    overlaps = pd.read_csv(corpus / "truth" / "overlaps.csv", **read)
    text = pd.read_csv(corpus / "truth" / "ipus.csv", **read).set_index("ipu_id")["text"]
    vowels = Store(store).read_table("vowels")
    parts = []
    for recording_id, tokens in vowels.groupby("recording_id"):
        planted = truth[truth["recording_id"] == recording_id].sort_values("start_s")
        mid = ((tokens["start_s"] + tokens["end_s"]) / 2).to_numpy()
        k = np.searchsorted(planted["start_s"].to_numpy(), mid, side="right") - 1
        inside = (k >= 0) & (mid < planted["end_s"].to_numpy()[np.maximum(k, 0)])
        tokens, hit = tokens[inside], planted.iloc[k[inside]]
        spans = overlaps.loc[overlaps["recording_id"] == recording_id, ["start_s", "end_s"]]
        lo, hi = tokens["start_s"].to_numpy()[:, None], tokens["end_s"].to_numpy()[:, None]
        both = np.clip(
            np.minimum(hi, spans["end_s"].to_numpy()) - np.maximum(lo, spans["start_s"].to_numpy()),
            0,
            None,
        ).sum(axis=1)
        parts.append(
            pd.DataFrame(
                {
                    "recording_id": recording_id,
                    "kind": "interview" if "interview" in recording_id else "utterance",
                    "right_speaker": tokens["speaker_id"].to_numpy()
                    == hit["speaker_id"].to_numpy(),
                    "truly_overlapped": both > 0,
                    "backchannel": hit["ipu_id"]
                    .map(text)
                    .str.strip()
                    .isin(BACKCHANNEL_TEXT)
                    .to_numpy(),
                    "withdrawn": tokens["qc"].fillna("").str.contains("overlap").to_numpy(),
                    "long": (hit["end_s"] - hit["start_s"]).to_numpy() >= 0.05,
                    "f1_error": (tokens["f1_hz"].to_numpy() / hit["f1_hz"].to_numpy() - 1),
                    "f2_error": (tokens["f2_hz"].to_numpy() / hit["f2_hz"].to_numpy() - 1),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def summary(tokens: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Count, median |F1 error|, share off by > 20 % and median |F2 error| per group."""
    f1, f2 = tokens["f1_error"].abs(), tokens["f2_error"].abs()
    grouped = tokens.assign(f1=f1, f2=f2, gross=f1 > 0.2).groupby(by)
    return grouped.agg(
        n=("f1", "size"),
        f1_median=("f1", "median"),
        f1_gross=("gross", "mean"),
        f2_median=("f2", "median"),
    ).round(4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("store", type=Path)
    args = parser.parse_args()
    tokens = matched_tokens(args.corpus, args.store)
    long = tokens[tokens["long"]]
    withdrawn = long["withdrawn"]
    print(
        f"{len(long)} tokens in truth vowels >= 50 ms; withdrawn as overlap: "
        f"{int(withdrawn.sum())} "
        f"({int((withdrawn & long['truly_overlapped']).sum())} truly overlapped); truly "
        f"overlapped and measured: {int((~withdrawn & long['truly_overlapped']).sum())}"
    )
    measured = long[np.isfinite(long["f1_error"])]
    print(summary(measured.assign(all="all"), ["all"]).to_string())
    for by in (
        ["kind"],
        ["kind", "right_speaker"],
        ["kind", "truly_overlapped"],
        ["kind", "backchannel"],
    ):
        print(summary(measured, by).to_string())


if __name__ == "__main__":
    main()
