# ruff: noqa: E501 -- Markdown table rows and report prose are built from long f-strings
"""Customer-matching benchmark: the hub's engine vs Splink 5 (DuckDB) vs a
trivial exact-name baseline, on the same labelled data, one after the other.

    python tests/bench/bench_match.py --sizes 20000 200000 --seed 1 \\
        [--hub-cmd ".venv/bin/hub master match"] \\
        [--splink-python /work/venv-bench/bin/python] \\
        [--engines hub splink baseline] [--threshold 0.95] [--extra-thresholds 0.9 0.99]

For each size it generates DATA_DIR/<size>-seed<seed>/{input,truth}.csv
(tests/bench/customer_data.py), then runs every engine as a command

    <engine command> INPUT.csv --out OUT.csv

and scores OUT.csv with pairwise precision / recall / F1
(tests/bench/metrics.py). Wall time is the whole command: interpreter start,
reading, matching, writing. For Splink the clustering at the extra thresholds
and the model dump happen after OUT.csv is written; their time (Splink reports
it) is taken off its wall time, and its own breakdown is printed too.

The table goes to the terminal and to tests/bench/results/match-<date>.md.
Generated data stays in --data-dir (default /tmp/concord-bench), never in the
repository. The hub command is skipped, with a note, while its executable does
not exist.

Setting up Splink (kept out of the hub's environment):

    python3 -m venv /work/venv-bench
    /work/venv-bench/bin/pip install "splink>=5" pandas python-stdnum
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up
    spec.loader.exec_module(mod)
    return mod


metrics = _load("metrics")
customer_data = _load("customer_data")

from rich.console import Console  # noqa: E402
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

console = Console(width=None if sys.stdout.isatty() else 160)


@dataclass
class RunResult:
    size: int
    engine: str
    status: str = "ok"  # ok | failed | timeout | skipped
    wall_s: float | None = None
    cpu_s: float | None = None
    max_rss_mb: float | None = None
    scores: object | None = None
    diag: dict = field(default_factory=dict)
    note: str = ""
    breakdown: dict = field(default_factory=dict)


def run_command(argv: list[str], log_path: Path, timeout: float) -> tuple[int | None, float, float, float]:
    """Run argv, output to log_path. Returns (exit code or None on timeout,
    wall seconds, user+sys CPU seconds, peak RSS MB) of that child alone."""
    with open(log_path, "wb") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    code = None if timed_out.is_set() else proc.returncode
    return code, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def engine_commands(args) -> dict[str, list[str] | None]:
    hub = shlex.split(args.hub_cmd)
    hub_ok = bool(hub) and (shutil.which(hub[0]) is not None)
    return {
        "hub": hub if hub_ok else None,
        "splink": [args.splink_python, str(HERE / "splink_baseline.py")],
        "baseline": [sys.executable, str(HERE / "baseline_exact.py")],
    }


def machine_info(args) -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        info["repo_commit"] = rev.stdout.strip() or "none"
    except Exception:  # noqa: BLE001
        info["repo_commit"] = "unknown"
    try:
        out = subprocess.run(
            [
                args.splink_python,
                "-c",
                "import splink, duckdb; print(splink.__version__, duckdb.__version__)",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        sv, dv = out.stdout.split()
        info["splink"], info["duckdb"] = sv, dv
    except Exception:  # noqa: BLE001 - informational only
        info["splink"] = info["duckdb"] = "unavailable"
    return info


def splink_description(args) -> dict | None:
    try:
        out = subprocess.run(
            [args.splink_python, str(HERE / "splink_baseline.py"), "--describe"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        return json.loads(out.stdout)
    except Exception:  # noqa: BLE001
        return None


def bench_size(size: int, args, commands, progress: Progress) -> tuple[list[RunResult], dict, object]:
    data_dir = Path(args.data_dir) / f"{size}-seed{args.seed}"
    data_dir.mkdir(parents=True, exist_ok=True)
    inp, truth = data_dir / "input.csv", data_dir / "truth.csv"
    task = progress.add_task(f"[{size:,}] generating data", total=None)
    t0 = time.perf_counter()
    df = customer_data.generate(size, args.seed)
    customer_data.write(df, str(data_dir))
    info = customer_data.describe(df)
    info["generate_s"] = round(time.perf_counter() - t0, 1)
    progress.update(
        task,
        description=f"[{size:,}] data: {info['entities']:,} entities, "
        f"{info['true_pairs']:,} true pairs ({info['generate_s']}s)",
    )
    progress.stop_task(task)

    results: list[RunResult] = []
    for engine in args.engines:
        argv = commands.get(engine)
        if argv is None:
            note = f"hub command not found: {args.hub_cmd!r}" if engine == "hub" else "no command"
            results.append(RunResult(size, engine, status="skipped", note=note))
            console.print(f"[yellow]skip {engine} at {size:,}: {note}")
            continue
        out = data_dir / f"out-{engine}.csv"
        out.unlink(missing_ok=True)
        full = argv + [str(inp), "--out", str(out)]
        if engine == "splink":
            stats_path = data_dir / "splink-stats.json"
            full += [
                "--threshold",
                str(args.threshold),
                "--stats",
                str(stats_path),
                "--model",
                str(data_dir / "splink-model.json"),
            ]
            if args.extra_thresholds:
                full += ["--extra-thresholds", *map(str, args.extra_thresholds)]
        log = data_dir / f"log-{engine}.txt"
        task = progress.add_task(f"[{size:,}] {engine}", total=None)
        runs = []
        for k in range(args.repeat):
            if args.repeat > 1:
                progress.update(task, description=f"[{size:,}] {engine} (run {k + 1}/{args.repeat})")
            code, wall, cpu, rss = run_command(full, log, args.timeout)
            extras = 0.0
            if engine == "splink" and code == 0:
                stats = json.loads((data_dir / "splink-stats.json").read_text())
                extras = stats.get("timings_s", {}).get("extras", 0.0)
            runs.append((wall - extras, cpu, rss))
            if code != 0:
                break
        walls = sorted(w for w, _, _ in runs)
        wall = walls[len(walls) // 2]  # median (upper median for an even count)
        cpu = sorted(c for _, c, _ in runs)[len(runs) // 2]
        rss = max(m for _, _, m in runs)
        r = RunResult(size, engine, wall_s=wall, cpu_s=cpu, max_rss_mb=rss)
        if len(runs) > 1:
            r.diag["wall_s_runs"] = [round(w, 2) for w, _, _ in runs]
        if code is None:
            r.status, r.note = "timeout", f"killed after {args.timeout:.0f}s"
        elif code != 0 or not out.exists():
            r.status, r.note = "failed", f"exit {code}; see {log}"
            console.print(f"[red]{engine} failed at {size:,} (exit {code}):\n{tail(log)}")
        progress.update(task, description=f"[{size:,}] {engine}: {r.status} in {wall:,.1f}s")
        progress.stop_task(task)
        if r.status == "ok":
            r.scores, diag = metrics.score_output(str(out), str(truth))
            r.diag.update(diag)
            if "wall_s_runs" in r.diag:
                r.note = (
                    (r.note + "; " if r.note else "") + "walls " + "/".join(f"{w:.1f}" for w in r.diag["wall_s_runs"])
                )
            if diag["input_rows_missing_from_output"] or diag["duplicate_keys_in_output"]:
                r.note += f" output problems: {diag}"
        if engine == "splink" and r.status == "ok":
            stats = json.loads((data_dir / "splink-stats.json").read_text())
            r.breakdown = stats.get("timings_s", {})  # of the last run
            r.note = f"clustered at p>={args.threshold}" + (f"; {r.note}" if r.note else "")
            r.diag["pairs_scored_above_floor"] = stats.get("pairs_above_predict_floor")
            results.append(r)
            for thr, path in stats.get("extra_outputs", {}).items():
                x = RunResult(size, f"splink@{thr}", note=f"same predictions, clustered at p>={thr}")
                x.scores, x.diag = metrics.score_output(str(data_dir / Path(path).name), str(truth))
                results.append(x)
            continue
        results.append(r)
    return results, info, df


def _fmt(v, spec: str, dash: str = "—") -> str:
    return dash if v is None else format(v, spec)


def results_table(results: list[RunResult]) -> Table:
    t = Table(title="Customer matching: pairwise scores and wall time")
    for col in (
        "records",
        "engine",
        "precision",
        "recall",
        "F1",
        "wall s",
        "CPU s",
        "peak RSS MB",
        "note",
    ):
        t.add_column(col, justify="left" if col in ("engine", "note") else "right")
    for r in results:
        s = r.scores
        t.add_row(
            f"{r.size:,}",
            r.engine,
            _fmt(s and s.precision, ".4f"),
            _fmt(s and s.recall, ".4f"),
            _fmt(s and s.f1, ".4f"),
            _fmt(r.wall_s, ",.1f"),
            _fmt(r.cpu_s, ",.1f"),
            _fmt(r.max_rss_mb, ",.0f"),
            r.note if r.status == "ok" else f"{r.status}: {r.note}",
        )
    return t


def breakdown_table(results: list[RunResult]) -> Table | None:
    rows = [r for r in results if r.breakdown]
    if not rows:
        return None
    keys = [k for k in rows[0].breakdown]
    t = Table(title="Splink's own breakdown (seconds)")
    t.add_column("records", justify="right")
    for k in keys:
        t.add_column(k, justify="right")
    for r in rows:
        t.add_row(f"{r.size:,}", *[_fmt(r.breakdown.get(k), ".1f") for k in keys])
    return t


def verdict(results: list[RunResult]) -> list[str]:
    lines = []
    by = {(r.size, r.engine): r for r in results}
    for size in sorted({r.size for r in results}):
        hub, spl = by.get((size, "hub")), by.get((size, "splink"))
        if not (hub and spl and hub.status == "ok" and spl.status == "ok"):
            continue
        f1_ok = hub.scores.f1 >= spl.scores.f1
        time_ok = hub.wall_s <= spl.wall_s / 2
        lines.append(
            f"{size:,}: hub F1 {hub.scores.f1:.4f} vs Splink {spl.scores.f1:.4f} "
            f"({'met' if f1_ok else 'NOT met'}); hub wall {hub.wall_s:.1f}s vs half of Splink's "
            f"{spl.wall_s / 2:.1f}s ({'met' if time_ok else 'NOT met'})"
        )
    return lines


def write_markdown(path: Path, args, results, infos, machine, splink_cfg, samples) -> None:
    L: list[str] = []
    L.append(f"# Customer matching benchmark — {dt.date.today().isoformat()}\n")
    L.append(f"Command: `python tests/bench/bench_match.py {' '.join(shlex.quote(a) for a in sys.argv[1:])}`\n")
    L.append(
        f"Machine: {machine.get('cpu')} — {machine.get('cores')} cores, {machine.get('memory_gib')} GiB; "
        f"Python {machine.get('python')}; Splink {machine.get('splink')}, DuckDB {machine.get('duckdb')}.\n"
    )
    L.append(
        f"Hub command: `{args.hub_cmd}` (repository commit {machine.get('repo_commit')}, "
        "plus uncommitted work if any).\n"
    )
    L.append("Target for the hub: F1 ≥ Splink's and wall time ≤ half of Splink's.\n")
    L.append("## Results\n")
    L.append("| records | engine | precision | recall | F1 | wall s | CPU s | peak RSS MB | note |")
    L.append("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        s = r.scores
        note = r.note if r.status == "ok" else f"{r.status}: {r.note}"
        L.append(
            f"| {r.size:,} | {r.engine} | {_fmt(s and s.precision, '.4f')} | {_fmt(s and s.recall, '.4f')} | "
            f"{_fmt(s and s.f1, '.4f')} | {_fmt(r.wall_s, ',.1f')} | {_fmt(r.cpu_s, ',.1f')} | "
            f"{_fmt(r.max_rss_mb, ',.0f')} | {note} |"
        )
    L.append("")
    if args.repeat > 1:
        L.append(f"Each engine ran {args.repeat} times; wall and CPU are the medians (all walls in the note).\n")
    L.append(
        "Wall = the whole command (interpreter start, read CSV, match, write CSV), engines run one "
        "after the other on the same machine. CPU = user+sys of the command and its children. "
        "`splink@x` rows re-cluster the same Splink predictions at another match-probability "
        "threshold (not timed separately); `splink` is the documented threshold.\n"
    )
    v = verdict(results)
    if v:
        L.append("Verdict: " + "; ".join(v) + "\n")
    bd = [r for r in results if r.breakdown]
    if bd:
        keys = list(bd[0].breakdown)
        L.append("### Splink's own breakdown (seconds)\n")
        L.append("| records | " + " | ".join(keys) + " |")
        L.append("|---:|" + "---:|" * len(keys))
        for r in bd:
            L.append(f"| {r.size:,} | " + " | ".join(_fmt(r.breakdown.get(k), ".1f") for k in keys) + " |")
        L.append("")
    L.append("### Pair counts\n")
    L.append(
        "| records | engine | true pairs | predicted pairs | true positive pairs | false positives | false negatives |"
    )
    L.append("|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        if r.scores:
            s = r.scores
            L.append(
                f"| {r.size:,} | {r.engine} | {s.true_pairs:,} | {s.predicted_pairs:,} | "
                f"{s.true_positive_pairs:,} | {s.false_positive_pairs:,} | {s.false_negative_pairs:,} |"
            )
    L.append("")
    L.append("## Data\n")
    L.append(
        f"Generated by `tests/bench/customer_data.py` with seed {args.seed} (see its docstring for the "
        "conventions of the three source systems and the hard negatives).\n"
    )
    for size, info in infos.items():
        L.append(
            f"- {size:,} records: {info['entities']:,} entities ({info['entity_kinds']}), "
            f"{info['true_pairs']:,} true pairs, {info['within_system_duplicate_records']:,} within-system "
            f"duplicates; per system {info['records_per_system']}; per country {info['records_per_country']}"
        )
    L.append("")
    if samples is not None:
        L.append("Sample rows (entity_id is the truth label, not given to the engines):\n")
        L.append("```")
        L.append(samples)
        L.append("```\n")
    if splink_cfg:
        L.append("## Splink configuration\n")
        L.append(
            "Splink runs in its own virtualenv through `tests/bench/splink_baseline.py`, following its "
            "documentation for a dedupe (tutorials 03–05, the DuckDB `deduplicate_50k_synthetic` example, "
            "the training-rationale guide). Pre-cleaning given to Splink, as a careful user would: "
            "NFKC, lower case, ä→ae/ö→oe/ü→ue/ß→ss and accents removed, `&`→`and`, punctuation removed; "
            "`name_core` = name without legal-form words (GmbH, Ltd, Inc, SARL, B.V., 株式会社, (株), "
            "有限公司, …); tax id upper-case alphanumerics without the DE/GB/FR/NL prefix or the JP `T`; "
            "phone = digits of the national number (country code / trunk 0 removed); e-mail lower case, "
            "`email_domain` = its domain unless a well-known free-mail one; postcode alphanumerics, US "
            "ZIP+4 cut to 5; city and street cleaned like names.\n"
        )
        L.append("```json")
        L.append(json.dumps(splink_cfg, indent=2, ensure_ascii=False))
        L.append("```\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(L))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20000, 200000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hub-cmd", default=f"{REPO / '.venv' / 'bin' / 'hub'} master match")
    ap.add_argument("--splink-python", default="/work/venv-bench/bin/python")
    ap.add_argument(
        "--engines",
        nargs="+",
        default=["hub", "splink", "baseline"],
        choices=["hub", "splink", "baseline"],
    )
    ap.add_argument("--threshold", type=float, default=0.95, help="Splink clustering threshold")
    ap.add_argument(
        "--extra-thresholds",
        type=float,
        nargs="*",
        default=[0.9, 0.99],
        help="also score Splink's clustering at these thresholds",
    )
    ap.add_argument("--data-dir", default="/tmp/concord-bench")
    ap.add_argument("--timeout", type=float, default=3600, help="per engine run, seconds")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each engine N times and report the median wall and CPU time",
    )
    ap.add_argument("--results-dir", default=str(HERE / "results"))
    ap.add_argument("--no-write", action="store_true", help="do not write the results file")
    ap.add_argument("--samples", type=int, default=20, help="sample rows shown in the results file")
    args = ap.parse_args(argv)

    if Path(args.data_dir).resolve().is_relative_to(REPO):
        ap.error("--data-dir must be outside the repository")
    commands = engine_commands(args)
    if "hub" in args.engines and commands["hub"] is None:
        console.print(f"[yellow]hub command {args.hub_cmd!r} not found: the hub is skipped")
    machine = machine_info(args)
    splink_cfg = splink_description(args) if "splink" in args.engines else None

    results: list[RunResult] = []
    infos: dict[int, dict] = {}
    samples = None
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as progress:
        for size in args.sizes:
            res, info, df = bench_size(size, args, commands, progress)
            results += res
            infos[size] = info
            if samples is None and args.samples:
                import pandas as pd

                with pd.option_context("display.width", 250, "display.max_colwidth", 42, "display.max_columns", None):
                    samples = df.sample(min(args.samples, len(df)), random_state=args.seed).to_string(index=False)

    console.print(results_table(results))
    bt = breakdown_table(results)
    if bt is not None:
        console.print(bt)
    for line in verdict(results):
        console.print(line)
    if not args.no_write:
        path = Path(args.results_dir) / f"match-{dt.date.today().isoformat()}.md"
        write_markdown(path, args, results, infos, machine, splink_cfg, samples)
        console.print(f"results written to {path}")
    return 0 if all(r.status in ("ok", "skipped") for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
