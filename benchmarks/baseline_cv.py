"""Choose how much the last passing log counts (the baseline's weights) by cross-validation across projects.

CiDiff (../shared/datasets/cidiff-dev) pairs each failing Jenkins/GitHub log with the passing run before
it. For each of the 4 folds of projects (`cv_folds.py`), every weight setting of the grid is scored on
the other 3 folds (mean share of breakages holding every labelled error line over the 2,000 / 4,000 /
8,000 budgets, recall breaking ties), and the best is scored on the held-out fold. The pooled held-out
figure is the cross-validated one; the all-data figures of the shipped defaults and of no baseline are
printed beside it. Coverage is score.py's `covered_lines` (LogChunks' scorer), imported at run time.

The excerpt runs in-process, through the same entry point the bot uses (`excerpt_chunks(...,
baseline=...)`), with the weights set on the Baseline.

    .venv/bin/python benchmarks/baseline_cv.py
    .venv/bin/python benchmarks/baseline_cv.py --json
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cv_folds
from excerpt_cv import PREFIX_RE

from bot.core.excerpt.baseline import Baseline, Weights, build_baseline
from bot.core.excerpt.read import excerpt_chunks

REPO = Path(__file__).resolve().parents[1]
BUDGETS = (2000, 4000, 8000)
KNOWN = (1.0, 0.5, 0.3, 0.1)
NEW = (0.0, 3.0, 6.0)
REACH: tuple[int | None, ...] = (None, 6, 3)
GRID = [Weights(k, n, r) for k, n, r in itertools.product(KNOWN, NEW, REACH)]


def held(score, case, raw, baseline: Baseline | None, budget: int) -> tuple[bool, float]:
    ex = excerpt_chunks((case.log.read_bytes(),), budget, baseline=baseline)
    lines = [{"n": line.n, "text": line.text} for line in ex.lines]
    covered = score.covered_lines(raw, lines)
    # As excerpt_cv.py scores them: a log shipped with timestamps counts a line shown without its prefix.
    if any(PREFIX_RE.match(line) for line in raw[:50]):
        covered |= score.covered_lines([PREFIX_RE.sub("", line) for line in raw], lines)
    return case.gold <= covered, len(case.gold & covered) / len(case.gold)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "datasets")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    scorer = args.data_root / "logchunks-dev"
    cidiff = args.data_root / "cidiff-dev"
    if not (scorer / "score.py").exists() or not (cidiff / "cases").is_dir():
        print(f"skipped: needs {scorer}/score.py and {cidiff}/cases")
        return 0
    score = cv_folds.load_scorer(scorer)
    cases, _ = cv_folds.cidiff_cases(cidiff, score)
    cases = [c for c in cases if c.baseline]
    folds = cv_folds.assign_folds({c.group for c in cases})
    raws = {c.name: cv_folds.read_lines(c.log) for c in cases}
    bases = {c.name: build_baseline((c.baseline.read_bytes(),)) for c in cases}
    # result[(setting index or None, budget, case)] = (held, recall); None is no baseline
    result: dict[tuple, tuple[bool, float]] = {}
    for c in cases:
        for budget in BUDGETS:
            result[(None, budget, c.name)] = held(score, c, raws[c.name], None, budget)
            for i, w in enumerate(GRID):
                base = dataclasses.replace(bases[c.name], weights=w)
                result[(i, budget, c.name)] = held(score, c, raws[c.name], base, budget)

    def quality(i, subset) -> tuple[float, float]:
        got = [result[(i, b, c.name)] for b in BUDGETS for c in subset]
        return sum(h for h, _ in got) / len(got), sum(r for _, r in got) / len(got)

    report = {"folds": [], "cv": {}, "all_data": {}, "default": dataclasses.asdict(Weights())}
    held_out: dict[int, list[bool]] = {b: [] for b in BUDGETS}
    held_out_none: dict[int, list[bool]] = {b: [] for b in BUDGETS}
    for f in sorted(set(folds.values())):
        train = [c for c in cases if folds[c.group] != f]
        test = [c for c in cases if folds[c.group] == f]
        best = max(range(len(GRID)), key=lambda i: (quality(i, train), -i))
        row = {"fold": f, "n": len(test), "chosen": dataclasses.asdict(GRID[best]), "held": {}, "no_baseline": {}}
        for b in BUDGETS:
            got = [result[(best, b, c.name)][0] for c in test]
            none = [result[(None, b, c.name)][0] for c in test]
            held_out[b] += got
            held_out_none[b] += none
            row["held"][b], row["no_baseline"][b] = sum(got), sum(none)
        report["folds"].append(row)
    default = GRID.index(Weights()) if Weights() in GRID else None
    for b in BUDGETS:
        n = len(held_out[b])
        report["cv"][b] = {"with": sum(held_out[b]) / n, "without": sum(held_out_none[b]) / n, "n": n}
        report["all_data"][b] = {
            "without": sum(result[(None, b, c.name)][0] for c in cases) / len(cases),
            "default": (
                sum(result[(default, b, c.name)][0] for c in cases) / len(cases) if default is not None else None
            ),
            "best_on_all_data (not used)": max(sum(result[(i, b, c.name)][0] for c in cases) for i in range(len(GRID)))
            / len(cases),
        }
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        print()
        return 0
    print(
        f"# CiDiff dev, {len(cases)} labelled breakages with a pass.log, {len(set(folds.values()))} folds of projects"
    )
    print(f"# grid: known {KNOWN} x new {NEW} x reach {REACH}; shipped default {report['default']}")
    for row in report["folds"]:
        cells = "  ".join(f"{b}: {row['held'][b]}/{row['n']} (none {row['no_baseline'][b]})" for b in BUDGETS)
        print(f"fold {row['fold']}: chosen {row['chosen']}  held-out {cells}")
    print("budget  no baseline  cross-validated  | all data: no baseline  default")
    for b in BUDGETS:
        cv, ad = report["cv"][b], report["all_data"][b]
        dflt = "  -  " if ad["default"] is None else f"{ad['default']:.3f}"
        print(f"{b:>6}  {cv['without']:.3f}        {cv['with']:.3f}            |           {ad['without']:.3f}  {dflt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
