"""``hub demo``: start the systems, seed the story, connect and sync the hub, serve the pages.

Each step prints one status line with its time, so a slow first start (building Tryton's
database, ~30-50 s) is visibly progressing. The hub runs embedded: SQLite in
``var/demo/hub.db`` (recreated at every start, as the systems are), tasks in-process. The
process environment gets ``HUB_DATABASE_URL`` and ``HUB_SECRET_KEY`` so that whatever the
pages and the API run in-process (a sync started from ``POST /api/v1/connections/…/sync``)
uses the demo's database too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from sqlalchemy import func, select

from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import session_scope
from hub.demo import erp, story
from hub.demo.systems import CRM_USER, Systems
from hub.settings import Settings, get_settings

T = TypeVar("T")
SHOWCASE_CRM_ORDER = "CRM-SO-1001"  # the first order of the CRM's demo data
SHOWCASE_TAX_ID = "DE136695976"  # Müller Maschinenbau's VAT number, in all three systems


@dataclass
class Ready:
    """What the demo set up: where to look and what a test can check."""

    url: str
    database_url: str
    tokens: dict[str, str]
    erp_numbers: dict[str, Any] = field(default_factory=dict)
    showcase_order: dict[str, Any] | None = None
    mueller: dict[str, Any] | None = None
    overdue: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # a sync that failed or left dead letters
    notes: list[str] = field(default_factory=list)  # worth knowing, expected (the outbox's state)
    systems: dict[str, str] = field(default_factory=dict)  # name → URL
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    settings_file: Path | None = None  # where `hub …` in a second terminal finds this hub
    planted: list[str] = field(default_factory=list)  # seeded on purpose: a review pair, a finding, a dead letter


class Steps:
    """One status line per step: a spinner while it runs, then ✓ (or ✗) and its time."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.timings: dict[str, float] = {}
        self.began = time.monotonic()

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        began = time.monotonic()
        ok = False
        try:
            with self.console.status(f"{what} …"):
                yield
            ok = True
        finally:
            took = self.timings[what] = time.monotonic() - began
            mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
            self.console.print(f"{mark} {what} [dim]{took:.1f} s[/dim]")

    def run(self, what: str, action: Callable[[], T]) -> T:
        with self.step(what):
            return action()


def run_demo(
    var_dir: Path,
    *,
    port: int = 8000,
    serve: bool = True,
    tryton_cache: Path | None = None,
    console: Console | None = None,
    settings_file: Path | None = None,
) -> Ready:
    """Everything ``hub demo`` does; with ``serve=False`` it stops the systems once ready
    (the test's path) instead of serving until Ctrl-C."""
    console = console or Console(stderr=True, soft_wrap=True)
    if "HUB_LOG_LEVEL" not in os.environ:  # the status lines are the demo's log
        logging.getLogger().setLevel(logging.WARNING)
    steps = Steps(console)
    var_dir = var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    settings = _embedded_settings(var_dir)
    if settings_file is not None:  # `hub …` in a second terminal finds this hub (hub.settings)
        from hub.settings import write_settings_file

        write_settings_file(settings.database_url, var_dir / "secret.key", "hub demo", settings_file)
    systems = Systems()
    try:
        ready = _set_up(steps, systems, var_dir, settings, tryton_cache or var_dir / "cache", port)
        ready.seconds = time.monotonic() - steps.began
        ready.settings_file = settings_file
        _print_ready(console, ready)
        if serve:
            _serve(settings, port)
        return ready
    except KeyboardInterrupt:
        console.print("stopping …")
        raise
    finally:
        systems.stop()
        console.print("[dim]systems stopped[/dim]")


def _embedded_settings(var_dir: Path) -> Settings:
    from hub.sync.secrets import resolve_key

    database = var_dir / "hub.db"
    for suffix in ("", "-wal", "-shm", "-journal"):  # a fresh hub for fresh systems
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.environ["HUB_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["HUB_SECRET_KEY"] = resolve_key(None, var_dir / "secret.key")
    os.environ.pop("HUB_BROKER_URL", None)  # tasks in-process
    get_settings.cache_clear()
    return get_settings()


def _set_up(steps: Steps, systems: Systems, var_dir: Path, settings: Settings, cache_root: Path, port: int) -> Ready:
    from hub.migrate import upgrade

    problems: list[str] = []
    erp_numbers: dict[str, Any] = {}
    notes: list[str] = []
    if erp.available():
        cache, built = steps.run("Tryton database (cached after the first build)", lambda: erp.build(cache_root))
        if built:
            steps.console.print(f"  [dim]built and cached in {cache}[/dim]")
        erp_numbers = _start_erp(steps, systems, cache, var_dir / "tryton")
    else:
        problems.append(f"no ERP: trytond is not installed — {erp.INSTALL_HINT}")
        steps.console.print(f"[yellow]![/yellow] {problems[-1]}")
    crm = steps.run("legacy CRM (SOAP)", systems.start_crm)
    finance = steps.run("finance system (REST)", systems.start_finance)
    steps.run(
        "finance: invoices and payments",
        lambda: story.seed_finance(finance.books, erp_numbers.get("project") or story.PROJECT_REFERENCE),
    )
    url = settings.database_url
    steps.run("hub database (SQLite)", lambda: upgrade(url))
    key = settings.secret_key or ""
    with steps.step("hub connections"), session_scope(url) as session:
        from hub.sync.connections import add_connection

        if systems.tryton:
            add_connection(
                session,
                name="erp",
                kind="tryton",
                secret_key=key,
                settings={"url": systems.tryton.url, "database": erp.DATABASE, "login": erp.LOGIN},
                secrets={"password": systems.tryton.password},
            )
        add_connection(
            session,
            name="crm",
            kind="soap",
            secret_key=key,
            settings={
                "service": "sugar",
                "mapping": "sugar",
                "wsdl": crm.sugar_wsdl,
                "mappings_dir": str(settings.mappings_dir),
            },
            secrets={"username": CRM_USER, "password": systems.crm_password},
        )
        add_connection(
            session,
            name="finance",
            kind="accounting",
            secret_key=key,
            settings={"url": finance.url, "tenant_id": finance.tenant_id},
            secrets={"client_id": finance.client_id, "client_secret": finance.client_secret},
        )
    from hub import services
    from hub.outbox.dispatch import Dispatcher

    engine = services.sync_engine(settings, url)  # the one provider, as the CLI and the API
    names = (["erp"] if systems.tryton else []) + ["crm", "finance"]
    for name in names:
        problems += steps.run(f"sync {name}", partial(_sync, engine, name))
    if systems.tryton:
        notes = steps.run(
            "outbox: CRM orders → ERP sales, ERP numbers → CRM, deliveries → CRM", lambda: _dispatch(Dispatcher(engine))
        )
        problems += steps.run(
            "sync erp, crm (read back what the hub wrote)", lambda: _sync(engine, "erp") + _sync(engine, "crm")
        )
    steps.run("receivables scan", lambda: _scan(url, settings.mappings_dir))
    dead, planted_dead = _dead_letters(url)
    planted = _planted(url) + planted_dead
    problems += dead + [p for p in planted if p.startswith("MISSING")]
    if not planted_dead:
        problems.append(f"MISSING: no dead letter for crm {story.DEAD_LETTER}")
    with steps.step("tokens, one per role"), session_scope(url) as session:
        tokens = {role.value: create_token(session, role, name=f"demo-{role.value}")[1] for role in Role}
    ready = Ready(f"http://127.0.0.1:{port}", url, tokens, erp_numbers, problems=problems, notes=notes)
    ready.planted = [p for p in planted if not p.startswith("MISSING")]
    _look(ready, erp_numbers.get("project"))
    ready.timings = steps.timings
    ready.systems = {
        name: url
        for name, url in (
            ("erp", systems.tryton.url if systems.tryton else ""),
            ("crm", crm.sugar_wsdl),
            ("finance", finance.url),
        )
        if url
    }
    return ready


def _start_erp(steps: Steps, systems: Systems, cache: Path, workdir: Path) -> dict[str, Any]:
    """Tryton with the story in it. The seeded database is kept per day (the story's dates
    are relative to today), so only the first start of a day spends the ~20 s seeding."""
    today = dt.date.today().isoformat()
    seeded, numbers = cache / f"story-{today}.sqlite", cache / f"story-{today}.json"
    if numbers.exists():
        steps.run("Tryton ERP server (today's story, cached)", lambda: systems.start_tryton(cache, workdir, seeded))
        return dict(json.loads(numbers.read_text()))
    tryton = steps.run("Tryton ERP server", lambda: systems.start_tryton(cache, workdir))
    with steps.step("ERP: customers and sales at every stage"):
        rpc = tryton.client()
        try:
            erp_numbers = story.seed_erp(rpc, tryton.seed)
        finally:
            rpc.close()
        for old in cache.glob("story-*"):
            old.unlink()
        erp.copy_sqlite(tryton.db_path, seeded)  # the backup API: safe while trytond runs
        numbers.write_text(json.dumps(erp_numbers))
    return erp_numbers


def _sync(engine: Any, name: str) -> list[str]:
    """Problems of one sync: a stream that did not finish; dead letters are told by
    :func:`_dead_letters` (the CRM's planted one is expected, any other is a problem)."""
    return [f"sync {name}/{r.stream}: {r.error or r.status}" for r in engine.sync(name) if r.status != "done"]


def _dead_letters(url: str) -> tuple[list[str], list[str]]:
    """(problems, planted): the open dead letters, those the story did not plant first."""
    from hub.sync.models import Connection, DeadLetter

    problems: list[str] = []
    planted: list[str] = []
    with session_scope(url) as session:
        rows = session.execute(
            select(Connection.name, DeadLetter.stream, DeadLetter.external_id, DeadLetter.error)
            .join(Connection, Connection.id == DeadLetter.connection_id)
            .where(DeadLetter.status == "open")
            .order_by(DeadLetter.id)
        ).all()
    for connection, stream, external_id, error in rows:
        line = f"dead letter {connection}/{stream} {external_id}: {error}"
        if (connection, external_id) == ("crm", story.DEAD_LETTER):
            planted.append(line)
        else:
            problems.append(line)
    return problems, planted


def _planted(url: str) -> list[str]:
    """What the story seeded on purpose, as the hub took it in: the review pair and the data-
    quality finding (the dead letter comes from :func:`_dead_letters`). One missing is a
    problem of the demo, said as such."""
    from hub.master.models import CustomerFinding, CustomerSource, ReviewPair

    found: list[str] = []
    with session_scope(url) as session:
        ids = dict(
            session.execute(
                select(CustomerSource.external_id, CustomerSource.id).where(
                    CustomerSource.system == "crm",
                    CustomerSource.external_id.in_([*story.REVIEW_PAIR, story.BAD_TAX_ID[0]]),
                )
            ).all()
        )
        pair = {ids.get(story.REVIEW_PAIR[0]), ids.get(story.REVIEW_PAIR[1])}
        pending = session.scalars(select(ReviewPair).where(ReviewPair.status == "pending")).all()
        review = [r for r in pending if {r.source_id, r.candidate_source_id} == pair]
        found.append(
            f"review pair crm {' / '.join(story.REVIEW_PAIR)} (Krause Hydraulik), score {review[0].score:.1f}"
            if review
            else f"MISSING: no review pair for crm {' / '.join(story.REVIEW_PAIR)}"
        )
        finding = session.scalars(
            select(CustomerFinding).where(CustomerFinding.source_id == ids.get(story.BAD_TAX_ID[0]))
        ).first()
        found.append(
            f"data-quality finding crm {story.BAD_TAX_ID[0]}: {finding.field} {finding.value} ({finding.reason})"
            if finding
            else f"MISSING: no data-quality finding for crm {story.BAD_TAX_ID[0]}"
        )
    return found


def _dispatch(dispatcher: Any) -> list[str]:
    """Route, then deliver until nothing is due (an ERP delivery queues its report-back);
    returns what a visitor should know: counts per target and why deliveries wait or died."""
    from hub.outbox.models import OutboxDelivery

    dispatcher.route()
    for _ in range(5):
        targets = dispatcher.due_targets()
        if not targets:
            break
        for target in targets:
            dispatcher.deliver(target)
    counts = {t: c for t, c in dispatcher.counts().items() if not t.startswith("(")}
    notes = [
        "outbox "
        + "; ".join(f"→ {t}: " + ", ".join(f"{n} {s}" for s, n in sorted(c.items())) for t, c in sorted(counts.items()))
        + " (hub outbox status)"
    ]
    with session_scope(dispatcher.engine.database_url) as session:
        for status in ("dead", "pending"):
            reasons = session.execute(
                select(OutboxDelivery.target, OutboxDelivery.last_error, func.count())
                .where(OutboxDelivery.status == status, OutboxDelivery.last_error.is_not(None))
                .group_by(OutboxDelivery.target, OutboxDelivery.last_error)
                .limit(3)
            ).all()
            notes += [
                f"  {status} → {target}: {error}" + (f" (and {n - 1} more)" if n > 1 else "")
                for target, error, n in reasons
            ]
    return notes


def _scan(url: str, mappings_dir: Path) -> None:
    from hub.receivables.scan import scan

    scan(url, mappings_dir, dt.date.today(), send=False)  # no SMTP here: digests stay queued


def _look(ready: Ready, project_number: str | None) -> None:
    """Find the three things worth a look (and a test's facts)."""
    from hub.documents.search import find_orders
    from hub.master.models import CustomerSource
    from hub.master.search import by_tax_id
    from hub.receivables.models import Instalment

    with session_scope(ready.database_url) as session:
        found = find_orders(session, ref=SHOWCASE_CRM_ORDER)
        ready.showcase_order = found[0] if found else None
        hits = by_tax_id(session, SHOWCASE_TAX_ID)
        if hits:
            golden = hits[0].golden
            sources = session.execute(
                select(CustomerSource.system, CustomerSource.name).where(CustomerSource.golden_id == golden.id)
            ).all()
            ready.mueller = {
                "id": golden.id,
                "name": golden.name,
                "sources": sorted({(system, name) for system, name in sources}),
            }
        rows = session.scalars(
            select(Instalment).where(Instalment.status == "overdue").order_by(Instalment.overdue_from)
        ).all()
        ready.overdue = [
            {
                "reference": i.reference,
                "stage": i.stage,
                "amount": i.amount,
                "due": i.due_date,
                "level": i.alert_level,
                "order_id": i.order_id,
            }
            for i in rows
        ]
        if project_number:  # the story's late payment first
            ready.overdue.sort(key=lambda i: not i["reference"].startswith(project_number))


def _print_ready(console: Console, ready: Ready) -> None:
    url = ready.url
    console.print(f"\n[bold green]ready[/bold green] in {ready.seconds:.0f} s — the hub at [bold]{url}[/bold]")
    console.print(f"  pages: {url}/orders   {url}/finance/receivables   API: {url}/docs   (sign in at {url}/login)")
    console.print("  tokens (new at every start; paste one at /login, or send it as 'Authorization: Bearer …'):")
    for role, token in ready.tokens.items():
        console.print(f"    {role:<8} {token}")
    console.print("  systems: " + "   ".join(f"{name} {url}" for name, url in ready.systems.items()))
    # a second terminal's `hub …` sees this demo with its database (the key sits beside it)
    if ready.settings_file:
        console.print(f"  the CLI in another terminal (same folder) uses this hub: see {ready.settings_file}")
    else:
        console.print(f"  the CLI in another terminal: export HUB_DATABASE_URL={os.environ['HUB_DATABASE_URL']}")
    console.print("  three things to look at:")
    if ready.showcase_order:
        order, numbers = ready.showcase_order, ready.showcase_order["numbers"]
        erp_number = numbers.get("erp", "not in the ERP")
        console.print(
            f"    1. order {SHOWCASE_CRM_ORDER}, entered in the CRM, is sale {erp_number} in the ERP"
            f" → {url}/orders/{order['id']}"
        )
    if ready.mueller:
        systems_seen = sorted({s for s, _n in ready.mueller["sources"]})
        console.print(
            f"    2. customer {ready.mueller['name']} appears in {len(systems_seen)} systems "
            f"({', '.join(systems_seen)}) → GET {url}/api/v1/customers/{ready.mueller['id']}"
        )
    if ready.overdue:
        late = ready.overdue[0]
        console.print(
            f"    3. late {late['stage']} payment {late['reference']}: {late['amount']:,.2f} due "
            f"{late['due']} → {url}/finance/receivables"
        )
    if ready.planted:
        console.print(f"  seeded on purpose, so the steward's and IT's screens have work ({url}/it):")
        for item in ready.planted:
            console.print(f"    - {item}")
    for note in ready.notes:
        console.print(f"  [dim]{note}[/dim]")
    for problem in ready.problems:
        console.print(f"  [yellow]![/yellow] {problem}")
    console.print("  Ctrl-C stops the hub and the three systems.\n")


def _serve(settings: Settings, port: int) -> None:
    import uvicorn

    from hub.api.app import create_app

    # the hub's own beat while it serves: an order entered now reaches the ERP in seconds
    served = settings.model_copy(update={"embedded_scheduler": settings.broker_url is None})
    uvicorn.run(create_app(served), host="127.0.0.1", port=port, log_level="warning")
