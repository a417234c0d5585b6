"""Pipeline YAML: the bundled default loads; mistakes are named with file, line and field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hub.config.loader import ConfigError
from hub.receivables.pipeline import check_files, parse
from hub.settings import BUNDLED_MAPPINGS

DEFAULT = (BUNDLED_MAPPINGS / "pipelines" / "default.yaml").read_text()


def test_the_default_pipeline_is_signing_delivery_acceptance_with_30_60_10():
    pipeline = parse(DEFAULT, "default.yaml")
    assert [s.code for s in pipeline.ordered_stages()] == ["signing", "delivery", "acceptance"]
    plan = pipeline.plans[pipeline.pick_plan({"order_type": None})]
    assert [(i.stage, i.percent, i.remainder) for i in plan.instalments] == [
        ("signing", Decimal(30), False),
        ("delivery", Decimal(60), False),
        ("acceptance", None, True),
    ]
    assert pipeline.pick_plan({"order_type": "stock"}) == "on_delivery"
    assert check_files(BUNDLED_MAPPINGS) == []


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    "old, new, field, message, at",
    [
        (
            "{stage: delivery, percent: 60",
            "{stage: delivry, percent: 60",
            "plans.stages_30_60_10.instalments.1.stage",
            "unknown stage 'delivry'",
            "{stage: delivry",
        ),
        (
            "{stage: signing, percent: 30",
            "{stage: signing, percent: 50",
            "plans.stages_30_60_10.instalments",
            "percentages add up to 110",
            "    instalments:",
        ),
        (
            "{stage: signing, percent: 30, due: {days: 14}",
            "{stage: signing, percent: 30, fixed: 5, due: {days: 14}",
            "plans.stages_30_60_10.instalments.0",
            "exactly one of percent, fixed, remainder",
            "fixed: 5",
        ),
        (
            "      - shipment_status: [shipped]",
            "      - shipment_status: [sent]",
            "stages.1.reached_by.0.shipment_status.0",
            "Input should be",
            "[sent]",
        ),
        (
            "    plan: on_delivery",
            "    plan: on_delivry",
            "assignment.0.plan",
            "unknown plan 'on_delivry'",
            "on_delivry",
        ),
        ("  - {level: 2, after_days: 15", "  - {level: 2, after_days: 0", "alerts", "rising after_days", "alerts:"),
    ],
)
def test_a_mistake_names_file_line_and_field(old, new, field, message, at):
    assert old in DEFAULT
    text = DEFAULT.replace(old, new, 1)
    with pytest.raises(ConfigError) as caught:
        parse(text, "pipelines/default.yaml")
    [problem] = [p for p in caught.value.problems if p[1] == field]
    assert message in problem[2]
    assert problem[0] == _line(text, at)
    assert f"pipelines/default.yaml:{problem[0]}: {field}: {problem[2]}" in str(caught.value)


def test_a_missing_required_field_and_bad_yaml(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"x.yaml:1: stages: Field required"):
        parse(
            "name: p\nplans: {a: {name: A, instalments: [{stage: s, remainder: true, due: {days: 1}}]}}\n"
            "assignment: [{plan: a}]\n",
            "x.yaml",
        )
    with pytest.raises(ConfigError, match=r"y.yaml:3: \(file\): not valid YAML"):
        parse("name: p\nstages: [\n", "y.yaml")
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "bad.yaml").write_text(DEFAULT.replace("percent: 60", "percent: 0"))
    [problem] = check_files(tmp_path)
    assert problem.startswith(f"{tmp_path / 'pipelines' / 'bad.yaml'}:{_line(DEFAULT, 'percent: 60')}: ")
    assert "instalments.1.percent" in problem
