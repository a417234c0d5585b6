"""Data quality of the customer master: findings per system and reason, the records behind
them, and a CSV for the source system's owners (hub.master.quality)."""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from hub.api.deps import ItRole, SessionDep
from hub.master import quality

router = APIRouter(prefix="/api/v1/master/quality", tags=["customers"])


@router.get("", response_model=list[quality.FindingCount])
def finding_counts(
    session: SessionDep,
    _token: ItRole,
    system: Annotated[str | None, Query(max_length=80)] = None,
) -> list[quality.FindingCount]:
    """Open data-quality findings per system, field and reason (the records are in the
    master all the same; the field is left out of matching and survivorship)."""
    return quality.counts(session, system)


@router.get("/findings", response_model=list[quality.FindingRow])
def finding_list(
    session: SessionDep,
    _token: ItRole,
    system: Annotated[str | None, Query(max_length=80)] = None,
    reason: Annotated[str | None, Query(max_length=200)] = None,
    field: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[quality.FindingRow]:
    return quality.findings(session, system, reason, field, limit, offset)


@router.get(
    "/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The findings as CSV"}},
)
def finding_export(
    session: SessionDep,
    _token: ItRole,
    system: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    """Every finding as CSV (spreadsheet-safe), for the owners of the source system to fix."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in quality.export_rows(session, system):
        writer.writerow([quality.safe_cell(v) for v in row])
    # a header is latin-1: any other character of the system's name (and quotes) become "_"
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"customer-findings-{system or 'all'}") + ".csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
