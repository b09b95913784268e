"""Cases, groups and folds for cross-validating the failure excerpt by repository.

A rule about log lines is only worth what it scores on repositories that did not
inspire it. So every labelled log belongs to a *group* (the LogChunks repository
`<owner>@<repo>`, the CiDiff project, the kind of a log of our own corpus), and the
groups, never the logs, are dealt into folds. The assignment depends only on the
group names: they are sorted by a SHA-256 of the name and dealt round-robin, so it
is the same on every machine, whatever order the files are listed in, and a fold
holds whole repositories.

This module reads the data sets, says which lines must be covered, and writes
the timestamped copies of the logs (`--timestamps`); it runs nothing.
`excerpt_cv.py` runs the excerpt command and scores it.
"""

from __future__ import annotations

import calendar
import hashlib
import importlib.util
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

FOLDS = 4
LOGCHUNKS = "logchunks"
CIDIFF = "cidiff"
CORPUS = "corpus"


@dataclass(frozen=True)
class Case:
    """One labelled failing log: the lines that must be in its excerpt."""

    dataset: str
    name: str  # unique within the data set (a path relative to it)
    group: str  # the repository, project or kind: the unit of a fold
    log: Path  # the failing log as shipped
    gold: frozenset[int]  # 0-based physical line numbers (score.py's numbering)
    baseline: Path | None = None  # the passing log before it (CiDiff)
    tokens: tuple[str, ...] = field(default=())  # key tokens (our corpus)


def stable_key(name: str) -> str:
    """A hash of a group name that no Python version, platform or file order changes."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def assign_folds(groups: set[str] | list[str], k: int = FOLDS) -> dict[str, int]:
    """Deal the groups into k folds: sorted by stable_key, then round-robin.

    Round-robin keeps the folds within one group of each other in size (40
    repositories give 4 folds of 10)."""
    ordered = sorted(set(groups), key=lambda g: (stable_key(g), g))
    return {g: i % k for i, g in enumerate(ordered)}


def import_path(path: Path, name: str) -> ModuleType:
    """Import a module from a file that is not on sys.path (a data folder's script)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look the module up while it runs
    spec.loader.exec_module(module)
    return module


def load_scorer(logchunks_dir: Path) -> ModuleType:
    """The official scorer (score.py beside the LogChunks data), imported at run time.

    Its functions define what a covered line is; they are used, never copied."""
    return import_path(logchunks_dir / "score.py", "logchunks_score")


def read_lines(path: Path) -> list[str]:
    """The physical lines of a log as score.py numbers them."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").split("\n")


def _visible(score: ModuleType, raw: list[str], indices) -> frozenset[int]:
    """Keep the labelled lines that exist and show something (score.py drops blank ones)."""
    return frozenset(i for i in indices if 0 <= i < len(raw) and score.canonical_line(score.terminal_text(raw[i])))


# --- LogChunks -------------------------------------------------------------------------


def logchunks_repo(log_path: str | Path) -> str:
    """`<owner>@<repo>` from logs/<Language>/<owner>@<repo>/failed/<build>.log."""
    return Path(log_path).parts[-3]


def logchunks_cases(root: Path, score: ModuleType) -> list[Case]:
    """Every LogChunks log whose labelled chunk is found in it (score.py's `n`)."""
    cases = []
    for path, chunk in score.records(str(root)):
        text = Path(path).read_bytes().decode("utf-8", errors="replace")
        raw = text.replace("\r\n", "\n").split("\n")
        gold = _visible(score, raw, score.gold_lines(text, chunk))
        if gold:
            cases.append(
                Case(LOGCHUNKS, str(Path(path).relative_to(root / "logs")), logchunks_repo(path), Path(path), gold)
            )
    return cases


# --- CiDiff ----------------------------------------------------------------------------


def cidiff_project(case_name: str) -> str:
    """The project of a case folder `<project>_<build>` (projects may hold '_')."""
    return case_name.rsplit("_", 1)[0]


def groundtruth_errors(text: str) -> set[int]:
    """0-based line numbers of the `E a-b` / `E n` lines (the first line names the parser)."""
    lines = set()
    for row in text.splitlines()[1:]:
        if not row.startswith("E"):
            continue
        first, _, last = row[1:].strip().partition("-")
        lines.update(range(int(first) - 1, int(last or first)))
    return lines


def cidiff_cases(root: Path, score: ModuleType) -> tuple[list[Case], int]:
    """The labelled cases (E lines that exist in fail.log and show text), and how many cases there are.

    Line numbers are taken as score.py numbers them (split on \\n): with that
    reading 32 of the 43 cases keep labelled lines, the plain tail holds 0.562 and
    24 can fit in 8,000 characters, as the data set's README says.

    Caveat: some cases are numbered the way CiDiff's own parser reads a log (split on
    \\r too, empty lines dropped), so in only 9 of the 32 do all E lines fall inside
    fail.log; E lines past its end are dropped here, and in those cases the kept ones
    may point next to the error (bukkit_2329: E 214-223 are the "No space left on
    device" lines in CiDiff's numbering, 6 lines further down in score.py's)."""
    cases, total = [], 0
    for folder in sorted(p for p in (root / "cases").iterdir() if p.is_dir()):
        total += 1
        fail, truth = folder / "fail.log", folder / "groundtruth"
        if not (fail.exists() and truth.exists()):
            continue
        gold = _visible(score, read_lines(fail), groundtruth_errors(truth.read_text(errors="replace")))
        if gold:
            baseline = folder / "pass.log"
            cases.append(
                Case(
                    CIDIFF,
                    folder.name,
                    cidiff_project(folder.name),
                    fail,
                    gold,
                    baseline=baseline if baseline.exists() else None,
                )
            )
    return cases, total


# --- our corpus ------------------------------------------------------------------------


def corpus_labels(corpus_dir: Path) -> dict[str, dict]:
    """labels.json: file name -> {"kind", "error_lines" (1-based), "key_tokens"}."""
    return json.loads((corpus_dir / "labels.json").read_text(encoding="utf-8"))


def refresh_generated(corpus_dir: Path) -> list[str]:
    """Write the long logs that make_long.py generates when missing or stale (they are not committed)."""
    script = corpus_dir / "make_long.py"
    return import_path(script, "ci_logs_make_long").refresh() if script.exists() else []


def corpus_cases(corpus_dir: Path, score: ModuleType) -> list[Case]:
    """Every labelled log of tests/data/ci-logs; the kind is the group."""
    refresh_generated(corpus_dir)
    cases = []
    for name, label in sorted(corpus_labels(corpus_dir).items()):
        path = corpus_dir / name
        gold = _visible(score, read_lines(path), (n - 1 for n in label["error_lines"]))
        cases.append(Case(CORPUS, name, label["kind"], path, gold, tokens=tuple(label.get("key_tokens", ()))))
    return cases


# --- timestamped copies ----------------------------------------------------------------


class _Lcg:
    """A 64-bit linear congruential generator: the same numbers on every machine and Python."""

    def __init__(self, seed: int):
        self.state = seed & (2**64 - 1)

    def next(self) -> int:
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        return self.state >> 33


STAMP_START = calendar.timegm((2026, 11, 30, 9, 0, 0))


def _first_command(pieces: list[bytes]) -> int:
    """Index of the first `$ command` echo: GitLab's own lines before it come on stream 00."""
    for i, piece in enumerate(pieces):
        if piece.startswith(b"$ ") or piece.startswith(b"\x1b[32;1m$ "):
            return i
    return len(pieces)


def stamp_log(data: bytes, name: str, style: str) -> bytes:
    """The log with a timestamp prefix on every physical line (split on \\n; \\r stays inside).

    gitlab: `<UTC, 6 fractional digits>Z <stream id><O|E><space>`, as GitLab Runner 17+
    writes with FF_TIMESTAMPS; about 10% of lines on stderr (E), chosen by a generator
    seeded with the log's name; never the `+` continuation mark, because no line is split.
    iso: `<UTC, 7 fractional digits>Z `, as GitHub Actions writes its raw logs."""
    rng = _Lcg(int(stable_key(name)[:16], 16))
    pieces = data.split(b"\n")
    first_cmd = _first_command(pieces) if style == "gitlab" else 0
    out, ticks, seconds_cache = [], 0, {}
    for i, piece in enumerate(pieces):
        if i == len(pieces) - 1 and piece == b"":
            out.append(piece)  # after the final newline: no line to stamp
            break
        ticks += 1 + rng.next() % 200_000  # 100 ns ticks: up to 20 ms a line
        seconds, frac = divmod(ticks, 10_000_000)
        stamp = seconds_cache.get(seconds)
        if stamp is None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(STAMP_START + seconds))
            seconds_cache = {seconds: stamp}
        if style == "gitlab":
            stream = b"00" if i < first_cmd else b"01"
            kind = b"E" if rng.next() % 10 == 0 else b"O"
            prefix = b"%s.%06dZ %s%s " % (stamp.encode(), frac // 10, stream, kind)
        else:
            prefix = b"%s.%07dZ " % (stamp.encode(), frac)
        out.append(prefix + piece)
    return b"\n".join(out)


def stamped_copies(cases: list[Case], style: str, folder: Path) -> tuple[dict, dict]:
    """Write a stamped copy of each failing log (and of its baseline) into folder."""
    fails, passes = {}, {}
    for k, case in enumerate(cases):
        for source, target, mapping in (
            (case.log, f"{k:05d}-fail.log", fails),
            (case.baseline, f"{k:05d}-pass.log", passes),
        ):
            if source is None:
                continue
            dest = folder / case.dataset / target
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(stamp_log(source.read_bytes(), f"{case.dataset}/{case.name}/{target}", style))
            mapping[case] = dest
    return fails, passes
