"""Fast checks of the benchmark's pairwise metrics (tests/bench/metrics.py).

tests/bench is kept out of the default run, so the module is imported by path.
"""

import importlib.util
import itertools
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "bench" / "metrics.py"
_spec = importlib.util.spec_from_file_location("bench_metrics", _PATH)
metrics = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_metrics", metrics)  # dataclasses look the module up
_spec.loader.exec_module(metrics)


def test_hand_example():
    # truth {A,B,C} {D,E}; prediction {A,B} {C,D,E}
    s = metrics.pairwise_scores(["p", "p", "q", "q", "q"], ["t1", "t1", "t1", "t2", "t2"])
    assert (s.true_pairs, s.predicted_pairs, s.true_positive_pairs) == (4, 4, 2)
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(0.5)


def test_perfect_and_degenerate():
    truth = [1, 1, 2, 3, 3, 3]
    s = metrics.pairwise_scores(["x", "x", "y", "z", "z", "z"], truth)
    assert s.precision == s.recall == s.f1 == 1.0
    s = metrics.pairwise_scores(["a"] * 6, truth)
    assert s.predicted_pairs == 15 and s.precision == pytest.approx(4 / 15) and s.recall == 1.0
    s = metrics.pairwise_scores(list(range(6)), truth)
    assert s.predicted_pairs == 0 and s.precision == 1.0 and s.recall == 0.0 and s.f1 == 0.0


def test_matches_brute_force():
    pred = [0, 0, 1, 1, 2, 0, 2, 3, 3, 1]
    true = [5, 5, 5, 6, 6, 7, 7, 7, 8, 8]
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(pred)), 2):
        sp, st = pred[i] == pred[j], true[i] == true[j]
        tp += sp and st
        fp += sp and not st
        fn += st and not sp
    s = metrics.pairwise_scores(pred, true)
    assert (s.true_positive_pairs, s.false_positive_pairs, s.false_negative_pairs) == (tp, fp, fn)


def test_score_output_treats_missing_rows_as_singletons(tmp_path):
    truth = tmp_path / "truth.csv"
    truth.write_text("source_system,source_id,entity_id\nerp,1,E1\ncrm,1,E1\nfinance,1,E1\ncrm,2,E2\n")
    out = tmp_path / "out.csv"
    out.write_text("source_system,source_id,golden_id\nerp,1,G1\ncrm,1,G1\ncrm,2,G2\n")
    s, diag = metrics.score_output(str(out), str(truth))
    assert diag["input_rows_missing_from_output"] == 1
    assert (s.true_pairs, s.predicted_pairs, s.true_positive_pairs) == (3, 1, 1)
