"""Pairwise clustering metrics for the matching benchmark.

A clustering is scored by the pairs of records it puts together:

* predicted pairs  = pairs of records that share a predicted cluster
* true pairs       = pairs of records that share a true entity
* true positives   = pairs that share both

Nothing enumerates pairs: with the contingency table n_ij (records in
predicted cluster i and true entity j), a_i = sum_j n_ij and b_j = sum_i n_ij,

    TP         = sum_ij C(n_ij, 2)
    predicted  = sum_i  C(a_i, 2)
    true       = sum_j  C(b_j, 2)

so the cost is one group-by over the records, whatever the cluster sizes.

Conventions: precision is 1.0 when nothing was predicted to match (no
predicted pair can be wrong), recall is 1.0 when there is no true pair, and F1
is 0.0 when precision + recall is 0.

Run ``python tests/bench/metrics.py`` for a self-check on hand-made examples.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class PairwiseScores:
    precision: float
    recall: float
    f1: float
    true_positive_pairs: int
    predicted_pairs: int
    true_pairs: int
    n_records: int
    n_predicted_clusters: int
    n_true_clusters: int

    @property
    def false_positive_pairs(self) -> int:
        return self.predicted_pairs - self.true_positive_pairs

    @property
    def false_negative_pairs(self) -> int:
        return self.true_pairs - self.true_positive_pairs

    def as_dict(self) -> dict:
        d = asdict(self)
        d["false_positive_pairs"] = self.false_positive_pairs
        d["false_negative_pairs"] = self.false_negative_pairs
        return d


def _pairs(counts: np.ndarray) -> int:
    c = counts.astype(np.int64)
    return int((c * (c - 1) // 2).sum())


def _codes(labels: Sequence[Hashable] | np.ndarray) -> np.ndarray:
    # np.unique(return_inverse) gives dense integer codes for any sortable labels;
    # labels are normalised to str so mixed int/str inputs still sort.
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iu":
        arr = arr.astype(str)
    _, inv = np.unique(arr, return_inverse=True)
    return inv.astype(np.int64).ravel()


def pairwise_scores(
    predicted: Sequence[Hashable] | np.ndarray, truth: Sequence[Hashable] | np.ndarray
) -> PairwiseScores:
    """Score a predicted clustering against the true one.

    ``predicted[k]`` and ``truth[k]`` are the cluster labels of record k.
    """
    if len(predicted) != len(truth):
        raise ValueError(f"length mismatch: {len(predicted)} predicted vs {len(truth)} true")
    n = len(truth)
    if n == 0:
        return PairwiseScores(1.0, 1.0, 1.0, 0, 0, 0, 0, 0, 0)
    p = _codes(predicted)
    t = _codes(truth)
    n_pred = int(p.max()) + 1
    n_true = int(t.max()) + 1
    # Cells of the contingency table: one integer key per (predicted, true) pair.
    cell_keys = p * n_true + t
    _, cell_counts = np.unique(cell_keys, return_counts=True)
    tp = _pairs(cell_counts)
    predicted_pairs = _pairs(np.bincount(p))
    true_pairs = _pairs(np.bincount(t))
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if (precision + recall) else 0.0
    return PairwiseScores(
        precision=precision,
        recall=recall,
        f1=f1,
        true_positive_pairs=tp,
        predicted_pairs=predicted_pairs,
        true_pairs=true_pairs,
        n_records=n,
        n_predicted_clusters=n_pred,
        n_true_clusters=n_true,
    )


def score_output(out_csv: str, truth_csv: str) -> tuple[PairwiseScores, dict]:
    """Score an engine's OUT.csv (source_system, source_id, golden_id) against
    truth.csv (source_system, source_id, entity_id).

    Input rows missing from the output count as singletons (each its own
    cluster); output rows that are not in the input, or duplicated keys, are
    reported. Returns (scores, diagnostics).
    """
    import pandas as pd

    key = ["source_system", "source_id"]
    truth = pd.read_csv(truth_csv, dtype=str, keep_default_na=False)
    out = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    missing_cols = {"source_system", "source_id", "golden_id"} - set(out.columns)
    if missing_cols:
        raise ValueError(f"{out_csv}: missing columns {sorted(missing_cols)}")
    diag = {
        "output_rows": len(out),
        "duplicate_keys_in_output": int(out.duplicated(key).sum()),
    }
    out = out.drop_duplicates(key, keep="first")
    merged = truth.merge(out[key + ["golden_id"]], on=key, how="left", indicator=True)
    diag["unknown_keys_in_output"] = int(len(out) - (merged["_merge"] == "both").sum())
    missing = merged["golden_id"].isna() | (merged["golden_id"] == "")
    diag["input_rows_missing_from_output"] = int(missing.sum())
    pred = merged["golden_id"].astype(object)
    # A record without a golden id is its own cluster.
    pred[missing] = "__singleton__" + merged.loc[missing, "source_system"] + "|" + merged.loc[missing, "source_id"]
    scores = pairwise_scores(pred.astype(str).to_numpy(), merged["entity_id"].to_numpy())
    return scores, diag


def _self_check() -> None:
    def close(a: float, b: float) -> bool:
        return abs(a - b) < 1e-12

    # Perfect clustering.
    s = pairwise_scores(["x", "x", "y", "z", "z", "z"], [1, 1, 2, 3, 3, 3])
    assert (s.true_pairs, s.predicted_pairs, s.true_positive_pairs) == (4, 4, 4)
    assert s.precision == s.recall == s.f1 == 1.0

    # Everything merged into one cluster: 6 records -> 15 predicted pairs, 4 true.
    s = pairwise_scores(["a"] * 6, [1, 1, 2, 3, 3, 3])
    assert (s.predicted_pairs, s.true_positive_pairs) == (15, 4)
    assert close(s.precision, 4 / 15) and s.recall == 1.0

    # All singletons: no predicted pair.
    s = pairwise_scores(list(range(6)), [1, 1, 2, 3, 3, 3])
    assert s.predicted_pairs == 0 and s.precision == 1.0 and s.recall == 0.0 and s.f1 == 0.0

    # Hand example: truth {A,B,C} {D,E}; prediction {A,B} {C,D,E}.
    # true pairs AB AC BC DE = 4; predicted AB CD CE DE = 4; TP AB DE = 2.
    s = pairwise_scores(["p", "p", "q", "q", "q"], ["t1", "t1", "t1", "t2", "t2"])
    assert (s.true_pairs, s.predicted_pairs, s.true_positive_pairs) == (4, 4, 2)
    assert close(s.precision, 0.5) and close(s.recall, 0.5) and close(s.f1, 0.5)

    # Brute force on random labels.
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 40))
        pred = rng.integers(0, 6, n)
        true = rng.integers(0, 6, n)
        tp = fp = fn = 0
        for i in range(n):
            for j in range(i + 1, n):
                sp, st = pred[i] == pred[j], true[i] == true[j]
                tp += sp and st
                fp += sp and not st
                fn += st and not sp
        s = pairwise_scores(pred, true)
        assert (s.true_positive_pairs, s.false_positive_pairs, s.false_negative_pairs) == (
            tp,
            fp,
            fn,
        )
    print("metrics self-check: ok")


if __name__ == "__main__":
    _self_check()
