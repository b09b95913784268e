"""Cross-validate the failure excerpt by repository, on every labelled data set we may tune on.

The excerpt's rules were tuned on 40 LogChunks repositories and score less on
repositories nobody here has seen. Cross-validation by repository shows how a rule
generalises before the held-out data is ever touched: the repositories are dealt
into folds (`cv_folds.py`), and a rule's effect is read fold by fold, and on the
folds that do not hold the repository that inspired it (`--repo-of-interest`).

Data sets (each skipped, with the reason, when absent):
  LogChunks (../shared/datasets/logchunks-dev)  `full` and `recall` as score.py
      computes them, all data and per fold (4 folds of 10 repositories);
  CiDiff (../shared/datasets/cidiff-dev)        `held`: every labelled E line covered
      in the failing log's excerpt; folds by project; `--with-baseline` also runs
      the command as `CMD --baseline pass.log fail.log`;
  our corpus (tests/data/ci-logs)               `held` and `tokens` (every key token
      shown), each kind its own fold.

The excerpt command is a black box, like score.py's --cmd: `{budget}` is replaced by
the budget, absolute log paths are appended, and it prints one JSON object per path
(score.py's docstring has the format). Coverage is score.py's `covered_lines`,
imported from the data folder at run time, never copied.

`--timestamps gitlab|iso` scores timestamped copies of every log (written to a
temporary folder) against the same labels: each physical line (split on \\n only,
so line numbers do not move) gets GitLab Runner's FF_TIMESTAMPS prefix
`2026-11-30T09:00:00.123456Z 00O ` or a GitHub-Actions-style
`2026-11-30T09:00:00.1234567Z `. A labelled line counts when the excerpt shows it
with the prefix removed (as the plain log has it) or kept (as the copy has it):
so a prefix-aware excerpt scores what it scores on the plain logs, and an unaware
one is judged on which lines it picked and on the budget the prefixes ate. The
same holds for logs shipped with such prefixes (CiDiff's raw GitHub Actions logs).

Examples (from the repository root):
  .venv/bin/python benchmarks/excerpt_cv.py
  .venv/bin/python benchmarks/excerpt_cv.py --timestamps gitlab --json
  git worktree add /tmp/base HEAD~1
  .venv/bin/python benchmarks/excerpt_cv.py --against-cwd /tmp/base \\
      --against '.venv/bin/python -m bot.cli.excerpt --json --budget-chars {budget}' \\
      --repo-of-interest git@git
(`python -m` imports `bot` from the folder it runs in, hence --cwd / --against-cwd.)
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cv_folds  # a sibling module, not a package
from cv_folds import CIDIFF, CORPUS, LOGCHUNKS, Case

REPO = Path(__file__).resolve().parents[1]
BUDGETS = (2000, 4000, 8000)
DEFAULT_DATA_ROOT = REPO.parent / "shared" / "datasets"
DEFAULT_CORPUS = REPO / "tests" / "data" / "ci-logs"
TITLES = {LOGCHUNKS: "LogChunks", CIDIFF: "CiDiff", CORPUS: "our corpus"}
GROUP_WORDS = {LOGCHUNKS: "repositories", CIDIFF: "projects", CORPUS: "kinds"}
ORDER = (LOGCHUNKS, CIDIFF, CORPUS)
PREFIX_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z(?: [0-9a-f]{2}[OE][ +]| )")


# --- running the excerpt command -------------------------------------------------------


@dataclass(frozen=True)
class Command:
    label: str  # "A" (under test) or "B" (--against)
    template: str  # with {budget}
    cwd: Path


def run_batch(argv: list[str], cwd: Path) -> dict[str, list[dict]]:
    """Run one invocation; path -> excerpt lines, read the way score.py reads them."""
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
        raise RuntimeError(f"exit status {proc.returncode}: {shlex.join(argv[:6])} ...: {tail[0]}")
    out = {}
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            obj = json.loads(line)
            out[obj["path"]] = obj.get("lines", [])
    return out


def run_all(tasks: list[tuple[tuple, list[str], Path]], jobs: int) -> dict[tuple, dict[str, list[dict]]]:
    """Run (key, argv, cwd) tasks on `jobs` threads (the work is in the child processes)."""
    results: dict[tuple, dict[str, list[dict]]] = {key: {} for key, _, _ in tasks}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [(key, pool.submit(run_batch, argv, cwd)) for key, argv, cwd in tasks]
        for key, future in futures:
            results[key].update(future.result())
    return results


def command_argv(cmd: Command, budget: int) -> list[str]:
    return shlex.split(cmd.template.replace("{budget}", str(budget)))


def excerpt_tasks(cmd: Command, budgets, paths: dict[Case, Path], batch: int) -> list:
    """One task per batch of logs, per budget; the key says whose excerpt it is."""
    logs = [str(p) for p in paths.values()]
    return [
        ((cmd.label, budget, "plain"), command_argv(cmd, budget) + logs[k : k + batch], cmd.cwd)
        for budget in budgets
        for k in range(0, len(logs), batch)
    ]


def baseline_tasks(
    cmd: Command, budgets, cases: list[Case], paths: dict[Case, Path], pass_paths: dict[Case, Path]
) -> list:
    """`CMD --baseline PASS.log FAIL.log`, one case per invocation (one baseline each)."""
    return [
        (
            (cmd.label, budget, "baseline"),
            command_argv(cmd, budget) + ["--baseline", str(pass_paths[c]), str(paths[c])],
            cmd.cwd,
        )
        for budget in budgets
        for c in cases
        if c in pass_paths
    ]


def probe_baseline(cmd: Command, case: Case, paths, pass_paths) -> str | None:
    """None when the command accepts --baseline, else why not (its last line of stderr)."""
    try:
        run_batch(baseline_tasks(cmd, [BUDGETS[-1]], [case], paths, pass_paths)[0][1], cmd.cwd)
    except RuntimeError as exc:
        return str(exc).split(": ", 1)[-1]
    return None


# --- scoring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseScore:
    held: bool  # every gold line covered (LogChunks' "full")
    recall: float  # share of gold lines covered
    tokens: bool | None  # every key token in the excerpt text (corpus only)
    prefixed: int  # excerpt lines still carrying a timestamp prefix
    shown: int  # excerpt lines


def score_case(
    score: ModuleType, case: Case, raw: list[str], stamped: list[str] | None, lines: list[dict] | None, budget: int
) -> CaseScore:
    """score.py's rules: over budget or missing scores zero; covered_lines decides what is shown."""
    if lines is None or sum(len(str(x.get("text", ""))) + 1 for x in lines) > budget:
        return CaseScore(False, 0.0, False if case.tokens else None, 0, len(lines or []))
    covered = score.covered_lines(raw, lines)
    if stamped is not None:
        covered |= score.covered_lines(stamped, lines)
    # Logs shipped with timestamps (GitHub Actions' raw logs in CiDiff) count a line shown without its
    # prefix, as the stamped copies do: covered_lines alone wants 90% of the stamped line's length.
    if any(PREFIX_RE.match(line) for line in raw[:50]):
        covered |= score.covered_lines([PREFIX_RE.sub("", line) for line in raw], lines)
    gold = case.gold
    text = "\n".join(str(x.get("text", "")) for x in lines)
    tokens = all(t in text for t in case.tokens) if case.tokens else None
    prefixed = sum(1 for x in lines if PREFIX_RE.match(str(x.get("text", ""))))
    return CaseScore(gold <= covered, len(gold & covered) / len(gold), tokens, prefixed, len(lines))


def score_everything(score, cases, excerpts, paths, budgets, stamped_mode: bool):
    """(label, budget, mode) -> {case: CaseScore}, plus the tail at each budget.

    Each log is read once here, so memory does not grow with the data set."""
    scores: dict[tuple, dict[Case, CaseScore]] = {key: {} for key in excerpts}
    tails: dict[int, dict[Case, tuple[bool, float]]] = {b: {} for b in budgets}
    for case in cases:
        raw = cv_folds.read_lines(case.log)
        stamped = cv_folds.read_lines(paths[case]) if stamped_mode else None
        for budget in budgets:
            tail = score.tail_excerpt(stamped or raw, budget)
            tails[budget][case] = (case.gold <= tail, len(case.gold & tail) / len(case.gold))
        for key, by_path in excerpts.items():
            lines = by_path.get(str(paths[case]))
            if lines is None and key[2] == "baseline":
                continue  # no pass.log, no baseline run; a plain run that printed nothing scores zero
            scores[key][case] = score_case(score, case, raw, stamped, lines, key[1])
    return scores, tails


def mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def summarise(
    cases: list[Case], folds: dict[str, int], scores: dict[Case, CaseScore], tails: dict[Case, tuple[bool, float]]
) -> dict:
    """All-data figures, each fold's, the mean and min over folds, and each group's count."""

    def figures(subset):
        got = [scores[c] for c in subset if c in scores]
        return {
            "n": len(got),
            "held": mean(s.held for s in got),
            "recall": mean(s.recall for s in got),
            "held_count": sum(s.held for s in got),
            "tokens": mean(s.tokens for s in got if s.tokens is not None),
            "tail_held": mean(tails[c][0] for c in subset),
            "tail_recall": mean(tails[c][1] for c in subset),
            "prefixed_lines": sum(s.prefixed for s in got),
            "shown_lines": sum(s.shown for s in got),
        }

    by_fold = {}
    for case in cases:
        by_fold.setdefault(folds[case.group], []).append(case)
    fold_rows = [{"fold": f, **figures(by_fold[f])} for f in sorted(by_fold)]
    groups = {}
    for case in cases:
        row = groups.setdefault(case.group, {"n": 0, "held": 0})
        row["n"] += 1
        row["held"] += bool(scores.get(case) and scores[case].held)
    return {
        "all": figures(cases),
        "folds": fold_rows,
        "fold_mean": mean(r["held"] for r in fold_rows),
        "fold_min": min((r["held"] for r in fold_rows), default=None),
        "groups": groups,
        "misses": sorted(c.name for c in cases if not (scores.get(c) and scores[c].held)),
    }


def compare(cases, folds, a: dict[Case, CaseScore], b: dict[Case, CaseScore], interest: set[str]) -> dict:
    """B against A: the delta per fold, the groups that gained or lost, and the delta
    on the folds that hold none of the groups of interest (a rule judged on the
    repositories that did not inspire it)."""

    def delta(subset):
        subset = list(subset)
        if not subset:
            return None
        return {
            "n": len(subset),
            "a": mean(a[c].held for c in subset),
            "b": mean(b[c].held for c in subset),
            "delta": mean(b[c].held - a[c].held for c in subset),
        }

    fold_ids = sorted(set(folds[c.group] for c in cases))
    gained, lost = {}, {}
    for case in cases:
        change = int(b[case].held) - int(a[case].held)
        if change:
            side = gained if change > 0 else lost
            side.setdefault(case.group, []).append(case.name)
    interest_folds = sorted({folds[c.group] for c in cases if c.group in interest})
    rest = [c for c in cases if folds[c.group] not in interest_folds]
    return {
        "all": delta(cases),
        "folds": [{"fold": f, **delta(c for c in cases if folds[c.group] == f)} for f in fold_ids],
        "gained": gained,
        "lost": lost,
        "interest_folds": interest_folds,
        "without_interest": delta(rest) if interest_folds else None,
    }


# --- data sets -------------------------------------------------------------------------


@dataclass
class DataSet:
    kind: str
    source: Path
    cases: list[Case]
    folds: dict[str, int]  # group -> fold
    note: str = ""


def find_datasets(data_root: Path, corpus: Path, wanted: set[str], score: ModuleType, log) -> list[DataSet]:
    """Every data set of a format we know under data_root, plus our corpus."""
    found = []
    folders = sorted(p for p in data_root.iterdir() if p.is_dir()) if data_root.is_dir() else []
    if not folders:
        log(f"skipped: no data sets under {data_root}")
    for folder in folders:
        if (folder / "build-failure-reason").is_dir():
            if LOGCHUNKS in wanted:
                cases = cv_folds.logchunks_cases(folder, score)
                found.append(DataSet(LOGCHUNKS, folder, cases, cv_folds.assign_folds({c.group for c in cases})))
        elif (folder / "cases").is_dir():
            if CIDIFF in wanted:
                cases, total = cv_folds.cidiff_cases(folder, score)
                found.append(
                    DataSet(
                        CIDIFF,
                        folder,
                        cases,
                        cv_folds.assign_folds({c.group for c in cases}),
                        note=f"{len(cases)} labelled cases of {total}",
                    )
                )
        else:
            log(f"skipped: {folder} is in no format this harness knows")
    if CORPUS in wanted:
        if (corpus / "labels.json").exists():
            cases = cv_folds.corpus_cases(corpus, score)
            found.append(DataSet(CORPUS, corpus, cases, {g: g for g in sorted({c.group for c in cases})}))
        else:
            log(f"skipped: no labels.json in {corpus}")
    return sorted(found, key=lambda ds: (ORDER.index(ds.kind), str(ds.source)))


# --- the run ---------------------------------------------------------------------------


def git_head(cwd: Path) -> str:
    proc = subprocess.run(
        ["git", "-C", str(cwd), "describe", "--always", "--dirty", "--abbrev=10"], capture_output=True, text=True
    )
    return proc.stdout.strip() or "unknown"


def reproduce_lines(args, argv: list[str]) -> list[str]:
    """What to type to get these figures again, and the independent check on LogChunks."""
    lines = [f"cd {REPO} && .venv/bin/python benchmarks/excerpt_cv.py {shlex.join(argv)}".rstrip()]
    if args.timestamps == "none" and not args.cmd_given:
        lines.append(f"cd {REPO} && .venv/bin/python benchmarks/excerpt_score.py {args.data_root / 'logchunks-dev'}")
    return lines


def evaluate(args, datasets: list[DataSet], score: ModuleType, log) -> dict:
    """Run the command(s) on every data set and score them."""
    commands = [Command("A", args.cmd, args.cwd)]
    if args.against:
        commands.append(Command("B", args.against, args.against_cwd or args.cwd))
    interest = {n.strip() for n in (args.repo_of_interest or "").split(",") if n.strip()}
    report = {}
    with tempfile.TemporaryDirectory(prefix="excerpt-cv-") as tmp:
        for ds in datasets:
            started = time.perf_counter()
            if args.timestamps == "none":
                paths = {c: c.log.resolve() for c in ds.cases}
                pass_paths = {c: c.baseline.resolve() for c in ds.cases if c.baseline}
            else:
                paths, pass_paths = cv_folds.stamped_copies(ds.cases, args.timestamps, Path(tmp))
            tasks = [t for cmd in commands for t in excerpt_tasks(cmd, args.budgets, paths, args.batch)]
            baseline_notes = {}
            if ds.kind == CIDIFF:
                baseline_notes, more = baseline_plan(args, commands, ds, paths, pass_paths)
                tasks += more
            excerpts = run_all(tasks, args.jobs)
            scores, tails = score_everything(score, ds.cases, excerpts, paths, args.budgets, args.timestamps != "none")
            report[ds.kind] = dataset_report(args, ds, scores, tails, interest, baseline_notes)
            log(f"{ds.kind}: {len(ds.cases)} logs scored in {time.perf_counter() - started:.1f}s")
    return report


def baseline_plan(args, commands, ds, paths, pass_paths) -> tuple[dict[str, str], list]:
    """The --baseline runs of each command that takes them; for the others, why not (label -> note)."""
    with_pass = [c for c in ds.cases if c in pass_paths]
    notes, tasks = {}, []
    for cmd in commands:
        if not args.with_baseline:
            notes[cmd.label] = "unavailable: run with --with-baseline once the excerpt takes --baseline PASS.log"
        elif not with_pass:
            notes[cmd.label] = "unavailable: no pass.log beside the cases"
        elif reason := probe_baseline(cmd, with_pass[0], paths, pass_paths):
            notes[cmd.label] = f"unavailable: the command refused --baseline ({reason})"
        else:
            tasks += baseline_tasks(cmd, args.budgets, with_pass, paths, pass_paths)
    return notes, tasks


def dataset_report(args, ds, scores, tails, interest, baseline_notes: dict[str, str]) -> dict:
    out = {
        "kind": ds.kind,
        "source": str(ds.source),
        "note": ds.note,
        "cases": len(ds.cases),
        "groups": len(ds.folds),
        "folds": invert(ds.folds),
        "budgets": {},
    }
    if ds.kind == CIDIFF:
        out["baseline"] = baseline_notes
    for budget in args.budgets:
        row = {"A": summarise(ds.cases, ds.folds, scores[("A", budget, "plain")], tails[budget])}
        for label in ("A", "B"):
            if (label, budget, "baseline") in scores:
                row[f"{label}_baseline"] = summarise(
                    ds.cases, ds.folds, scores[(label, budget, "baseline")], tails[budget]
                )
        if args.against:
            row["B"] = summarise(ds.cases, ds.folds, scores[("B", budget, "plain")], tails[budget])
            row["B_vs_A"] = compare(
                ds.cases, ds.folds, scores[("A", budget, "plain")], scores[("B", budget, "plain")], interest
            )
        out["budgets"][str(budget)] = row
    if interest:
        out["interest_found"] = sorted(interest & set(ds.folds))
    return out


def invert(folds: dict[str, int | str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for group, fold in sorted(folds.items(), key=lambda kv: (str(kv[1]), kv[0])):
        out.setdefault(str(fold), []).append(group)
    return out


# --- the readable table ----------------------------------------------------------------


def fmt(x, digits=3) -> str:
    return "  -  " if x is None else f"{x:.{digits}f}"


def print_table(result: dict, args) -> None:
    for line in result["reproduce"]:
        print(f"# reproduce: {line}")
    print(f"# command: {args.cmd}   (cwd {args.cwd})")
    if args.against:
        print(f"# against: {args.against}   (cwd {args.against_cwd or args.cwd})")
    print(f"# checkout {result['commit']}, timestamps {args.timestamps}, budgets {' '.join(map(str, args.budgets))}")
    for kind, ds in result["datasets"].items():
        print()
        print_dataset(kind, ds, args)


def print_dataset(kind: str, ds: dict, args) -> None:
    metric = "full" if kind == LOGCHUNKS else "held"
    unit = (
        f"{GROUP_WORDS[kind]} (each its own fold)"
        if kind == CORPUS
        else f"{GROUP_WORDS[kind]} in {len(ds['folds'])} folds"
    )
    sizes = "/".join(str(len(v)) for v in ds["folds"].values()) if kind != CORPUS else ""
    print(
        f"== {TITLES[kind]} ({ds['source']}): {ds['cases']} logs, {ds['groups']} {unit} {sizes}"
        + (f"; {ds['note']}" if ds["note"] else "")
    )
    budgets = ds["budgets"]
    any_row = next(iter(budgets.values()))["A"]
    if kind == CORPUS:
        print_corpus(ds, args)
    else:
        fold_heads = "  ".join(f"f{r['fold']}(n={r['n']:>3})" for r in any_row["folds"])
        print(f"budget  {metric:>5}  recall   tail | {fold_heads} |  mean    min")
        for budget, row in budgets.items():
            a = row["A"]
            folds = "  ".join(f"{fmt(r['held']):>10}" for r in a["folds"])
            print(
                f"{budget:>6}  {fmt(a['all']['held'])}  {fmt(a['all']['recall'])}  {fmt(a['all']['tail_held'])} |"
                f" {folds} |  {fmt(a['fold_mean'])}  {fmt(a['fold_min'])}"
                f"   ({a['all']['held_count']}/{a['all']['n']}){prefix_note(a, args)}"
            )
            for label in ("A", "B"):
                if f"{label}_baseline" in row:
                    b = row[f"{label}_baseline"]
                    print(
                        f"   {label} with --baseline: held {fmt(b['all']['held'])} "
                        f"({b['all']['held_count']}/{b['all']['n']}) | "
                        + "  ".join(f"f{r['fold']} {fmt(r['held'])}" for r in b["folds"])
                        + f" |  mean {fmt(b['fold_mean'])}  min {fmt(b['fold_min'])}"
                    )
    for label, note in (ds.get("baseline") or {}).items():
        print(f"   {label} with --baseline: {note}")
    if kind != CORPUS:
        for fold, groups in ds["folds"].items():
            print(f"   fold {fold}: {', '.join(groups)}")
    if args.against:
        print_against(ds, args)


def prefix_note(summary: dict, args) -> str:
    """In the timestamped runs: how much of the excerpt still carries the prefixes."""
    if args.timestamps == "none":
        return ""
    shown = summary["all"]["shown_lines"]
    kept = summary["all"]["prefixed_lines"]
    return f"  prefix kept on {kept / shown:.0%} of lines shown" if shown else ""


def print_corpus(ds: dict, args) -> None:
    budgets = ds["budgets"]
    print("budget   held  tokens   tail | mean over kinds   min   (held/n)")
    for budget, row in budgets.items():
        a = row["A"]
        print(
            f"{budget:>6}  {fmt(a['all']['held'])}  {fmt(a['all']['tokens'])}  {fmt(a['all']['tail_held'])} |"
            f" {fmt(a['fold_mean']):>15}  {fmt(a['fold_min'])}   ({a['all']['held_count']}/{a['all']['n']})"
            f"{prefix_note(a, args)}"
        )
    heads = "".join(f"{b:>8}" for b in budgets)
    print(f"   {'kind':<14}{heads}")
    for kind in ds["folds"]:
        cells = ""
        for row in budgets.values():
            g = row["A"]["groups"][kind]
            cells += f"{g['held']:>5}/{g['n']:<2}"
        print(f"   {kind:<14}{cells}")
    last = list(budgets)[-1]
    misses = budgets[last]["A"]["misses"]
    print(f"   not held at {last}: {', '.join(misses) if misses else 'none'}")


def is_corpus(ds: dict) -> bool:
    """Whether a data set report is our corpus (its gained/lost lists name the logs)."""
    return ds.get("kind") == CORPUS


def print_against(ds: dict, args) -> None:
    print("   B against A (held/full; + means B holds more):")
    for budget, row in ds["budgets"].items():
        cmp = row["B_vs_A"]
        # corpus folds are kinds and say their own name; numbered folds get an "f"
        folds = "  ".join(
            f"{'' if isinstance(r['fold'], str) else 'f'}{r['fold']} {r['delta']:+.3f}" for r in cmp["folds"]
        )
        print(
            f"   {budget:>6}: all {cmp['all']['a']:.3f} -> {cmp['all']['b']:.3f} ({cmp['all']['delta']:+.3f}) | {folds}"
        )
        for side in ("gained", "lost"):
            if cmp[side]:
                # our corpus is small enough to name the logs; elsewhere the count per repository says enough
                items = ", ".join(
                    f"{g} ({len(v)}{': ' + ' '.join(v) if is_corpus(ds) else ''})"
                    for g, v in sorted(cmp[side].items(), key=lambda kv: -len(kv[1]))
                )
                print(f"           {side}: {items}")
        if cmp["without_interest"]:
            w = cmp["without_interest"]
            print(
                f"           without the folds of {', '.join(ds.get('interest_found', []))} "
                f"(folds {cmp['interest_folds']}): {w['a']:.3f} -> {w['b']:.3f} ({w['delta']:+.3f}, n={w['n']})"
            )
        elif cmp["interest_folds"] == [] and args.repo_of_interest:
            print("           (no repository of interest in this data set)")


# --- entry point -----------------------------------------------------------------------


def parse_args(argv: list[str] | None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_cmd = f"{shlex.quote(display_python())} -m bot.cli.excerpt --json --budget-chars {{budget}}"
    p.add_argument("--cmd", default=None, help=f"excerpt command, {{budget}} replaced (default: {default_cmd})")
    p.add_argument("--cwd", type=Path, default=REPO, help="where --cmd runs (default: this checkout)")
    p.add_argument("--against", default=None, help="a second command to compare with (B against A)")
    p.add_argument("--against-cwd", type=Path, default=None, help="where --against runs (default: --cwd)")
    p.add_argument(
        "--repo-of-interest",
        default=None,
        metavar="NAME,...",
        help="groups that inspired the change: also report the delta without their folds",
    )
    p.add_argument("--timestamps", choices=("none", "gitlab", "iso"), default="none")
    p.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    p.add_argument("--datasets", default=f"{LOGCHUNKS},{CIDIFF},{CORPUS}")
    p.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT)
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument(
        "--scorer", type=Path, default=None, help="folder holding score.py (default: <data-root>/logchunks-dev)"
    )
    p.add_argument("--with-baseline", action="store_true", help="CiDiff: also run `CMD --baseline pass.log fail.log`")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = p.parse_args(argv)
    args.cmd_given = args.cmd is not None
    args.cmd = args.cmd or default_cmd
    args.cwd, args.data_root, args.corpus = args.cwd.resolve(), args.data_root.resolve(), args.corpus.resolve()
    args.against_cwd = args.against_cwd.resolve() if args.against_cwd else None
    return args


def display_python() -> str:
    """This interpreter, relative to the checkout when it is the checkout's venv."""
    exe = Path(sys.executable)
    try:
        return str(exe.relative_to(REPO))
    except ValueError:
        return str(exe)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)

    def log(msg: str) -> None:
        print(f"# {msg}", file=sys.stderr)

    scorer_dir = args.scorer or args.data_root / "logchunks-dev"
    if not (scorer_dir / "score.py").exists():
        print(f"skipped: no score.py in {scorer_dir} (the official scorer defines coverage)")
        return 0
    score = cv_folds.load_scorer(scorer_dir)
    wanted = {w.strip() for w in args.datasets.split(",")}
    datasets = find_datasets(args.data_root, args.corpus, wanted, score, log)
    result = {
        "reproduce": reproduce_lines(args, argv),
        "commit": git_head(args.cwd),
        "command": args.cmd,
        "against": args.against,
        "timestamps": args.timestamps,
        "budgets": args.budgets,
        "datasets": evaluate(args, datasets, score, log),
    }
    if args.against:
        result["against_commit"] = git_head(args.against_cwd or args.cwd)
    if args.json:
        json.dump(result, sys.stdout, indent=1, default=str)
        print()
    else:
        print_table(result, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
