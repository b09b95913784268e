"""Fills the prompt templates from an AnalysisRequest or a Conversation, within a token budget."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from bot.core.types import AnalysisRequest, ChatMessage, Conversation, Excerpt, ExcerptLine
from prompts.hygiene import FENCE_CLOSE, FENCE_OPEN, fence, neutralise_markers, new_nonce, strip_hidden

TEMPLATE_DIR = Path(__file__).resolve().parent

# Context parts in the order they are given up when the prompt is over budget: least useful first.
CUT_ORDER = ("ci_config", "history", "changed_files", "pipeline_jobs", "test_failures", "mr_description")

# Lines that state the failure; the excerpt keeps these whatever the budget.
DECISIVE = re.compile(
    r"error|fail|fatal|exception|traceback|panic|denied|refused|not found|no such|cannot|can't|could not|"
    r"unable|killed|oom|out of memory|timed? ?out|exit (?:code|status)|ERR!|segmentation|assert|undefined|"
    r"unresolved|conflict|missing|invalid",
    re.IGNORECASE,
)
KEEP_LAST_LINES = 3

INFRA_REASONS = {
    "runner_system_failure",
    "stuck_or_timeout_failure",
    "scheduler_failure",
    "data_integrity_failure",
    "api_failure",
    "runner_unsupported",
    "stale_schedule",
    "job_execution_timeout",
    "archived_failure",
    "unmet_prerequisites",
    "forward_deployment_failure",
}
DEPENDENCY_HINTS = re.compile(
    r"npm ERR!|ERESOLVE|No matching distribution|ResolutionImpossible|could not resolve dependenc|"
    r"version solving failed|Could not find artifact|go: .*: (?:unknown revision|module .* not found)|"
    r"bundler: could not find|Unable to locate package",
    re.IGNORECASE,
)

MAX_CHANGED_FILES = 60
MAX_HISTORY = 5
MAX_TEST_FAILURES = 20
MAX_TEST_FAILURE_CHARS = 600
MAX_META_CHARS = 200
SUMMARY_QUESTIONS = 5
SUMMARY_QUESTION_CHARS = 80
OMITTED_TURNS = "Earlier in this conversation ({count} messages omitted), the developer asked: {questions}"
BASELINE_NOTE = (
    "The excerpt was chosen by comparing this log with the same job's log in passing pipeline {pipeline} "
    "(ref {ref}): lines that passing run printed too were ranked lower, so most lines shown are new in this run."
)
LOG_TRUNCATED_NOTE = "The log was too large; its middle was skipped before excerpting."


@dataclass(slots=True)
class Prompt:
    """What is sent to a model: system text and messages, with what was cut to fit the budget."""

    system: str
    user: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)
    estimated_tokens: int = 0
    cut: list[str] = field(default_factory=list)
    nonce: str = ""
    shown_lines: list[ExcerptLine] = field(default_factory=list)  # excerpt lines the model saw

    def full_text(self) -> str:
        return "\n\n".join([self.system, *(m["content"] for m in self.messages)])


def estimate_tokens(text: str) -> int:
    """Roughly four characters a token for prose; logs full of symbols run denser, hence 3.5."""
    return math.ceil(len(text) / 3.5)


@functools.cache
def load_template(name: str) -> Template:
    return Template((TEMPLATE_DIR / f"{name}.md").read_text(encoding="utf-8"))


def render(name: str, **values: str) -> str:
    return load_template(name).safe_substitute(**values).strip()


def markers(nonce: str) -> dict[str, str]:
    return {"open": FENCE_OPEN.format(nonce=nonce), "close": FENCE_CLOSE.format(nonce=nonce)}


def meta(value: Any) -> str:
    """A short single-line value from outside (job name, ref, path): cleaned and clipped, not fenced."""
    text = neutralise_markers(strip_hidden(str(value))).replace("\n", " ").strip()
    return text if len(text) <= MAX_META_CHARS else text[: MAX_META_CHARS - 3] + "..."


def guess_category(request: AnalysisRequest) -> str | None:
    """Which category guidance to include, from what GitLab and the log say before any model is asked."""
    job = request.job
    if job.failure_reason in INFRA_REASONS:
        return "infrastructure"
    if DEPENDENCY_HINTS.search(job.excerpt.text()):
        return "dependency"
    words = f"{job.stage} {job.name}".lower()
    for category, keys in (
        ("deploy", ("deploy", "release", "publish", "rollout", "helm", "terraform")),
        ("test", ("test", "spec", "e2e", "check", "pytest", "jest")),
        ("dependency", ("install", "deps", "dependenc", "lock", "vendor")),
        ("build", ("build", "compile", "package", "assemble", "bundle", "docker")),
    ):
        if any(key in words for key in keys):
            return category
    return None


def decisive_numbers(lines: list[ExcerptLine]) -> set[int]:
    keep = {line.n for line in lines if DECISIVE.search(line.text)}
    keep.update(line.n for line in lines[-KEEP_LAST_LINES:])
    return keep


def trim_excerpt(excerpt: Excerpt, drop: int) -> Excerpt:
    """The excerpt without its first `drop` non-decisive lines."""
    keep = decisive_numbers(excerpt.lines)
    out: list[ExcerptLine] = []
    for line in excerpt.lines:
        if drop > 0 and line.n not in keep:
            drop -= 1
            continue
        out.append(line)
    return Excerpt(
        lines=out,
        total_lines=excerpt.total_lines,
        failed_section=excerpt.failed_section,
        bytes_read=excerpt.bytes_read,
        truncated=excerpt.truncated,
    )


def fewest_lines_to_drop(excerpt: Excerpt, fits: Callable[[Excerpt], bool]) -> int:
    """Binary search for the fewest non-decisive lines to drop so that `fits` holds (all of them if it never does)."""
    low = 0
    high = len(excerpt.lines) - len(decisive_numbers(excerpt.lines))
    while low < high:
        mid = (low + high) // 2
        if fits(trim_excerpt(excerpt, mid)):
            high = mid
        else:
            low = mid + 1
    return low


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "\n... (cut to fit)"


def _job_section(request: AnalysisRequest) -> str:
    job = request.job
    rows = [f"Project: {meta(request.project_path)}"]
    if request.ref:
        rows.append(f"Ref: {meta(request.ref)} (default branch: {meta(request.default_branch)})")
    if request.pipeline_id:
        rows.append(f"Pipeline: {request.pipeline_id}, commit {meta(request.sha)[:12]}")
    rows.append(f"Job: {meta(job.name)}" + (f" (stage {meta(job.stage)})" if job.stage else ""))
    if job.failure_reason:
        rows.append(f"GitLab failure reason: {meta(job.failure_reason)}")
    if job.allow_failure:
        rows.append("The job is allowed to fail.")
    if job.same_failure_jobs:
        rows.append("Other jobs failing the same way: " + ", ".join(meta(n) for n in job.same_failure_jobs[:20]))
    if request.occurrences > 1:
        rows.append(f"This failure signature was seen {request.occurrences} times recently.")
    if job.excerpt.failed_section:
        rows.append(f"Failed script section: {meta(job.excerpt.failed_section)}")
    if job.baseline is not None:
        rows.append(BASELINE_NOTE.format(pipeline=job.baseline.pipeline_id, ref=meta(job.baseline.ref)))
    return "## Job\n" + "\n".join(rows)


def _parts(request: AnalysisRequest, nonce: str, budget_chars: int) -> dict[str, str]:
    """Every optional context part, already clipped to a sensible size on its own."""
    parts: dict[str, str] = {}
    if request.mr_title or request.mr_description:
        body = f"Title: {request.mr_title}"
        if request.mr_description:
            body += "\n\n" + _clip(request.mr_description, budget_chars // 10)
        parts["mr_description"] = "## Merge request\n" + fence(body, nonce, "merge request")
    if request.changed_files:
        files = request.changed_files[:MAX_CHANGED_FILES]
        more = len(request.changed_files) - len(files)
        text = "\n".join(files) + (f"\n... and {more} more" if more > 0 else "")
        parts["changed_files"] = "## Changed files\n" + fence(text, nonce, "changed files")
    if request.pipeline_jobs:
        rows = []
        for j in request.pipeline_jobs[:80]:
            flags = [f for f, on in (("allowed to fail", j.get("allow_failure")), ("retried", j.get("retried"))) if on]
            rows.append(
                f"- {meta(j.get('name', '?'))} [{meta(j.get('stage', '?'))}]: {meta(j.get('status', '?'))}"
                + (f" ({', '.join(flags)})" if flags else "")
            )
        parts["pipeline_jobs"] = "## Pipeline jobs\n" + "\n".join(rows)
    if request.test_failures:
        text = "\n".join(_clip(t, MAX_TEST_FAILURE_CHARS) for t in request.test_failures[:MAX_TEST_FAILURES])
        parts["test_failures"] = "## Test report failures\n" + fence(text, nonce, "test report")
    if request.ci_config:
        parts["ci_config"] = "## CI configuration at this commit\n" + fence(
            _clip(request.ci_config, budget_chars // 4), nonce, ".gitlab-ci.yml"
        )
    if request.history:
        rows = []
        for h in request.history[:MAX_HISTORY]:
            row = f"- pipeline {h.pipeline_id} on {h.ref} ({h.when}): {h.summary}"
            if h.fixed_by:
                row += f"; fixed by: {h.fixed_by}"
            rows.append(row)
        parts["history"] = "## Earlier occurrences of this failure\n" + fence("\n".join(rows), nonce, "history")
    return parts


def _excerpt_section(excerpt: Excerpt, nonce: str) -> str:
    text = excerpt.numbered() or "(no log lines were available)"
    head = "## Job log excerpt"
    if excerpt.total_lines:
        head += f" ({len(excerpt.lines)} of {excerpt.total_lines} lines)"
    if excerpt.truncated:
        head += "\n" + LOG_TRUNCATED_NOTE
    return head + "\n" + fence(text, nonce, "job log")


def build_analysis_prompt(request: AnalysisRequest, settings: Any, nonce: str | None = None) -> Prompt:
    """The system and user text for one failed job, cut to PROMPT_MAX_TOKENS least-useful-first."""
    nonce = nonce or new_nonce()
    budget = settings.prompt_max_tokens
    system = render("system", **markers(nonce))
    guidance_parts = []
    category = guess_category(request)
    if category:
        guidance_parts.append(render(f"category_{category}"))
    failed = [j for j in request.pipeline_jobs if j.get("status") == "failed" and not j.get("retried")]
    if len(failed) > 1:
        guidance_parts.append(render("pipeline_summary"))
    guidance = "\n\n".join(guidance_parts)
    parts = _parts(request, nonce, budget * 4)
    excerpt = request.job.excerpt
    cut: list[str] = []

    def assemble(ex: Excerpt) -> str:
        before = [parts[n] for n in ("mr_description", "changed_files", "pipeline_jobs") if n in parts]
        after = [parts[n] for n in ("test_failures", "ci_config", "history") if n in parts]
        sections = [_job_section(request), *before, _excerpt_section(ex, nonce), *after]
        return render("analysis_request", sections="\n\n".join(sections), guidance=guidance)

    user = assemble(excerpt)
    for name in CUT_ORDER:
        if estimate_tokens(system) + estimate_tokens(user) <= budget:
            break
        if name in parts:
            del parts[name]
            cut.append(name)
            user = assemble(excerpt)
    if estimate_tokens(system) + estimate_tokens(user) > budget:
        drop = fewest_lines_to_drop(
            excerpt, lambda ex: estimate_tokens(system) + estimate_tokens(assemble(ex)) <= budget
        )
        if drop:
            excerpt = trim_excerpt(excerpt, drop)
            user = assemble(excerpt)
            cut.append(f"excerpt_context:{drop}")
    return Prompt(
        system=system,
        user=user,
        messages=[{"role": "user", "content": user}],
        estimated_tokens=estimate_tokens(system) + estimate_tokens(user),
        cut=cut,
        nonce=nonce,
        shown_lines=list(excerpt.lines),
    )


def _context_message(conversation: Conversation, excerpt: Excerpt | None, nonce: str) -> str:
    rows = []
    if conversation.project_path or conversation.job_name:
        rows.append(f"Project: {meta(conversation.project_path)}; job: {meta(conversation.job_name)}")
    analysis = conversation.analysis
    if analysis is not None:
        steps = "\n".join(f"{i}. {s}" for i, s in enumerate(analysis.fix_steps, 1))
        earlier = f"Summary: {analysis.summary}\nRoot cause: {analysis.root_cause}\nFix steps:\n{steps}"
        rows.append("## Your earlier analysis\n" + fence(earlier, nonce, "earlier analysis"))
    if excerpt is not None and excerpt.lines:
        rows.append(_excerpt_section(excerpt, nonce))
    if conversation.extra_log:
        extra = Excerpt(lines=sorted(conversation.extra_log, key=lambda line: line.n))
        rows.append("## More log lines fetched for this question\n" + fence(extra.numbered(), nonce, "job log"))
    return "\n\n".join(rows) or "(no earlier analysis is available)"


def _turn(message: ChatMessage, nonce: str) -> dict[str, str]:
    if message.role == "assistant":
        return {"role": "assistant", "content": neutralise_markers(strip_hidden(message.content))}
    who = f"message from {meta(message.author)}" if message.author else "message from the developer"
    return {"role": "user", "content": fence(message.content, nonce, who)}


def build_followup_prompt(conversation: Conversation, settings: Any, nonce: str | None = None) -> Prompt:
    """System text plus messages for a follow-up; oldest turns are summarised away past CONVERSATION_MAX_TOKENS."""
    nonce = nonce or new_nonce()
    budget = settings.conversation_max_tokens
    system = render("followup", **markers(nonce))
    excerpt = conversation.excerpt
    history = list(conversation.history)
    question = {"role": "user", "content": "Question: " + fence(conversation.question, nonce, "question")}
    cut: list[str] = []
    dropped: list[ChatMessage] = []

    def assemble(ex: Excerpt | None) -> list[dict[str, str]]:
        context = _context_message(conversation, ex, nonce)
        if dropped:
            asked = [m.content for m in dropped if m.role != "assistant"]
            # The summary itself must stay small, or dropping turns would never bring the prompt under budget.
            shown = "; ".join(meta(q)[:SUMMARY_QUESTION_CHARS] for q in asked[:SUMMARY_QUESTIONS])
            if len(asked) > SUMMARY_QUESTIONS:
                shown += f"; and {len(asked) - SUMMARY_QUESTIONS} more"
            summary = OMITTED_TURNS.format(count=len(dropped), questions=shown or "(nothing)")
            context += "\n\n" + fence(summary, nonce, "summary")
        return [{"role": "user", "content": context}, *(_turn(m, nonce) for m in history), question]

    def size(messages: list[dict[str, str]]) -> int:
        return estimate_tokens(system) + sum(estimate_tokens(m["content"]) for m in messages)

    messages = assemble(excerpt)
    while history and size(messages) > budget:
        dropped.append(history.pop(0))
        messages = assemble(excerpt)
    if dropped:
        cut.append(f"history:{len(dropped)}")
    if excerpt is not None and size(messages) > budget:
        drop = fewest_lines_to_drop(excerpt, lambda ex: size(assemble(ex)) <= budget)
        if drop:
            excerpt = trim_excerpt(excerpt, drop)
            messages = assemble(excerpt)
            cut.append(f"excerpt_context:{drop}")
    shown = list(excerpt.lines) if excerpt else []
    return Prompt(
        system=system,
        user=messages[-1]["content"],
        messages=messages,
        estimated_tokens=size(messages),
        cut=cut,
        nonce=nonce,
        shown_lines=shown + list(conversation.extra_log),
    )
