"""Are the synthetic corpus's planted effects found, and the null control not?

Usage::

    python scripts/planted_effects.py STORE [STORE ...] [--permutations B] [--seed N]

For each store (built by ``speech-profile extract`` from ``speech-profile synth``),
runs the reference analysis (profiles, features, PCA + Ward clustering,
associations with permutation p-values and BH q-values over the whole table, as
``speech-profile fit`` does) and prints the q-value of each planted effect and
the smallest q-value of any test involving ``main_income`` (which has no effect).
Issue 6's target: every planted effect at q < 0.01 in at least 4 of 5 seeds;
main_income at q < 0.05 in at most 1 of 5.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from speech.fit import FitInputError, reference_analysis
from speech.store import Store

PLANTED = (
    ("vowel_reduction_index", "education"),
    ("articulation_rate_syll_s", "region"),
    ("f0_median_st", "gender"),
    ("coda_s_aspirated_ratio", "region"),
)
NULL = "main_income"


def planted_q(store: Path, *, n_permutations: int, seed: int) -> dict[str, float]:
    st = Store(store)
    analysis = reference_analysis(st.read_table("speakers"), st.read_table("vowels"),
                                  random_state=seed, n_permutations=n_permutations)
    table = analysis.associations
    out: dict[str, float] = {"n_speakers": float(len(analysis.features)),
                             "n_tests": float(len(table))}
    for feature, variable in PLANTED:
        hit = table[(table["feature"] == feature) & (table["variable"] == variable)]
        out[f"{feature} x {variable}"] = float(hit["q_value"].iloc[0]) if len(hit) else float(
            "nan")
    null = table[table["variable"] == NULL]
    out[f"min q {NULL}"] = float(null["q_value"].min()) if len(null) else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stores", nargs="+", type=Path)
    parser.add_argument("--permutations", type=int, default=9999)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = {}
    for store in args.stores:
        try:
            rows[store.name] = planted_q(store, n_permutations=args.permutations, seed=args.seed)
        except FitInputError as e:  # e.g. a store still being extracted: say so, go on
            print(f"{store}: skipped: {e}")
    if not rows:
        return 2
    table = pd.DataFrame(rows).T
    table[["n_speakers", "n_tests"]] = table[["n_speakers", "n_tests"]].astype(int)
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:.2g}".format):
        print(table.to_string())
    planted = [f"{f} x {v}" for f, v in PLANTED]
    found = (table[planted] < 0.01).sum()
    print(f"\nplanted effects at q < 0.01 (target: in >= 4 of 5 seeds), of {len(table)} stores:")
    for name, count in found.items():
        print(f"  {name}: {count}")
    false = int((table[f"min q {NULL}"] < 0.05).sum())
    print(f"{NULL} at q < 0.05 (target: in <= 1 of 5 seeds): {false} of {len(table)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
