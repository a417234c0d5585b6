"""The pipeline editor for finance: each pipeline's YAML in a text box, checked before it is
saved (errors name the line and field), a preview of what the change means — plans, grace,
due days and alert levels that differ, and how many open orders run on the pipeline and on
which plan — and the version history (every saved version is kept; old ones can be read).

Saving goes through ``service.save_pipeline`` (as ``PUT /api/v1/receivables/pipelines/{name}``),
so new orders take the new version while orders under way keep theirs until moved (the API's
``…/move``). Forms are CSRF-checked POSTs; a save answers 303 (POST-redirect-GET)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.api.deps import SessionDep, SettingsDep
from hub.auth.models import Role
from hub.config.loader import ConfigError
from hub.receivables import service
from hub.receivables.models import PipelineVersion, ReceivableOrder
from hub.receivables.pipeline import Pipeline, current_versions, latest, load_version, parse, sync_files
from hub.receivables.plans import open_orders_of
from hub.web.app import render
from hub.web.auth import PageNotFound, PageUser, page_user

router = APIRouter(include_in_schema=False)
Finance = Annotated[PageUser, Depends(page_user(Role.finance))]
PAGE = "/finance/pipelines"
Text = Annotated[str, Form(max_length=200_000)]


def _templates(plan: Any) -> list[str]:
    out = []
    for t in plan.instalments:
        amount = f"{t.percent} %" if t.percent is not None else (f"{t.fixed} fixed" if t.fixed else "the remainder")
        eom = " after month end" if t.due.end_of_month else ""
        out.append(f"{t.stage}: {amount}, due {t.due.days} days{eom}, {t.grace_days} grace days")
    return out


def changes(old: Pipeline | None, new: Pipeline) -> list[str]:
    """What differs between the current version and the edited text, in words."""
    if old is None:
        return [f"a new pipeline {new.name!r}"]
    out: list[str] = []
    old_stages, new_stages = {s.code for s in old.stages}, {s.code for s in new.stages}
    out += [f"stage {c} added" for c in sorted(new_stages - old_stages)]
    out += [f"stage {c} removed" for c in sorted(old_stages - new_stages)]
    for key in sorted(set(old.plans) | set(new.plans)):
        if key not in new.plans:
            out.append(f"plan {key} removed")
        elif key not in old.plans:
            out.append(f"plan {key} added: " + "; ".join(_templates(new.plans[key])))
        else:
            before, after = _templates(old.plans[key]), _templates(new.plans[key])
            out += [f"plan {key}: {a} (was {b})" for a, b in zip(after, before, strict=False) if a != b]
            out += [f"plan {key}: {a} added" for a in after[len(before) :]]
            out += [f"plan {key}: {b} removed" for b in before[len(after) :]]
    levels_old = {a.level: a for a in old.alerts}
    for level in sorted(set(levels_old) | {a.level for a in new.alerts}):
        a_new = next((a for a in new.alerts if a.level == level), None)
        a_old = levels_old.get(level)
        if a_new is None:
            out.append(f"level {level} removed")
        elif a_old is None or a_old != a_new:
            hold = ", credit hold" if a_new.credit_hold else ""
            was = f" (was from {a_old.after_days} days)" if a_old and a_old.after_days != a_new.after_days else ""
            out.append(f"level {level}: from {a_new.after_days} days late{hold}{was}")
    if old.ageing_buckets != new.ageing_buckets:
        out.append(f"ageing buckets {new.ageing_buckets} (was {old.ageing_buckets})")
    if old.assignment != new.assignment:
        out.append("plan assignment rules changed (affects new orders)")
    return out


def open_orders(session: Session, name: str, new: Pipeline) -> list[dict[str, Any]]:
    """Open orders on the pipeline per plan: they keep their version until moved; a plan the
    edit removes could not take them."""
    ids = open_orders_of(session, name)
    if not ids:
        return []
    rows = session.execute(
        select(ReceivableOrder.plan, func.count())
        .where(ReceivableOrder.order_id.in_(ids))
        .group_by(ReceivableOrder.plan)
        .order_by(ReceivableOrder.plan)
    )
    return [{"plan": plan, "orders": n, "plan_kept": plan in new.plans} for plan, n in rows]


def _page(
    request: Request,
    session: Session,
    user: PageUser,
    name: str | None,
    text: str | None = None,
    version: int | None = None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    pipelines = current_versions(session)
    name = name or (pipelines[0].pipeline if pipelines else None)
    history = (
        list(
            session.scalars(
                select(PipelineVersion)
                .where(PipelineVersion.pipeline == name)
                .order_by(PipelineVersion.version.desc())
                .limit(50)
            )
        )
        if name
        else []
    )
    behind = 0  # open orders on an older version than the newest: finance may move them
    if history:
        ids = open_orders_of(session, history[0].pipeline)
        behind = (
            (
                session.scalar(
                    select(func.count())
                    .select_from(ReceivableOrder)
                    .where(ReceivableOrder.order_id.in_(ids), ReceivableOrder.pipeline_version_id != history[0].id)
                )
                or 0
            )
            if ids
            else 0
        )
    shown = next((v for v in history if v.version == version), None) if version else (history[0] if history else None)
    if version and shown is None:
        raise PageNotFound(f"pipeline {name!r} has no version {version}", user)
    return render(
        request,
        "pipelines.html",
        user,
        status_code=status_code,
        pipelines=pipelines,
        pipeline_name=name,
        behind=behind,
        history=history,
        shown=shown,
        text=text if text is not None else (shown.source if shown else ""),
        **extra,
    )


@router.get(PAGE, response_class=HTMLResponse)
def pipelines_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: Finance,
    name: Annotated[str | None, Query(max_length=80)] = None,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    saved: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    moved: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
) -> HTMLResponse:
    sync_files(session, settings.mappings_dir)  # an edited file shows as a new version, as on the API
    return _page(request, session, user, name, version=version, saved=saved, moved=moved)


@router.post(PAGE + "/preview", response_class=HTMLResponse)
def preview(request: Request, session: SessionDep, user: Finance, text: Text) -> HTMLResponse:
    """Check the text and say what it would change; nothing is stored."""
    try:
        new = parse(text, "the edited text")
    except ConfigError as exc:
        return _page(request, session, user, None, text, status_code=422, problems=exc.problems)
    current = latest(session, new.name)
    old = load_version(session, current.id) if current else None
    return _page(
        request,
        session,
        user,
        new.name,
        text,
        preview={
            "pipeline": new.name,
            "changes": changes(old, new),
            "open_orders": open_orders(session, new.name, new),
            "next_version": (current.version + 1) if current else 1,
        },
    )


@router.post(PAGE + "/save", response_model=None)
def save(request: Request, session: SessionDep, user: Finance, text: Text) -> Response:
    try:
        info = service.save_pipeline(session, text, user.name)
    except ConfigError as exc:
        return _page(request, session, user, None, text, status_code=422, problems=exc.problems)
    query = urlencode({"name": info["pipeline"], "saved": info["version"]})
    return RedirectResponse(f"{PAGE}?{query}", status.HTTP_303_SEE_OTHER)


@router.post(PAGE + "/move")
def move(session: SessionDep, user: Finance, name: Annotated[str, Form(max_length=80)]) -> RedirectResponse:
    """Open orders of the pipeline onto its newest version (their plans laid out again)."""
    try:
        result = service.move_to_latest(session, name, None)
    except service.NotFound as exc:
        raise PageNotFound(str(exc), user) from None
    query = urlencode({"name": name, "moved": result["moved"]})
    return RedirectResponse(f"{PAGE}?{query}", status.HTTP_303_SEE_OTHER)
