"""`cicd-bot explain` and `cicd-bot prompt`: analyse a local job log, or show exactly what a model would be sent."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.core.excerpt.read import excerpt_chunks
from bot.core.excerpt.scan import CHUNK_BYTES
from bot.core.redact import Redactor
from bot.core.redact_learn import LogLearner, without_known_secrets
from bot.core.types import AnalysisRequest, AnalysisResult, JobFailure
from bot.providers.base import InMemoryLedger
from bot.providers.catalog import PROVIDERS
from bot.providers.router import ProviderRouter, default_redactor, redact_request
from prompts.builder import build_analysis_prompt

EXPLAIN_HELP = "explain a local job log with the configured AI provider (or the offline analyzer)"
PROMPT_HELP = "print exactly what would be sent to a model for a local job log, after redaction"
LOCAL_PROJECT = "local"
ERROR_READ = "cicd-bot {command}: cannot read {path}: {reason}"
ERROR_CONFIG = "cicd-bot: configuration error: {error}"
HEAD_SYSTEM = "===== system ====="
HEAD_USER = "===== user ====="
PROMPT_FOOTER = "===== about {tokens} tokens{cut} ====="
PROMPT_CUT = "; left out to fit PROMPT_MAX_TOKENS: {parts}"
RESULT_TEMPLATE = """Summary: {summary}
Category: {category}   Verdict: {verdict}   Confidence: {confidence:.2f}

Root cause:
  {root_cause}

Fix:
{fix_steps}
{evidence}
Answered by {provider} ({model}): {tokens_in} tokens in ({tokens_cached} cached), {tokens_out} out, ${cost_usd:.6f}, {latency_ms} ms"""
EVIDENCE_HEAD = "\nEvidence:\n"
NOTES_HEAD = "Notes:"


def add_parsers(subparsers: Any) -> None:
    """Add the `explain` and `prompt` subcommands to an argparse subparsers object."""
    explain = subparsers.add_parser("explain", help=EXPLAIN_HELP, description=EXPLAIN_HELP)
    _common(explain)
    explain.add_argument("--provider", choices=PROVIDERS, help="ask this provider first (default: DEFAULT_AI_PROVIDER)")
    explain.add_argument("--show-prompt", action="store_true", help="print the prompt before the answer")
    explain.add_argument("--json", action="store_true", help="print the analysis as JSON")
    explain.set_defaults(run=run_explain)
    prompt = subparsers.add_parser("prompt", help=PROMPT_HELP, description=PROMPT_HELP)
    _common(prompt)
    prompt.set_defaults(run=run_prompt)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="a job log file")
    parser.add_argument("--failure-reason", default="", help="GitLab's failure_reason, e.g. script_failure")
    parser.add_argument("--job-name", default="", help="the job's name (default: the file name)")
    parser.add_argument("--stage", default="", help="the job's stage")


def _request(args: argparse.Namespace, settings: Any) -> AnalysisRequest:
    max_bytes = int(settings.gitlab_max_log_size_mb * 1024 * 1024)
    # Read as the analysis job reads a CI job's log: kept lines redacted, every line read for secrets.
    redactor = Redactor.from_settings(settings)
    whole_log = LogLearner(redactor.fresh(), max_bytes)
    with open(args.path, "rb") as fh:
        excerpt = excerpt_chunks(
            whole_log.reading(iter(lambda: fh.read(CHUNK_BYTES), b"")),
            settings.excerpt_budget_chars,
            max_bytes=max_bytes,
            line_filter=redactor.redact_line,
        )
    whole_log.close()
    excerpt = without_known_secrets(excerpt, redactor, whole_log)
    job = JobFailure(
        job_id=0,
        name=args.job_name or Path(args.path).stem,
        stage=args.stage,
        failure_reason=args.failure_reason,
        excerpt=excerpt,
    )
    return AnalysisRequest(
        project_path=LOCAL_PROJECT,
        project_id=0,
        pipeline_id=0,
        ref="",
        sha="",
        job=job,
        provider_hint=getattr(args, "provider", None) or "",
    )


def format_prompt(request: AnalysisRequest, settings: Any, redactor: Any) -> str:
    prompt = build_analysis_prompt(redact_request(request, redactor), settings)
    cut = PROMPT_CUT.format(parts=", ".join(prompt.cut)) if prompt.cut else ""
    return "\n".join(
        [
            HEAD_SYSTEM,
            prompt.system,
            HEAD_USER,
            prompt.user,
            PROMPT_FOOTER.format(tokens=prompt.estimated_tokens, cut=cut),
        ]
    )


def format_result(result: AnalysisResult) -> str:
    steps = "\n".join(f"  {i}. {step}" for i, step in enumerate(result.fix_steps, 1)) or "  (none)"
    evidence = ""
    if result.evidence:
        evidence = EVIDENCE_HEAD + "\n".join(f"  line {e.line}: {e.text}" for e in result.evidence) + "\n"
    text = RESULT_TEMPLATE.format(
        **{
            **result.model_dump(),
            "fix_steps": steps,
            "evidence": evidence,
            "category": result.category.value,
            "verdict": result.verdict.value,
        }
    )
    others = result.notes[1:]  # the first note is the "answered by" line, already printed
    if others:
        text += "\n" + NOTES_HEAD + "\n" + "\n".join(f"  - {n}" for n in others)
    return text


def _read_error(command: str, args: argparse.Namespace, exc: OSError, err: TextIO) -> int:
    print(ERROR_READ.format(command=command, path=args.path, reason=exc.strerror or exc), file=err)
    return 1


def run_explain(
    args: argparse.Namespace,
    settings: Any,
    out: TextIO | None = None,
    err: TextIO | None = None,
    router: ProviderRouter | None = None,
) -> int:
    """Analyse one local log and print the answer; 0 on success, 1 if the file cannot be read."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        request = _request(args, settings)
    except OSError as exc:
        return _read_error("explain", args, exc, err)
    router = router or ProviderRouter(settings, ledger=InMemoryLedger())
    if args.show_prompt:
        print(format_prompt(request, settings, router.redactor), file=out)

    async def go() -> AnalysisResult:
        try:
            return await router.analyze(request)
        finally:
            await router.aclose()

    result = asyncio.run(go())
    print(result.model_dump_json(indent=2) if args.json else format_result(result), file=out)
    return 0


def run_prompt(args: argparse.Namespace, settings: Any, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print the redacted prompt for one local log; 0 on success, 1 if the file cannot be read."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        request = _request(args, settings)
    except OSError as exc:
        return _read_error("prompt", args, exc, err)
    print(format_prompt(request, settings, default_redactor(settings)), file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    from config.settings import SettingsError, load_settings

    parser = argparse.ArgumentParser(prog="python -m bot.cli.explain")
    parser.add_argument("--env-file", default=".env")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.env_file)
    except SettingsError as exc:
        print(ERROR_CONFIG.format(error=exc), file=sys.stderr)
        return 2
    return args.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
