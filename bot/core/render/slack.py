"""Slack Block Kit messages: the pipeline parent message, the analysis thread, replies and acknowledgements."""

from __future__ import annotations

import json
import re

from bot.core import messages as m
from bot.core.render.mr_note import (
    JobGroup,
    analysed_results,
    first_and_default,
    first_evidence_line,
    group_jobs,
    job_log_url,
    prior_count,
    report_default_branch,
    usage_totals,
    verdict_of,
)
from bot.core.render.sanitize import (
    WJ,
    host_of,
    is_allowed_url,
    normalize_text,
    plain_text,
    sanitize_slack_mrkdwn,
    slack_code_text,
    slack_escape,
)
from bot.core.types import AnalysisResult, JobReport, PipelineReport

# Action ids the Slack handler routes on; a provider button is ACTION_REANALYZE_WITH_PREFIX + provider.
ACTION_REANALYZE = "reanalyze"
ACTION_REANALYZE_WITH_PREFIX = "reanalyze_with:"
ACTION_FEEDBACK_UP = "feedback_up"
ACTION_FEEDBACK_DOWN = "feedback_down"

# Slack's documented Block Kit limits.
SECTION_CHARS = 3_000
CONTEXT_CHARS = 3_000
HEADER_CHARS = 150
BLOCKS_PER_MESSAGE = 50
BUTTON_TEXT_CHARS = 75
BUTTON_VALUE_CHARS = 2_000
ACTIONS_ELEMENTS = 25
FALLBACK_CHARS = 3_000
THREAD_MESSAGES_MAX = 8  # beyond this a thread is unreadable; the MR note and job logs have the rest

JOB_LINES_MAX = 40
ROOT_CAUSE_CHARS = 6_000
FIX_STEP_CHARS = 1_500
FIX_STEPS_MAX = 15
EVIDENCE_LINES_MAX = 40
EVIDENCE_LINE_CHARS = 400
_PROVIDER = re.compile(r"[a-z0-9_]{1,40}")


# --- small builders --------------------------------------------------------------------


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:CONTEXT_CHARS]}]}


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": plain_text(text, HEADER_CHARS), "emoji": True}}


class _Slack:
    """Helpers bound to the GitLab host of one report: links go there and nowhere else."""

    def __init__(self, report: PipelineReport):
        self.host = host_of(report.project_web_url or report.pipeline_url)

    def text(self, value: str, limit: int | None = None) -> str:
        return sanitize_slack_mrkdwn(value or "", allowed_host=self.host, max_chars=limit)

    def inline(self, value: str, limit: int = 300) -> str:
        return self.text(" ".join(normalize_text(value or "").split()), limit)

    def code(self, value: str, limit: int = 200) -> str:
        # Slack inline code cannot contain a backtick
        return "`" + (self.inline(value, limit).replace("`", "'") or "?") + "`"

    def link(self, url: str, label: str) -> str:
        if not is_allowed_url(url, self.host):
            return label
        safe = slack_escape(re.sub(r"[|\s]", lambda c: f"%{ord(c.group(0)):02X}", url))
        return f"<{safe}|{label}>"

    def markdown(self, value: str, limit: int) -> str:
        """Model markdown to mrkdwn: **bold** is *bold* in Slack."""
        return re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", r"*\1*", self.text(value, limit))


def split_mrkdwn(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Cut text into pieces of at most limit characters at line ends; a code block cut in two is
    closed at the end of one piece and opened again at the start of the next."""
    budget = limit - 8  # room for the ``` that may be added at the end
    pieces: list[str] = []
    lines: list[str] = []
    size = 0
    in_code = False

    def flush() -> None:
        nonlocal size
        pieces.append("\n".join(lines) + ("\n```" if in_code else ""))
        lines.clear()
        size = 0
        if in_code:
            lines.append("```")
            size = 3

    for line in text.split("\n"):
        step = budget - 8
        for chunk in [line[i : i + step] for i in range(0, len(line), step)] or [""]:
            if lines and size + 1 + len(chunk) > budget:
                flush()
            size += len(chunk) + (1 if lines else 0)
            lines.append(chunk)
        if line.count("```") % 2:
            in_code = not in_code
    rest = "\n".join(lines)
    if rest.strip() not in ("", "```"):
        pieces.append(rest + ("\n```" if in_code else ""))
    return [p for p in pieces if p.strip()] or [""]


def _button(text: str, action_id: str, value: dict, style: str = "") -> dict:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(raw) > BUTTON_VALUE_CHARS:
        # the pipeline and analysis ids are enough to find everything again
        raw = json.dumps({k: v for k, v in value.items() if k != "project"}, separators=(",", ":"))
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": plain_text(text, BUTTON_TEXT_CHARS), "emoji": True},
        "action_id": action_id,
        "value": raw,
    }
    if style:
        button["style"] = style
    return button


def button_value(report: PipelineReport, provider: str = "") -> dict:
    """What a button click carries back: the analysis and the pipeline it is about."""
    value: dict = {"analysis_id": report.analysis_id, "project": report.project_path, "pipeline": report.pipeline_id}
    if provider:
        value["provider"] = provider
    return value


def _actions(report: PipelineReport, other_providers: list[str]) -> dict:
    elements = [_button(m.BUTTON_REANALYZE, ACTION_REANALYZE, button_value(report), "primary")]
    providers = [p for p in dict.fromkeys(other_providers) if isinstance(p, str) and _PROVIDER.fullmatch(p)]
    for provider in providers[: ACTIONS_ELEMENTS - 3]:
        elements.append(
            _button(
                m.BUTTON_REANALYZE_WITH.format(provider=m.provider_name(provider)),
                ACTION_REANALYZE_WITH_PREFIX + provider,
                button_value(report, provider),
            )
        )
    elements.append(_button(m.BUTTON_FEEDBACK_UP, ACTION_FEEDBACK_UP, button_value(report)))
    elements.append(_button(m.BUTTON_FEEDBACK_DOWN, ACTION_FEEDBACK_DOWN, button_value(report)))
    return {"type": "actions", "elements": elements}


# --- the parent message -----------------------------------------------------------------


def _job_line(s: _Slack, group: JobGroup, analysing: bool, default_branch: str, struck: bool = False) -> str:
    job, result = group.job, group.job.result
    name = s.inline(job.name, 120)
    name = f"~{name}~" if struck else f"*{s.link(job_log_url(job), name)}*"
    line = f"• {name} ({s.inline(job.stage, 60) or '?'})"
    if analysing and result is None:
        line = f"• 🔎 {line[2:]} · {m.ANALYSING_JOB}"
    elif result is None:
        line += " · " + m.NOT_ANALYSED.format(reason=s.inline(job.not_analysed_reason or "no answer", 200))
    else:
        verdict = verdict_of(result)
        line = (
            f"• {m.VERDICT_EMOJI[verdict]} {line[2:]} · {m.category_label(result.category)} · "
            f"*{m.verdict_label(verdict, default_branch)}*: {s.inline(result.summary, 300)}"
        )
    if group.also:
        line += " · " + m.ALSO_FAILED.format(jobs=", ".join(s.inline(x, 120) for x in group.also[:20]))
    return line


def _pipeline_facts(s: _Slack, report: PipelineReport) -> str:
    facts = [f"*{s.inline(report.project_path, 200) or '?'}*", s.code(report.ref)]
    if report.mr_iid is not None:
        label = f"!{int(report.mr_iid)} {s.inline(report.mr_title, 150)}".strip()
        facts.append(s.link(report.mr_url, label))
    if report.author:
        facts.append(m.BY_AUTHOR.format(author=s.inline(report.author.lstrip("@"), 80)))
    facts.append(s.link(report.pipeline_url, m.BUTTON_OPEN_PIPELINE))
    if report.note_url:
        facts.append(s.link(report.note_url, m.MR_NOTE_LINK))
    return " · ".join(facts)


def render_slack_parent(report: PipelineReport, *, default_branch: str | None = None) -> tuple[str, list[dict]]:
    """The one channel message per failed pipeline, in its analysing, done, error or fixed state."""
    s = _Slack(report)
    branch = report_default_branch(report, default_branch)
    groups, allowed = group_jobs(report.jobs)
    fixed = report.fixed_in_pipeline_id is not None
    analysing = report.status in ("analysing", "running") and not report.error and not fixed
    if fixed:
        title = m.FIXED_IN.format(pipeline=f"#{int(report.fixed_in_pipeline_id)}")
    elif report.error:
        title = m.HEADING_ERROR.format(pipeline=f"#{report.pipeline_id}")
    elif analysing:
        title = m.HEADING_ANALYSING.format(pipeline=f"#{report.pipeline_id}")
    else:
        title = m.HEADING_FAILED.format(pipeline=f"#{report.pipeline_id}")
    blocks = [_header(title), _section(_pipeline_facts(s, report)[:SECTION_CHARS])]
    if fixed:
        previous = s.link(report.pipeline_url, f"#{report.pipeline_id}")
        blocks.append(
            _section(m.FIXED_EXPLAINED.format(previous=previous, ref=s.code(report.ref)) + "\n" + m.FIXED_WHAT_FAILED)
        )
    if report.error:
        reason = s.inline(report.error, 800)
        blocks.append(
            _section("⚠️ " + (m.ANALYSIS_FAILED.format(reason=reason) if reason else m.ANALYSIS_FAILED_NO_REASON))
        )
    lines = [_job_line(s, g, analysing, branch, struck=fixed) for g in groups[:JOB_LINES_MAX]] or [m.NO_FAILED_JOBS]
    if len(groups) > JOB_LINES_MAX:
        lines.append(m.MORE_JOBS.format(count=len(groups) - JOB_LINES_MAX))
    blocks += [_section(piece) for piece in split_mrkdwn("\n".join(lines))][: BLOCKS_PER_MESSAGE - 6]
    if allowed and not fixed:
        blocks.append(_context(m.ALLOWED_TO_FAIL.format(jobs=", ".join(s.inline(j.name, 120) for j in allowed[:30]))))
    if analysing:
        blocks.append(_context(m.ANALYSING))
    elif not fixed:
        blocks.append(_context(m.MORE_IN_THREAD))
    fallback = f"{title}: {s.inline(report.project_path, 200)} {s.code(report.ref)}"
    return fallback[:FALLBACK_CHARS], blocks


# --- the thread --------------------------------------------------------------------


def _evidence_sections(s: _Slack, job: JobReport, result: AnalysisResult) -> list[dict]:
    evidence = sorted((e for e in result.evidence if isinstance(e.line, int) and e.line > 0), key=lambda e: e.line)
    evidence = evidence[:EVIDENCE_LINES_MAX]
    if not evidence:
        return []
    width = len(str(evidence[-1].line))
    rows = [
        f"{e.line:>{width}}: " + slack_code_text(" ".join(normalize_text(e.text).split("\n"))[:EVIDENCE_LINE_CHARS])
        for e in evidence
    ]
    first, last = evidence[0].line, evidence[-1].line
    title = (
        m.HEADING_EVIDENCE_ONE.format(first=first)
        if first == last
        else m.HEADING_EVIDENCE.format(first=first, last=last)
    )
    line = first_evidence_line(result)
    head = f"*{title}* · {s.link(job_log_url(job, line), f'L{line}')}"
    return [_section(piece) for piece in split_mrkdwn(head + "\n```\n" + "\n".join(rows) + "\n```")]


def _seen_before(s: _Slack, job: JobReport, default_branch: str) -> str:
    count = prior_count(job)
    if count <= 0:
        return ""
    first, on_default = first_and_default(job, default_branch)
    text = "🔁 " + m.SEEN_BEFORE.format(
        count=m.times(count), first=s.link(first.web_url, f"#{first.pipeline_id}") if first else "?"
    )
    if on_default is not None:
        text += "; " + m.SEEN_BEFORE_DEFAULT_BRANCH.format(
            branch=s.code(default_branch), pipeline=s.link(on_default.web_url, f"#{on_default.pipeline_id}")
        )
    fixed_by = next((p.fixed_by for p in reversed(job.seen_before) if p.fixed_by), "")
    if fixed_by:
        text += "; " + m.SEEN_BEFORE_FIXED_BY.format(fixed_by=s.inline(fixed_by, 200))
    return text


def _job_blocks(s: _Slack, group: JobGroup, default_branch: str) -> list[dict]:
    job, result = group.job, group.job.result
    if result is None:
        return []
    verdict = verdict_of(result)
    confidence = m.CONFIDENCE.format(percent=round(max(0.0, min(1.0, result.confidence)) * 100))
    title = (
        f"{m.VERDICT_EMOJI[verdict]} *{s.link(job_log_url(job), s.inline(job.name, 120))}* · "
        f"{s.code(job.stage, 60)} · {m.category_label(result.category)} · "
        f"*{m.verdict_label(verdict, default_branch)}* · {confidence}\n{s.inline(result.summary, 400)}"
    )
    blocks = [{"type": "divider"}, _section(title[:SECTION_CHARS])]
    if group.also:
        blocks.append(_context(m.ALSO_FAILED.format(jobs=", ".join(s.inline(x, 120) for x in group.also[:20]))))
    root = s.markdown(result.root_cause, ROOT_CAUSE_CHARS)
    blocks += [_section(p) for p in split_mrkdwn(f"*{m.HEADING_ROOT_CAUSE_SHORT}*\n{root}")]
    steps = [f"{i}. {s.markdown(step, FIX_STEP_CHARS)}" for i, step in enumerate(result.fix_steps[:FIX_STEPS_MAX], 1)]
    if steps:
        blocks += [_section(p) for p in split_mrkdwn(f"*{m.HEADING_FIX_STEPS}*\n" + "\n".join(steps))]
    blocks += _evidence_sections(s, job, result)
    facts = [_seen_before(s, job, default_branch)]
    if job.reused_from is not None and job.reused_from_pipeline is not None:
        where = s.link(job.reused_from_url, f"#{int(job.reused_from_pipeline)}")
        facts.append(m.REUSED_FROM.format(pipeline=where, analysis_id=int(job.reused_from)))
    elif job.reused_from is not None:
        facts.append(m.REUSED_ANALYSIS.format(analysis_id=int(job.reused_from)))
    facts = [f for f in facts if f]
    if facts:
        blocks.append(_context(" · ".join(facts)))
    return blocks


def _usage(s: _Slack, report: PipelineReport) -> str:
    results = analysed_results(report)
    if not results:
        return ""
    t = usage_totals(results)
    model = (" · " + ", ".join(s.inline(x, 80) for x in t["models"])) if t["models"] else ""
    cached = m.FOOTER_CACHED.format(tokens_cached=t["tokens_cached"]) if t["tokens_cached"] else ""
    text = m.FOOTER_PROVIDER.format(
        provider=", ".join(m.provider_name(p) for p in t["providers"]),
        model=model,
        tokens_in=t["tokens_in"],
        tokens_out=t["tokens_out"],
        cached=cached,
        cost=t["cost"],
    )
    notes = [m.FOOTER_NOTE.format(note=s.inline(n, 300)) for n in t["notes"][:5]]
    return "\n".join([text, *notes])


def render_slack_analysis(
    report: PipelineReport, other_providers: list[str], *, default_branch: str | None = None
) -> list[tuple[str, list[dict]]]:
    """The thread message(s): details per job, then usage and buttons; split to stay within Slack's limits."""
    s = _Slack(report)
    branch = report_default_branch(report, default_branch)
    groups, _ = group_jobs(report.jobs)
    units = [blocks for blocks in (_job_blocks(s, g, branch) for g in groups) if blocks]
    if report.error:
        reason = s.inline(report.error, 800)
        units.insert(
            0, [_section("⚠️ " + (m.ANALYSIS_FAILED.format(reason=reason) if reason else m.ANALYSIS_FAILED_NO_REASON))]
        )
    closing = [_context(x) for x in (_usage(s, report), m.ASK_AGAIN_SLACK) if x] + [_actions(report, other_providers)]

    messages: list[list[dict]] = [[]]
    for done, unit in enumerate(units):
        # a unit never exceeds a message: per-field caps bound it well below 50 blocks
        unit = unit[:BLOCKS_PER_MESSAGE]
        if len(messages[-1]) + len(unit) > BLOCKS_PER_MESSAGE:
            if len(messages) == THREAD_MESSAGES_MAX:
                more = _context(m.MORE_JOBS.format(count=len(units) - done))
                messages[-1] = messages[-1][: BLOCKS_PER_MESSAGE - 1] + [more]
                break
            messages.append([])
        messages[-1].extend(unit)
    if len(messages[-1]) + len(closing) > BLOCKS_PER_MESSAGE:
        messages.append([])
    messages[-1].extend(closing)

    base = m.SLACK_THREAD_FALLBACK.format(pipeline_id=report.pipeline_id, project=s.inline(report.project_path, 200))
    total = len(messages)
    out = []
    for i, blocks in enumerate(messages, 1):
        if blocks and blocks[0]["type"] == "divider":
            blocks = blocks[1:]
        text = base + (m.SLACK_PART.format(part=i, total=total) if total > 1 else "")
        out.append((text[:FALLBACK_CHARS], blocks))
    return out


# --- replies and acknowledgements ---------------------------------------------------------


def render_slack_reply(text: str, *, allowed_host: str = "") -> tuple[str, list[dict]]:
    """A follow-up answer in the thread: sanitised, split into sections (at most one message)."""
    body = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", r"*\1*", sanitize_slack_mrkdwn(text or "", allowed_host=allowed_host))
    pieces = split_mrkdwn(body)
    if len(pieces) > BLOCKS_PER_MESSAGE:
        pieces = pieces[: BLOCKS_PER_MESSAGE - 1] + [m.TEXT_SHORTENED]
    fallback = pieces[0][:FALLBACK_CHARS]
    return fallback, [_section(p) for p in pieces]


def render_slack_ephemeral(text: str) -> dict:
    """An acknowledgement only the asking user sees (a slash-command or action response body)."""
    body = sanitize_slack_mrkdwn(text or "", max_chars=SECTION_CHARS)
    return {"response_type": "ephemeral", "text": body, "blocks": [_section(body or WJ)]}
