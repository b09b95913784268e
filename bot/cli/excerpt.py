"""`cicd-bot excerpt`: print the failure excerpt of job-log files, for people or as JSON Lines."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from bot.core.excerpt.baseline import Baseline, build_baseline
from bot.core.excerpt.lines import Excerpt, ExcerptLine
from bot.core.excerpt.read import DEFAULT_BUDGET, excerpt_reader
from bot.core.excerpt.scan import CHUNK_BYTES

HELP = "print the lines of job logs that say why the job failed"
DESCRIPTION = (
    "Read each job log (streamed, any size) and print the lines that explain the failure: "
    "errors, failing tests, stack traces and the final exit lines, within a character budget. "
    "Line numbers are those of the raw log, 1-based, so they match GitLab's #L<n> anchors."
)
EPILOG = (
    "examples:\n"
    "  cicd-bot excerpt job.log\n"
    "  cicd-bot excerpt --budget-chars 4000 --json logs/*.log > excerpts.jsonl\n"
    "  cicd-bot excerpt --baseline last-passing.log failing.log\n"
    '\nWith --json each path gives one line: {"path": ..., "lines": [{"n": ..., "text": ..., "section": ...}]};'
    '\na shortened line has its start as text and "cut": the number of characters left off.'
)
HEADER = "== {path}  ({total} lines, {shown} shown{section}{truncated})"
SECTION_NOTE = ", failed in section {section}"
TRUNCATED_NOTE = ", log over the size limit: middle skipped"
WINDOW_GAP = "   ..."
ERROR_LINE = "cicd-bot excerpt: cannot read {path}: {reason}"
# What `cicd-bot excerpt` reads from the settings, and the default of GITLAB_MAX_LOG_SIZE_MB when neither the
# environment nor the env file sets it (tests/unit/test_log_stamps.py keeps it equal to the Settings default).
SETTINGS_VARIABLES = ("EXCERPT_BUDGET_CHARS", "GITLAB_MAX_LOG_SIZE_MB")
DEFAULT_MAX_LOG_MB = 20.0


def add_parser(subparsers: Any) -> None:
    """Add the `excerpt` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "excerpt",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="job log files to read")
    parser.add_argument(
        "--budget-chars",
        type=_positive_int,
        default=None,
        help=f"most characters to show per log, counting one newline per line "
        f"(default: EXCERPT_BUDGET_CHARS, or {DEFAULT_BUDGET})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per log (JSON Lines)")
    parser.add_argument(
        "--max-log-mb",
        type=float,
        default=None,
        help="past this many MB keep only strong failure lines and the end "
        "(default: GITLAB_MAX_LOG_SIZE_MB; 0 means no limit)",
    )
    parser.add_argument(
        "--baseline",
        metavar="PASS.log",
        default=None,
        help="the log of the last passing run of the same job: lines it also printed "
        "(times, ids and other volatile parts aside) count less than new ones",
    )


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return number


def run(args: argparse.Namespace, settings: Any = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print the excerpt of every path; 0 if all were read, 1 if any could not be."""
    out = out or sys.stdout
    err = err or sys.stderr
    budget = args.budget_chars or (getattr(settings, "excerpt_budget_chars", None) or DEFAULT_BUDGET)
    max_mb = args.max_log_mb if args.max_log_mb is not None else getattr(settings, "gitlab_max_log_size_mb", None)
    max_bytes = int(max_mb * 1024 * 1024) if max_mb else None
    baseline: Baseline | None = None
    if getattr(args, "baseline", None):
        try:
            with open(args.baseline, "rb") as fh:
                baseline = build_baseline(iter(lambda: fh.read(CHUNK_BYTES), b""))
        except OSError as exc:
            err.write(ERROR_LINE.format(path=args.baseline, reason=exc.strerror or exc) + "\n")
            return 1
    status = 0
    for path in args.paths:
        try:
            with open(path, "rb") as fh:
                result = excerpt_reader(fh, budget_chars=budget, max_bytes=max_bytes, baseline=baseline)
        except (OSError, ValueError) as exc:
            err.write(ERROR_LINE.format(path=path, reason=getattr(exc, "strerror", None) or exc) + "\n")
            status = 1
            continue
        out.write(as_json(path, result) if args.json else as_text(path, result))
        out.write("\n")
        out.flush()
    return status


def as_json(path: str, result: Excerpt) -> str:
    """One JSON Lines record, in the shape the LogChunks scorer reads."""
    return json.dumps(
        {
            "path": path,
            "total_lines": result.total_lines,
            "failed_section": result.failed_section,
            "truncated": result.truncated,
            "lines": [_line_json(line) for line in result.lines],
        },
        ensure_ascii=False,
    )


def _line_json(line: ExcerptLine) -> dict[str, Any]:
    """A line as JSON; "cut" (characters left off its end) only on lines that were shortened."""
    item: dict[str, Any] = {"n": line.n, "text": line.text, "section": line.section}
    if line.cut:
        item["cut"] = line.cut
    return item


def as_text(path: str, result: Excerpt) -> str:
    """Numbered lines with a gap marker between windows and the section of each window."""
    section = SECTION_NOTE.format(section=result.failed_section) if result.failed_section else ""
    parts = [
        HEADER.format(
            path=path,
            total=result.total_lines,
            shown=len(result.lines),
            section=section,
            truncated=TRUNCATED_NOTE if result.truncated else "",
        )
    ]
    width = len(str(result.lines[-1].n)) if result.lines else 1
    for i, window in enumerate(result.windows()):
        if i:
            parts.append(WINDOW_GAP)
        current = None
        for line in window:
            if line.section != current and line.section:
                parts.append(f"{'':>{width}}  [{line.section}]")
            current = line.section
            parts.append(f"{line.n:>{width}}: {line.shown()}")
    return "\n".join(parts)


def _names_a_setting(env_file: str = ".env") -> bool:
    """True if the environment or the env file sets a variable the excerpt reads (names in any case, as Settings)."""
    names = {name.upper() for name, value in os.environ.items() if value}
    if os.path.isfile(env_file):
        from dotenv import dotenv_values

        names |= {name.upper() for name, value in dotenv_values(env_file).items() if value}
    return any(name in names for name in SETTINGS_VARIABLES)


def main(argv: list[str] | None = None, *, with_settings: bool = False) -> int:
    """Run as `python -m bot.cli.excerpt` (defaults as shown in --help), or as `cicd-bot excerpt` (with_settings:
    EXCERPT_BUDGET_CHARS and GITLAB_MAX_LOG_SIZE_MB from the environment or ./.env, else their defaults)."""
    parser = argparse.ArgumentParser(
        prog="cicd-bot excerpt",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    args = parser.parse_args(argv)
    settings = None
    if with_settings and (args.budget_chars is None or args.max_log_mb is None):
        if not _names_a_setting():
            # The settings cost more to import than the excerpt itself; unset, they would only give their defaults.
            args.max_log_mb = DEFAULT_MAX_LOG_MB if args.max_log_mb is None else args.max_log_mb
            return run(args)
        from bot.cli.errors import MSG_CONFIG
        from config.settings import SettingsError, load_settings

        try:
            settings = load_settings(".env")
        except SettingsError as exc:
            sys.stderr.write(MSG_CONFIG.format(error=exc) + "\n")
            return 2
    return run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
