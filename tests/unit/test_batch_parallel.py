"""The batch path on every core decides exactly as records matched one by one would be.

``match_batch`` computes candidates and pair scores in worker processes and decides in order;
the reference here is the live engine itself: ``Matcher.decide`` on each record against what
came before, looked up in the in-memory index. A difference in a single label is a
different customer master, so the labels must be equal, not merely score alike.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hub.master.batch import match_batch
from hub.master.index import MemoryIndex
from hub.master.keys import blocking_keys, prepare
from hub.master.matching import Candidate, Matcher
from hub.master.normalise import normalise_customer
from hub.master.rules import match_rules
from hub.settings import BUNDLED_MAPPINGS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import customer_data  # noqa: E402

FIELDS = ("name", "tax_id", "email", "phone", "street", "city", "postcode", "country")


def _one_by_one(records, rules) -> list[int]:
    matcher = Matcher(rules)
    index = MemoryIndex(rules.blocking.max_block_size, rules.blocking.max_candidates)
    merged: list[int] = []

    def alive(g: int) -> int:
        while merged[g] != g:
            g = merged[g]
        return g

    labels = []
    for rec in records:
        rec = prepare(rec)
        keys = blocking_keys(rec)
        cands = [Candidate(c.source_id, alive(c.golden_id), c.record) for c in index.candidates(keys)]
        decision = matcher.decide(rec, cands)
        if decision.golden_id is None:
            golden = len(merged)
            merged.append(golden)
        else:
            golden = decision.golden_id
            for other in decision.bridged:
                merged[alive(other)] = golden
        index.add(rec, golden, keys)
        labels.append(golden)
    return [alive(g) for g in labels]


@pytest.fixture(scope="module")
def generated():
    frame = customer_data.generate(6_000, 7)
    return [normalise_customer({f: getattr(r, f) or None for f in FIELDS}) for r in frame.itertuples(index=False)]


def test_parallel_batch_labels_equal_one_by_one_decisions(generated):
    rules = match_rules(BUNDLED_MAPPINGS)
    reference = _one_by_one(generated, rules)
    in_process = match_batch(generated, rules, workers=1)
    on_two_cores = match_batch(generated, rules, workers=2)
    assert len(set(reference)) < 0.8 * len(reference)  # the set has duplicates to find
    assert in_process == reference
    assert on_two_cores == reference


def test_a_score_that_can_reach_the_link_threshold_is_the_exact_score(generated):
    """The batch workers skip the name comparison of pairs that cannot reach the link
    threshold (``Matcher.score_reaching``): every pair's answer is its exact score when that
    reaches the threshold, and below the threshold when it does not."""
    rules = match_rules(BUNDLED_MAPPINGS)
    matcher = Matcher(rules)
    link = rules.thresholds.link
    prepared = [prepare(r) for r in generated]
    index = MemoryIndex(rules.blocking.max_block_size, rules.blocking.max_candidates)
    reaching = skipped = 0
    for sid, rec in enumerate(prepared):
        keys = blocking_keys(rec)
        for cand in index.candidates(keys):
            exact = matcher.score(rec, cand.record)
            answer = matcher.score_reaching(rec, cand.record, link)
            if exact >= link:
                assert answer == exact
                reaching += 1
            else:
                assert answer < link
                skipped += answer != exact
        index.add(rec, sid, keys)
    assert reaching > 1_000 and skipped > 1_000  # both kinds of pair are in the set
