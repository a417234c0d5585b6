"""``hub customers`` and ``hub master``: the customer master from a terminal (look a customer
up, match a file in batch, data-quality findings, re-normalise after an upgrade). Thin commands
over the services of :mod:`hub.master`; the shared console helpers live in :mod:`hub.cli`,
imported inside each command because that module registers these."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.settings import get_settings
from hub.terminal import json_text, safe

customers_app = typer.Typer(help="The customer master.", no_args_is_help=True)
master_app = typer.Typer(help="Matching engine, batch mode.", no_args_is_help=True)


@customers_app.command("show")
def customers_show(
    customer_id: int | None = typer.Argument(None, help="Golden customer id."),
    system: str | None = typer.Option(None, help="Find by a system's id: the system…"),
    external_id: str | None = typer.Option(None, help="…and the record's id there."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One customer: golden fields with provenance and every linked source record."""
    from hub.cli import console, db_url, fail
    from hub.db import session_scope
    from hub.master import search
    from hub.master.models import GoldenCustomer
    from hub.master.views import customer_detail

    with session_scope(db_url()) as session:
        if customer_id is not None:
            golden = session.get(GoldenCustomer, customer_id)
        elif system and external_id:
            golden = search.by_external_id(session, system, external_id)
        else:
            fail("give a customer id, or --system and --external-id", 2)
        if golden is None:
            fail("no such customer", 1)
        detail = customer_detail(session, golden)
    if as_json:
        print(json_text(detail))
        return
    table = Table("field", "value", "from", "rule", title=f"customer {detail['id']} ({safe(detail['status'])})")
    for field, info in detail["fields"].items():
        origin = f"{info.get('system', '')} {info.get('external_id', '')}".strip()
        table.add_row(safe(field), safe(info["value"]), safe(origin), safe(info.get("rule")))
    console.print(table)
    sources = Table("system", "external id", "name", "updated", "missing since", title="source records")
    for s in detail["sources"]:
        sources.add_row(
            safe(s["system"]),
            safe(s["external_id"]),
            safe(s["data"].get("name")),
            safe(s["source_updated_at"]),
            safe(s["missing_since"]),
        )
    console.print(sources)
    if detail["open_cases"]:
        cases = Table("case", "subject", "status", "priority", "opened", title="open service cases", style="red")
        for c in detail["open_cases"]:
            cases.add_row(*(safe(c[k]) for k in ("number", "subject", "status", "priority", "opened_on")))
        console.print(cases)


@customers_app.command("search")
def customers_search(
    name: str | None = typer.Option(None, help="Name, typed roughly."),
    tax_id: str | None = typer.Option(None),
    phone: str | None = typer.Option(None),
    email: str | None = typer.Option(None),
    country: str | None = typer.Option(None, help="Reads a national phone or tax id."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Find golden customers by name, tax id, phone or e-mail."""
    from hub.cli import console, db_url, err, fail
    from hub.db import session_scope
    from hub.master import lookup, search
    from hub.master.views import customer_summary

    with session_scope(db_url()) as session:
        try:
            if phone and not tax_id and not country:
                hits = lookup.by_phone_anywhere(session, phone)
            else:
                hits = search.find(session, name=name, tax_id=tax_id, phone=phone, email=email, country=country)
        except ValueError as exc:
            fail(str(exc), 2)
        rows = [{**customer_summary(h.golden), "score": round(h.score, 3)} for h in hits]
    if not rows:
        err.print("no customer found" + (f" with phone {safe(phone)}" if phone else ""))
    if as_json:
        print(json_text(rows))
        return
    table = Table("id", "name", "tax id", "city", "country", "score")
    for r in rows:
        table.add_row(
            str(r["id"]), safe(r["name"]), safe(r["tax_id"]), safe(r["city"]), safe(r["country"]), f"{r['score']:.2f}"
        )
    console.print(table)


@master_app.command("match")
def master_match(
    input_csv: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    out: Path = typer.Option(..., "--out", help="Output CSV: source_system, source_id, golden_id."),
) -> None:
    """Match a CSV of customer records with the live engine; one golden_id per input row."""
    from hub.cli import err, exit_without_teardown, fail, progress_bar
    from hub.master.batch import match_file

    settings = get_settings()
    with progress_bar() as progress:
        task = progress.add_task("matching", total=None)
        try:
            stats = match_file(
                input_csv,
                out,
                settings.mappings_dir,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        except ValueError as exc:
            fail(str(exc))
    err.print(
        f"{stats['records']} records -> {stats['golden']} golden customers "
        f"({stats['unusable']} without usable fields) in {stats['seconds']:.1f} s"
    )
    exit_without_teardown()


@master_app.command("quality")
def master_quality(
    system: Annotated[str | None, typer.Option(help="Only this system's findings.")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write every finding to this CSV.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The counts as JSON.")] = False,
) -> None:
    """Data-quality findings of the customer master: counts per system, field and reason.

    The records are in the master all the same; a field with a finding is left out of matching
    and survivorship until a corrected record arrives. ``--csv`` writes the records behind the
    counts for the source system's owners."""
    import csv as csv_module

    from hub.cli import console, db_url, err
    from hub.db import session_scope
    from hub.master import quality

    with session_scope(db_url()) as session:
        rows = quality.counts(session, system)
        table = Table("system", "field", "reason", "records", title="Customer data-quality findings")
        for row in rows:
            table.add_row(safe(row.system), safe(row.field), safe(row.reason), str(row.count))
        if not rows:
            err.print("no open findings" + (f" for system {safe(system)}" if system else ""))
        if as_json:
            print(
                json_text([{"system": r.system, "field": r.field, "reason": r.reason, "count": r.count} for r in rows])
            )
        elif rows:
            console.print(table)
        if csv_out is not None:
            with csv_out.open("w", newline="", encoding="utf-8") as handle:
                writer = csv_module.writer(handle)
                written = -1
                for values in quality.export_rows(session, system):
                    writer.writerow([quality.safe_cell(v) for v in values])
                    written += 1
            err.print(f"{written} findings written to {csv_out}")


@master_app.command("renormalise")
def master_renormalise(
    system: Annotated[str | None, typer.Option(help="Only this system's records.")] = None,
    rematch: Annotated[
        str,
        typer.Option(
            help="Records whose form changed and now reach another golden record: "
            "review (queue for a steward), merge (merge above the link threshold, queue the rest), none."
        ),
    ] = "review",
    as_json: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
) -> None:
    """Bring every stored source record's match form up to the normaliser as it is now.

    Run it after an upgrade that changes normalisation: stored records keep the form of the
    release that read them until their system sends them again. Columns, blocking keys,
    findings and golden values are rewritten; the changed records are matched again."""
    import dataclasses

    from hub.cli import db_url, err, fail
    from hub.master.renormalise import renormalise
    from hub.sync.imports import system_default_country

    if rematch not in ("review", "merge", "none"):
        fail(f"--rematch must be review, merge or none, not {safe(rematch)}", 2)
    settings = get_settings()
    summary = renormalise(
        db_url(),
        settings.mappings_dir,
        system_default_country(settings.mappings_dir),
        system=system,
        rematch=rematch,  # type: ignore[arg-type]
    )
    if as_json:
        print(json_text(dataclasses.asdict(summary)))
    else:
        err.print(
            f"{summary.read} source records read, {summary.changed} rewritten "
            f"({summary.keys_changed} with new keys); findings +{summary.findings_added} "
            f"-{summary.findings_cleared}; {summary.golden_refreshed} golden records refreshed; "
            f"{summary.merged} merged, {summary.queued} queued for review"
        )
        for sys_name, external_id, reason in summary.refused:
            err.print(f"not rewritten: {safe(sys_name)} {safe(external_id)}: {safe(reason)}")
        for sys_name, external_id in summary.identifies_nothing:
            err.print(f"now identifies nothing (kept): {safe(sys_name)} {safe(external_id)}")
        for sys_name, external_id, golden_id in summary.split:
            err.print(
                f"now names another legal entity than a record of golden customer {golden_id}: "
                f"{safe(sys_name)} {safe(external_id)} (a steward may unmerge)"
            )
    if summary.read == 0:
        fail("no source records to re-normalise" + (f" for system {safe(system)}" if system else ""))
    if summary.refused:  # the rest is done; these keep their old form until fixed
        fail(f"{len(summary.refused)} source records could not take their new form")
