"""Trivial matcher for the benchmark: records match when their normalised
names are equal (within a country).

    python tests/bench/baseline_exact.py INPUT.csv --out OUT.csv

Same contract as ``hub master match``. Normalisation: Unicode NFKC, case fold,
every character that is not a letter or digit removed. It is a floor for the
real engines, and a stand-in for the hub while its command is not there.
"""

from __future__ import annotations

import argparse
import csv
import unicodedata


def normalise(name: str) -> str:
    s = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in s if ch.isalnum())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    golden: dict[tuple[str, str], str] = {}
    with (
        open(args.input, newline="", encoding="utf-8") as fin,
        open(args.out, "w", newline="", encoding="utf-8") as fout,
    ):
        w = csv.writer(fout)
        w.writerow(["source_system", "source_id", "golden_id"])
        for row in csv.DictReader(fin):
            key = (row["country"], normalise(row["name"]))
            if not key[1]:  # no name: a cluster of its own
                key = ("", row["source_system"] + "|" + row["source_id"])
            gid = golden.setdefault(key, f"G{len(golden) + 1}")
            w.writerow([row["source_system"], row["source_id"], gid])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
