"""How specific is the offline analyzer? Its answers scored against labelled failure lines.

An answer is *specific* when
  - its summary names a key token of the labelled failure lines (the failing test, file:line,
    error code, quoted value: see `key_tokens`), and
  - its evidence quotes a labelled line (score.py's `covered_lines`: the quote is the line, or at
    least 90% of what a terminal shows of it, at the labelled line number).
Beside it: `named` (the summary alone), `quoted` (the evidence alone), `cause_named` (the summary or
the root cause names a token) and `generic` (the summary is one of the analyzer's fixed sentences,
with no value of the log in it).

Data sets (each skipped, with the reason, when absent), read as `cv_folds.py` reads them:
  LogChunks (../shared/datasets/logchunks-dev)  labelled chunk -> key tokens derived by `key_tokens`;
  CiDiff (../shared/datasets/cidiff-dev)        the labelled E lines -> key tokens derived the same way;
  our corpus (tests/data/ci-logs)               labels.json's hand-written `key_tokens`.

Key tokens of labelled lines, defined once here and never tuned to a result: colour codes are removed;
the *strongest line* is the first labelled line that holds a failure word (FAILURE_WORDS) and a token,
else the first labelled line that holds a token; its tokens are the key tokens. Token shapes
(TOKEN_SHAPES): a file with a line (`a/b.py:42`, `X.java:[42,27]`, `x.ts(48,17)`), a qualified name
(`a::b`, `org.x.Y`, `Foo#bar`, `Lint/Rule`, `file.ext`), an error code (`E0308`, `TS2322`, `ENOENT`,
`ERR_PNPM_X`), a quoted value ('x', "x", `x`, ‘x’, “x”, 2 to 80 characters), a code identifier
(`test_x`, `TestFoo`, `parseAmount`). Tokens shorter than 3 characters or without a letter are
dropped, and so are words any failure prints (GENERIC_WORDS: `ERROR`, `main`, ...). When no labelled line holds a token, the key token is the first 40 characters of the first
labelled line that shows text (the summary must then quote the line).

What is scored is bounded, so that quoting more of the log cannot raise the figure: only the first
SCORED_SUMMARY_CHARS characters of the summary and the first SCORED_EVIDENCE evidence lines count (what
a note shows as its headline and its quoted lines).

Cross-validation: the repositories (projects, kinds) are dealt into the folds of `cv_folds.py`; every
figure is given on all data and per fold (mean and min over folds). A rule is judged with
`--against-cwd` (the answers of another checkout, e.g. one without the rule) and `--repo-of-interest`
(the repositories that inspired it): the delta on the folds that hold none of them is what the rule
does on repositories it was not written from. `--held-out 2,3` keeps folds out of sight while rules
are written: their misses are never listed, and their figure is printed apart from the other folds'
(the cross-validated figure: what the rules do on repositories nobody looked at).

Examples (from the repository root):
  .venv/bin/python benchmarks/offline_specificity.py
  .venv/bin/python benchmarks/offline_specificity.py --misses 20 --dataset corpus
  .venv/bin/python benchmarks/offline_specificity.py --held-out 2,3 --misses 40
  git worktree add /tmp/base main
  .venv/bin/python benchmarks/offline_specificity.py --against-cwd /tmp/base --repo-of-interest git@git
(`--against-cwd` runs this file's `--answers` mode with the other checkout's `bot` package.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA_ROOT = REPO.parent / "shared" / "datasets"
DEFAULT_CORPUS = REPO / "tests" / "data" / "ci-logs"
FAILURE_REASON = "script_failure"  # what GitLab reports for a job whose script exited non-zero
BATCH = 25
SCORED_SUMMARY_CHARS = 200  # a note's headline; longer summaries are not read further
SCORED_EVIDENCE = 5  # the quoted lines a note shows
BASELINE_SEP = "\t"  # between a failing log's path and its passing log's in an --answers argument

# --- key tokens ------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\[(?:\d+;)*\d*m|\[0K")
FAILURE_WORDS = re.compile(
    r"(?i)error|fail|exception|fatal|panic|abort|denied|refused|not found|no such|cannot|can't|unable|undefined|"
    r"missing|expected|assert|killed|timed out|timeout|invalid|unknown|unresolved|mismatch|conflict|not ok"
)
TOKEN_SHAPES = [
    # a file with a line: a/b.py:42(:7), X.java:[42,27], x.ts(48,17), "x.py", line 57
    re.compile(r"[\w./\\-]*\w\.\w{1,10}(?::\d+(?::\d+)?|:\[\d+,\d+\]|\(\d+(?:,\d+)?\)|\", line \d+)"),
    # an error code
    re.compile(r"\b(?:[A-Z]{1,5}\d{2,5}|E[A-Z]{3,}|ERR_[A-Z_]+)\b"),
    # a quoted value
    re.compile(
        r"'([^'\s][^']{0,78}[^'\s])'|\"([^\"\s][^\"]{0,78}[^\"\s])\"|`([^`\s][^`]{0,78}[^`\s])`|"
        r"‘([^’]{2,80})’|“([^”]{2,80})”"
    ),
    # a qualified name: a::b, org.x.Y, Foo#bar, Lint/Rule, file.ext
    re.compile(r"\b[A-Za-z_][\w$-]*(?:(?:::|\.|#|/)[A-Za-z_$][\w$-]*)+\b"),
    # a code identifier: test_x, TestFoo, parseAmount
    re.compile(r"\b(?:[A-Za-z]\w*_\w+|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[a-z]+(?:[A-Z][a-z0-9]*)+)\b"),
]
FALLBACK_CHARS = 40
# Words that any failure prints: as a token they would name nothing.
GENERIC_WORDS = frozenset(
    {
        "error",
        "errors",
        "fail",
        "failed",
        "failure",
        "failures",
        "fatal",
        "exception",
        "warning",
        "warnings",
        "exit",
        "abort",
        "aborted",
        "main",
        "test",
        "tests",
        "build",
        "true",
        "false",
        "null",
        "none",
        "undefined",
    }
)


def tokens_of(line: str) -> list[str]:
    """The key-token shapes found in one line, in order of shape, each once."""
    out: list[str] = []
    for shape in TOKEN_SHAPES:
        for m in shape.finditer(line):
            token = next((g for g in m.groups() if g), None) if m.groups() else m.group(0)
            token = (token or m.group(0)).strip()
            if (
                len(token) >= 3
                and re.search(r"[A-Za-z]", token)
                and token.lower() not in GENERIC_WORDS
                and token not in out
            ):
                out.append(token)
    return out


def key_tokens(labelled_lines: list[str]) -> list[str]:
    """The key tokens of labelled failure lines (the module docstring says how)."""
    lines = [ANSI.sub("", line).replace("\r", " ").strip() for line in labelled_lines]
    with_tokens = [(line, tokens_of(line)) for line in lines if line]
    for line, tokens in with_tokens:
        if tokens and FAILURE_WORDS.search(line):
            return tokens
    for _line, tokens in with_tokens:
        if tokens:
            return tokens
    return [with_tokens[0][0][:FALLBACK_CHARS]] if with_tokens else []


# --- answers ---------------------------------------------------------------------------


def answer_paths(paths: list[str]) -> None:
    """--answers mode: the offline answer for each log, one JSON object per line (bot from the cwd)."""
    sys.path.insert(0, os.getcwd())
    from bot.core.excerpt.read import excerpt
    from bot.core.heuristics import analyze

    for arg in paths:
        path, _, passing = arg.partition(BASELINE_SEP)
        extra = {}
        if passing:  # the last passing log, as the analysis job passes it (GITLAB_BASELINE_LOGS)
            from bot.core.excerpt.baseline import build_baseline

            extra["baseline"] = build_baseline((Path(passing).read_bytes(),))
        answer = analyze(excerpt(Path(path).read_bytes(), **extra), failure_reason=FAILURE_REASON)
        print(
            json.dumps(
                {
                    "path": path,
                    "summary": answer.summary,
                    "root_cause": answer.root_cause,
                    "verdict": str(answer.verdict),
                    "category": str(answer.category),
                    "evidence": [{"n": e.line, "text": e.text} for e in answer.evidence],
                }
            )
        )


def run_answers(paths: list[str], cwd: Path, jobs: int) -> dict[str, dict]:
    def batch(chunk: list[str]) -> list[dict]:
        proc = subprocess.run(
            [sys.executable, str(HERE / "offline_specificity.py"), "--answers", *chunk],
            cwd=cwd,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(cwd)},
        )
        if proc.returncode:
            raise RuntimeError(proc.stderr[-2000:])
        return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]

    out: dict[str, dict] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for rows in pool.map(batch, [paths[k : k + BATCH] for k in range(0, len(paths), BATCH)]):
            out.update({row["path"]: row for row in rows})
    return out


# --- scoring ---------------------------------------------------------------------------

GENERIC = re.compile(
    r"^(The job failed; no known failure pattern was recognised|\d+ test\(s\) failed|A Docker build step failed|"
    r"A network call failed|Permission denied|The job ran out of memory|The job hit its time limit|"
    r"TypeScript compile error|ESLint found errors|pip could not resolve the dependencies)\.?$"
)


def score_case(score, case, tokens: list[str], answer: dict) -> dict:
    raw = cv_folds.read_lines(case.log)
    evidence = answer["evidence"][:SCORED_EVIDENCE]
    covered = score.covered_lines(raw, evidence)
    # A log shipped with per-line timestamps (GitHub Actions' raw logs in CiDiff): a line quoted without its
    # prefix is quoted, as excerpt_cv.py counts it (covered_lines alone wants 90% of the stamped line's length).
    if any(PREFIX_RE.match(line) for line in raw[:50]):
        covered |= score.covered_lines([PREFIX_RE.sub("", line) for line in raw], evidence)
    quoted = bool(covered & case.gold)
    summary = answer["summary"][:SCORED_SUMMARY_CHARS]
    named = any(t in summary for t in tokens)
    cause_named = named or any(t in answer["root_cause"] for t in tokens)
    return {
        "specific": named and quoted,
        "named": named,
        "quoted": quoted,
        "cause_named": cause_named,
        "generic": bool(GENERIC.match(answer["summary"])),
    }


def mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def figures(rows: list[dict]) -> dict:
    out = {"n": len(rows)}
    for name in ("specific", "named", "quoted", "cause_named", "generic"):
        out[name] = mean(r[name] for r in rows)
    out["specific_count"] = sum(r["specific"] for r in rows)
    return out


def summarise(cases, folds, scored: dict, held_out: frozenset[int] = frozenset()) -> dict:
    by_fold: dict = {}
    for case in cases:
        by_fold.setdefault(folds[case.group], []).append(scored[case])
    fold_rows = [{"fold": f, **figures(rows)} for f, rows in sorted(by_fold.items(), key=lambda kv: str(kv[0]))]
    out = {
        "all": figures([scored[c] for c in cases]),
        "folds": fold_rows,
        "fold_mean": mean(r["specific"] for r in fold_rows),
        "fold_min": min(r["specific"] for r in fold_rows),
    }
    if held_out:
        out["held_out"] = figures([scored[c] for c in cases if folds[c.group] in held_out])
        out["seen"] = figures([scored[c] for c in cases if folds[c.group] not in held_out])
    return out


def datasets(args, score) -> list[tuple[str, list, dict]]:
    found = []
    root = args.data_root
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        if (folder / "build-failure-reason").is_dir() and "logchunks" in args.dataset:
            cases = cv_folds.logchunks_cases(folder, score)
            found.append(("logchunks", cases, cv_folds.assign_folds({c.group for c in cases})))
        elif (folder / "cases").is_dir() and "cidiff" in args.dataset:
            cases, _ = cv_folds.cidiff_cases(folder, score)
            found.append(("cidiff", cases, cv_folds.assign_folds({c.group for c in cases})))
    if (args.corpus / "labels.json").exists() and "corpus" in args.dataset:
        cases = cv_folds.corpus_cases(args.corpus, score)
        found.append(("corpus", cases, cv_folds.assign_folds({c.group for c in cases})))
    return found


def case_tokens(case) -> list[str]:
    if case.tokens:
        return list(case.tokens)
    raw = cv_folds.read_lines(case.log)
    return key_tokens([raw[i] for i in sorted(case.gold)])


def evaluate(args) -> dict:
    score = cv_folds.load_scorer(args.data_root / "logchunks-dev")
    interest = {n.strip() for n in (args.repo_of_interest or "").split(",") if n.strip()}
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, cases, folds in datasets(args, score):
            report[kind] = evaluate_dataset(args, score, interest, cases, folds, Path(tmp))
    return report


def evaluate_dataset(args, score, interest: set, cases, folds, tmp: Path) -> dict:
    """One data set's answers (on timestamped copies with --timestamps), scored against the plain logs."""
    if args.timestamps == "none":
        fails = {c: c.log for c in cases}
        passes = {c: c.baseline for c in cases if c.baseline is not None}
    else:
        fails, passes = cv_folds.stamped_copies(cases, args.timestamps, tmp)
    path_of = {c: str(fails[c].resolve()) for c in cases}
    # an answer's argument: the failing log, and with --baseline its last passing log where the data set has one
    arguments = [
        path_of[c] + (BASELINE_SEP + str(passes[c].resolve()) if args.baseline and c in passes else "") for c in cases
    ]
    sides = {"A": run_answers(arguments, REPO, args.jobs)}
    if args.against_cwd:
        sides["B"] = run_answers(arguments, args.against_cwd.resolve(), args.jobs)
    tokens = {c: case_tokens(c) for c in cases}
    out = {"cases": len(cases), "groups": len(folds)}
    scored_by_side = {}
    for side, answers in sides.items():
        scored = {c: score_case(score, c, tokens[c], answers[path_of[c]]) for c in cases}
        scored_by_side[side] = scored
        out[side] = summarise(cases, folds, scored, args.held_out)
    if "B" in sides:
        rest = [c for c in cases if folds[c.group] not in {folds[c2.group] for c2 in cases if c2.group in interest}]
        out["B_vs_A_without_interest"] = {
            "n": len(rest),
            "A": mean(scored_by_side["A"][c]["specific"] for c in rest),
            "B": mean(scored_by_side["B"][c]["specific"] for c in rest),
        }
    out["misses"] = [
        {
            "case": c.name,
            "tokens": tokens[c][:6],
            "summary": sides["A"][path_of[c]]["summary"],
            **{k: v for k, v in scored_by_side["A"][c].items() if k in ("named", "quoted")},
        }
        for c in cases
        if not scored_by_side["A"][c]["specific"] and folds[c.group] not in args.held_out
    ]
    return out


def fmt(x) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def print_report(report: dict, args) -> None:
    print("# reproduce: .venv/bin/python benchmarks/offline_specificity.py " + " ".join(sys.argv[1:]))
    for kind, ds in report.items():
        print(f"\n== {kind}: {ds['cases']} logs, {ds['groups']} groups")
        for side in ("A", "B"):
            if side not in ds:
                continue
            s = ds[side]
            a = s["all"]
            label = "this checkout" if side == "A" else f"against {args.against_cwd}"
            print(
                f"  {side} ({label}): specific {fmt(a['specific'])} ({a['specific_count']}/{a['n']})  named {fmt(a['named'])}"
                f"  quoted {fmt(a['quoted'])}  cause named {fmt(a['cause_named'])}  generic {fmt(a['generic'])}"
            )
            print(
                "     folds: "
                + "  ".join(f"f{r['fold']} {fmt(r['specific'])} (n={r['n']})" for r in s["folds"])
                + f"  | mean {fmt(s['fold_mean'])}  min {fmt(s['fold_min'])}"
            )
            if "held_out" in s:
                h, seen = s["held_out"], s["seen"]
                print(
                    f"     held-out folds {sorted(args.held_out)}: specific {fmt(h['specific'])} "
                    f"({h['specific_count']}/{h['n']})  |  other folds: {fmt(seen['specific'])} "
                    f"({seen['specific_count']}/{seen['n']})"
                )
        if "B_vs_A_without_interest" in ds:
            w = ds["B_vs_A_without_interest"]
            print(f"  on the folds without the repositories of interest (n={w['n']}): A {fmt(w['A'])}  B {fmt(w['B'])}")
        for miss in ds["misses"][: args.misses]:
            print(
                f"   miss {miss['case']}: named={miss['named']} quoted={miss['quoted']} tokens={miss['tokens']}\n"
                f"        summary: {miss['summary'][:160]}"
            )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--answers"]:
        answer_paths(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--dataset", action="append", choices=("logchunks", "cidiff", "corpus"))
    parser.add_argument("--against-cwd", type=Path, help="a checkout whose analyzer to compare with (B)")
    parser.add_argument("--repo-of-interest", help="comma-separated groups that inspired the change")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--misses", type=int, default=0, help="list this many misses per data set")
    parser.add_argument(
        "--held-out",
        type=lambda v: frozenset(int(f) for f in v.split(",") if f.strip()),
        default=frozenset(),
        help="comma-separated folds kept out of sight: misses not listed, figure printed apart",
    )
    parser.add_argument(
        "--timestamps",
        choices=("none", "gitlab", "iso"),
        default="none",
        help="answer timestamped copies of the logs (GitLab Runner's per-line prefix), scored on the plain ones",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="give the analyzer each log's last passing log where the data set has one (CiDiff), as the bot does",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    args.dataset = args.dataset or ["logchunks", "cidiff", "corpus"]
    report = evaluate(args)
    if args.json:
        print(json.dumps(report, indent=1, default=str))
    else:
        print_report(report, args)
    return 0


sys.path.insert(0, str(HERE))
import cv_folds  # noqa: E402  (a sibling module, not a package)
from excerpt_cv import PREFIX_RE  # noqa: E402  (score a quote as excerpt_cv.py scores a line)

if __name__ == "__main__":
    sys.exit(main())
