"""Where an engine goes wrong on a benchmark data set.

    python tests/bench/errors.py DATA_DIR OUT.csv [--examples 8] [--seed 1]

DATA_DIR is one of bench_match.py's data directories (input.csv, truth.csv,
entities.csv), OUT.csv an engine's output there (e.g. out-hub.csv). Prints the
false-positive pairs (merged, different entities) by country and by kind —
designed hard negatives (namesake / sibling / branch of the same base company)
versus unrelated companies, and by the entity kinds and traits involved
(entities.csv: shared phone, shared address, parent's tax id, cross-script
name, ...) — and the false-negative pairs (same entity, split) by country, by
the systems involved and by the entity's kind and traits, each with a few
example record pairs.
"""

from __future__ import annotations

import argparse
import itertools
import random
from collections import Counter
from pathlib import Path

import pandas as pd

COLS = ["source_system", "name", "tax_id", "email", "phone", "street", "city", "postcode"]


def load(data_dir: Path, out_csv: Path) -> pd.DataFrame:
    key = ["source_system", "source_id"]
    inp = pd.read_csv(data_dir / "input.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(data_dir / "truth.csv", dtype=str, keep_default_na=False)
    out = pd.read_csv(out_csv, dtype=str, keep_default_na=False).drop_duplicates(key)
    m = inp.merge(truth, on=key).merge(out[key + ["golden_id"]], on=key, how="left")
    missing = m["golden_id"].isna() | (m["golden_id"] == "")
    m.loc[missing, "golden_id"] = "__missing__" + m.loc[missing, "source_system"] + m.loc[missing, "source_id"]
    return m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("out_csv", type=Path)
    ap.add_argument("--examples", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    m = load(args.data_dir, args.out_csv)
    ents_path = args.data_dir / "entities.csv"
    related: dict[str, str] = {}
    kind_of: dict[str, str] = {}
    if ents_path.exists():
        ents = pd.read_csv(ents_path, dtype=str, keep_default_na=False)
        related = {e: (r or e) for e, r in zip(ents["entity_id"], ents["related_to"])}
        traits = ents["traits"] if "traits" in ents.columns else [""] * len(ents)
        kind_of = {e: k + (f" [{t}]" if t else "") for e, k, t in zip(ents["entity_id"], ents["kind"], traits)}
    recs = m.to_dict("records")

    fp_kind, fp_country, fp_examples, fp_traits = Counter(), Counter(), [], Counter()
    for _, idx in m.groupby("golden_id").indices.items():
        if len(idx) < 2:
            continue
        for i, j in itertools.combinations(idx, 2):
            a, b = recs[i], recs[j]
            if a["entity_id"] == b["entity_id"]:
                continue
            same_group = related and related.get(a["entity_id"]) == related.get(b["entity_id"])
            kind = "hard negative (namesake/sibling)" if same_group else "unrelated companies"
            fp_kind[kind] += 1
            fp_country[a["country"]] += 1
            if kind_of:
                fp_traits[" + ".join(sorted((kind_of[a["entity_id"]], kind_of[b["entity_id"]])))] += 1
            fp_examples.append((kind, a, b))

    fn_country, fn_systems, fn_examples, fn_traits = Counter(), Counter(), [], Counter()
    for _, idx in m.groupby("entity_id").indices.items():
        if len(idx) < 2:
            continue
        for i, j in itertools.combinations(idx, 2):
            a, b = recs[i], recs[j]
            if a["golden_id"] != b["golden_id"]:
                fn_country[a["country"]] += 1
                fn_systems["-".join(sorted((a["source_system"], b["source_system"])))] += 1
                if kind_of:
                    fn_traits[kind_of[a["entity_id"]]] += 1
                fn_examples.append(("split", a, b))

    def show(title: str, counters: list[Counter], examples: list) -> None:
        total = sum(counters[0].values())
        print(f"\n== {title}: {total:,} pairs")
        for c in counters:
            print("   " + ", ".join(f"{k}: {v:,}" for k, v in c.most_common(20)))
        for kind, a, b in rng.sample(examples, min(args.examples, len(examples))):
            print(f"-- {kind}: {a['entity_id']} vs {b['entity_id']}")
            print(pd.DataFrame([a, b])[COLS].to_string(index=False))

    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 45)
    show("false positives (merged, different entities)", [fp_kind, fp_country, fp_traits], fp_examples)
    show("false negatives (same entity, split)", [fn_country, fn_systems, fn_traits], fn_examples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
