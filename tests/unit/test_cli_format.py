"""The CLI speaks to people: an instalment is a sentence, not a Python dict (issue 16)."""

from hub.documents.cli import describe_instalment


def test_the_next_instalment_reads_as_a_sentence():
    line = describe_instalment(
        {"stage": "delivery", "amount": "1200.00", "due_date": "2026-12-31", "outstanding": "1200.00", "status": "due"},
        "EUR",
    )
    assert line == "delivery: 1,200.00 EUR due 2026-12-31 (due)"
    assert "{" not in describe_instalment({"due_date": "2026-10-20", "amount": "126.1"}, "EUR")
    assert describe_instalment(None, "EUR") == "nothing due"
