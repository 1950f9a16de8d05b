"""Each recording's condition for ``speech-profile check``: decoded block by block and
measured by :mod:`features.conditions` (the same estimates the ``recordings`` table
gets from ``extract``, there computed on the first pass's blocks)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from corpora.audio import iter_blocks
from corpora.corpus import Recording
from features.conditions import CONDITION_COLUMNS, ConditionAccumulator, condition_flags
from features.frames import HOP_S
from features.tracks import intensity_db


def measure_conditions(path, *, sr: int = 16000, block_s: float = 60.0,
                       hop_s: float = HOP_S) -> dict[str, float]:
    """The five condition estimates of one audio file (or of a
    :class:`~corpora.corpus.Recording`, all its files on one timeline), decoded at
    ``sr`` in blocks of ``block_s`` (constant memory), its level track stitched
    from the blocks."""
    accumulator = ConditionAccumulator(sr)
    hop_n = round(hop_s * sr)
    block_s = max(1, round(block_s * sr) // hop_n) * hop_n / sr  # whole hops per block
    levels = []
    blocks = (path.iter_blocks(block_s=block_s, sr=sr, mono=True)
              if isinstance(path, Recording) else iter_blocks(path, block_s=block_s, sr=sr,
                                                                mono=True))
    current = next(blocks, None)
    while current is not None:
        upcoming = next(blocks, None)
        accumulator.update(current)
        level = intensity_db(current, sr, hop_s=hop_s)
        levels.append(level if upcoming is None else level[: current.size // hop_n])
        current = upcoming
    level = np.concatenate(levels) if levels else np.zeros(0)
    return accumulator.result(level, hop_s=hop_s)


def condition_table(recordings: Iterable[Recording], *, sr: int = 16000,
                    progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """One row per recording: recording_id, the estimates, and ``flags`` (comma-joined
    :func:`features.conditions.condition_flags`). A file that fails to decode gets NaN
    estimates and its error in ``flags`` (``check`` lists it as a problem already)."""
    rows = []
    for recording in recordings:
        try:
            values = measure_conditions(recording, sr=sr)
            flags = ", ".join(condition_flags(values))
        except Exception as e:  # one bad file must not stop the summary of the others
            values, flags = dict.fromkeys(CONDITION_COLUMNS, np.nan), f"error: {e}"
        rows.append({"recording_id": recording.recording_id, **values, "flags": flags})
        if progress is not None:
            progress(recording.recording_id)
    return pd.DataFrame(rows, columns=["recording_id", *CONDITION_COLUMNS, "flags"])


def _families(condition: str) -> set[str]:
    """``"opus=8"`` -> {"opus"}; a preset (``"webconf"``) -> the conditions it applies."""
    from corpora.synth.conditions import PRESETS

    name = condition.partition("=")[0]
    return set(PRESETS[name]) if name in PRESETS else {name}


def condition_caveats(recordings: pd.DataFrame, specs: Iterable | None = None) -> dict[str, str]:
    """Feature name -> a warning, for each registry feature biased by a condition that some
    of the corpus's recordings show (their :data:`features.conditions.CONDITION_FLAGS`).

    Parameters
    ----------
    recordings : pd.DataFrame
        The store's ``recordings`` table (with the condition columns; a store written
        before them gives no caveats).
    specs : iterable of FeatureSpec, optional
        Default: ``speech.schema.REGISTRY`` (``biased_by`` from
        ``features/condition_bias.csv``).
    """
    from features.conditions import CONDITION_FLAGS
    from speech.schema import REGISTRY

    if recordings is None or recordings.empty or not set(CONDITION_COLUMNS) <= set(recordings):
        return {}
    flags = recordings[list(CONDITION_COLUMNS)].apply(
        lambda r: condition_flags(r.to_dict()), axis=1)
    shown = {flag: int(flags.map(lambda f, flag=flag: flag in f).sum())
             for flag in CONDITION_FLAGS}
    out = {}
    for spec in REGISTRY if specs is None else specs:
        reasons = []
        for flag, n in shown.items():
            families = set(CONDITION_FLAGS[flag][3])
            matched = [c for c in spec.biased_by if n and _families(c) & families]
            if matched:
                reasons.append(f"{n} of {len(recordings)} recordings are {flag.replace('_', ' ')}"
                               f" and {spec.name} is biased by {', '.join(matched)}")
        if reasons:
            out[spec.name] = "; ".join(reasons) + " (scripts/degradation.py)"
    return out
