"""The merge request note: one GitLab markdown body per MR, found again by a hidden marker."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from bot.core import messages as m
from bot.core.render.sanitize import (
    DEFAULT_MAX_CHARS,
    GITLAB_NOTE_LIMIT,
    WJ,
    close_open_fence,
    code_fence,
    code_span,
    defuse_group_mentions,
    defuse_quick_actions,
    escape_link_text,
    host_of,
    is_allowed_url,
    normalize_text,
    sanitize_code_text,
    sanitize_gitlab_inline,
    sanitize_gitlab_markdown,
)
from bot.core.types import AnalysisResult, JobReport, PipelineReport, PriorOccurrence, Verdict

NOTE_MARKER_PREFIX = "<!-- cicd-bot:mr-note v1"
MARKER_VERSION = 1
MIN_NOTE_CHARS = 2_000

# Only at the very start of the body: the marker is ours, text further down never counts.
_MARKER = re.compile(r"\A\ufeff?[ \t\n]*<!-- cicd-bot:mr-note v(\d+) project=([^\s<>]+) mr=(\d+|none) -->")

# Per-field caps keep one chatty answer from crowding out the other jobs.
SUMMARY_CHARS = 400
ROOT_CAUSE_CHARS = 6_000
FIX_STEP_CHARS = 1_500
FIX_STEPS_MAX = 15
EVIDENCE_LINES_MAX = 40
EVIDENCE_LINE_CHARS = 400
ERROR_CHARS = 800


# --- marker -----------------------------------------------------------------------


def note_marker(project: str | int, mr_iid: int | None) -> str:
    """The hidden first line that lets the bot find and edit its own note."""
    ref = quote(str(project), safe="/") or "-"
    mr = str(int(mr_iid)) if mr_iid is not None else "none"
    return f"{NOTE_MARKER_PREFIX} project={ref} mr={mr} -->"


def find_marker(body: str) -> dict | None:
    """{'version': 1, 'project': 'group/app', 'mr': 12} if body starts with our marker, else None."""
    if not isinstance(body, str):
        return None
    match = _MARKER.match(body)
    if not match:
        return None
    mr = match.group(3)
    return {
        "version": int(match.group(1)),
        "project": unquote(match.group(2)),
        "mr": None if mr == "none" else int(mr),
    }


# --- shared by the GitLab and Slack renderers --------------------------------------------


@dataclass(slots=True)
class JobGroup:
    """Jobs that failed the same way, shown once under the first of them."""

    job: JobReport
    also: list[str] = field(default_factory=list)


def group_jobs(jobs: list[JobReport]) -> tuple[list[JobGroup], list[JobReport]]:
    """(blocking failures grouped by signature or shared_with, allowed-to-fail jobs)."""
    groups: list[JobGroup] = []
    allowed: list[JobReport] = []
    by_key: dict[str, JobGroup] = {}
    for job in jobs:
        if job.allow_failure:
            allowed.append(job)
            continue
        group = by_key.get(f"sig:{job.signature}") if job.signature else None
        group = group or by_key.get(f"name:{job.name}")
        if group is not None:
            if job.name != group.job.name and job.name not in group.also:
                group.also.append(job.name)
            continue
        group = JobGroup(job, [n for n in dict.fromkeys(job.shared_with) if n != job.name])
        groups.append(group)
        if job.signature:
            by_key[f"sig:{job.signature}"] = group
        for name in [job.name, *group.also]:
            by_key.setdefault(f"name:{name}", group)
    return groups, allowed


def job_log_url(job: JobReport, line: int | None = None) -> str:
    """The job page, or the exact log line ('<web_url>#L<n>')."""
    base = (job.web_url or "").split("#", 1)[0]
    if not base or line is None or line < 1:
        return base
    return f"{base}#L{int(line)}"


def first_evidence_line(result: AnalysisResult | None) -> int | None:
    """The line the headline links: the first evidence given (the decisive line; an earlier line is often a side remark)."""
    lines = [e.line for e in (result.evidence if result else []) if isinstance(e.line, int) and e.line > 0]
    return lines[0] if lines else None


def verdict_of(result: AnalysisResult | None) -> Verdict:
    try:
        return Verdict(result.verdict) if result else Verdict.unknown
    except ValueError:
        return Verdict.unknown


def prior_count(job: JobReport) -> int:
    """How many earlier failures had this signature (occurrences includes this one)."""
    return max(job.occurrences - 1, len(job.seen_before), 0)


def first_and_default(job: JobReport, default_branch: str) -> tuple[PriorOccurrence | None, PriorOccurrence | None]:
    """The earliest earlier failure, and the latest one on the default branch."""
    seen = sorted(job.seen_before, key=lambda p: p.pipeline_id)
    on_default = [p for p in seen if p.ref == default_branch]
    return (seen[0] if seen else None), (on_default[-1] if on_default else None)


def usage_totals(results: list[AnalysisResult]) -> dict:
    """Providers and models used, summed tokens and cost, the notes they left (deduplicated)."""
    return {
        "providers": list(dict.fromkeys(r.provider for r in results)),
        "models": list(dict.fromkeys(r.model for r in results if r.model)),
        "tokens_in": sum(max(0, r.tokens_in) for r in results),
        "tokens_out": sum(max(0, r.tokens_out) for r in results),
        "tokens_cached": sum(max(0, r.tokens_cached) for r in results),
        "cost": sum(max(0.0, r.cost_usd) for r in results),
        "notes": list(dict.fromkeys(n for r in results for n in r.notes if n)),
    }


def report_default_branch(report: PipelineReport, default_branch: str | None) -> str:
    return default_branch or getattr(report, "default_branch", "") or "main"


# --- GitLab markdown pieces --------------------------------------------------------------


class _Note:
    """Helpers bound to one allowed host."""

    def __init__(self, gitlab_base_url: str):
        self.host = host_of(gitlab_base_url)

    def inline(self, text: str, limit: int = 300) -> str:
        return sanitize_gitlab_inline(text or "", self.host, max_chars=limit)

    def block(self, text: str, limit: int) -> str:
        """Untrusted markdown as a block, without blank lines at its ends. Only those are removed: stripping
        other blanks (a no-break space, an indent) could turn a line the sanitizer saw as text into a fence."""
        return sanitize_gitlab_markdown(text or "", self.host, max_chars=limit).strip("\n")

    def link(self, label_md: str, url: str) -> str:
        """A link only to the GitLab we serve; anything else stays plain text."""
        if not is_allowed_url(url, self.host):
            return label_md
        safe = re.sub(r"[()\s<>]", lambda c: f"%{ord(c.group(0)):02X}", url)
        return f"[{label_md}]({safe})"

    def pipeline(self, pipeline_id: int, url: str) -> str:
        # "#123" outside a link is an issue reference, so the bare form gets a word joiner
        return self.link(f"#{int(pipeline_id)}", url) if is_allowed_url(url, self.host) else f"#{WJ}{int(pipeline_id)}"

    def job_name(self, job: JobReport) -> str:
        return self.link(f"**{escape_link_text(self.inline(job.name, 120))}**", job_log_url(job))


def _header(n: _Note, report: PipelineReport, template: str) -> list[str]:
    title = template.format(pipeline=n.pipeline(report.pipeline_id, report.pipeline_url))
    facts = [code_span(report.project_path or "?"), code_span(report.ref or "?")]
    if report.sha:
        facts.append(f"{m.COMMIT} {code_span(report.sha[:8])}")
    if report.mr_iid is not None:
        mr = (
            n.link(f"!{int(report.mr_iid)}", report.mr_url)
            if is_allowed_url(report.mr_url, n.host)
            else f"!{WJ}{int(report.mr_iid)}"
        )
        title_text = n.inline(report.mr_title, 150)
        facts.append(f"{m.MERGE_REQUEST} {mr}" + (f" {title_text}" if title_text else ""))
    if report.author:
        facts.append(m.BY_AUTHOR.format(author=n.inline(report.author.lstrip("@"), 80)))
    return [f"### {title}", "", " · ".join(facts)]


def _verdict_line(n: _Note, group: JobGroup, analysing: bool, default_branch: str) -> str:
    job, result = group.job, group.job.result
    parts = [n.job_name(job), f"stage {code_span(job.stage or '?')}"]
    if job.log_unavailable:
        emoji, tail = m.LOG_UNAVAILABLE_EMOJI, m.LOG_UNAVAILABLE.format(reason=n.inline(job.log_unavailable, 300))
    elif analysing and result is None:
        emoji, tail = "🔎", m.ANALYSING_JOB
    elif result is None:
        emoji, tail = "❔", m.NOT_ANALYSED.format(reason=n.inline(job.not_analysed_reason or "no answer", 200))
    else:
        verdict = verdict_of(result)
        emoji = m.VERDICT_EMOJI[verdict]
        parts.append(m.category_label(result.category))
        tail = f"**{m.verdict_label(verdict, default_branch)}**: {n.inline(result.summary, SUMMARY_CHARS)}"
        line = first_evidence_line(result)
        if line is not None:
            tail += f" ({n.link(m.LOG_LINK.format(line=line), job_log_url(job, line))})"
    line_md = f"- {emoji} " + " · ".join(parts) + f" · {tail}"
    if group.also:
        line_md += " · " + m.ALSO_FAILED.format(jobs=", ".join(n.inline(name, 120) for name in group.also[:20]))
        if len(group.also) > 20:
            line_md += f" (+{len(group.also) - 20})"
    return line_md


def _or_ellipsis(text: str) -> str:
    return text if text.strip() else "…"


def _fix_steps(n: _Note, steps: list[str]) -> list[str]:
    out = []
    for i, step in enumerate(steps[:FIX_STEPS_MAX], 1):
        text = n.block(step, FIX_STEP_CHARS)
        # continuation lines are indented so a multi-line step stays inside its list item
        out.append(f"{i}. " + text.replace("\n", "\n   "))
    return out


def _evidence_block(result: AnalysisResult) -> tuple[str, list[str]]:
    """(the numbers range, the fenced block lines) for the evidence, in log order."""
    evidence = sorted((e for e in result.evidence if isinstance(e.line, int) and e.line > 0), key=lambda e: e.line)
    evidence = evidence[:EVIDENCE_LINES_MAX]
    if not evidence:
        return "", []
    width = len(str(evidence[-1].line))
    rows = []
    for e in evidence:
        text = " ".join(normalize_text(e.text).split("\n"))[:EVIDENCE_LINE_CHARS]
        rows.append(f"{e.line:>{width}}: {sanitize_code_text(text)}")
    content = "\n".join(rows)
    fence = code_fence(content)
    first, last = evidence[0].line, evidence[-1].line
    title = (
        m.HEADING_EVIDENCE_ONE.format(first=first)
        if first == last
        else m.HEADING_EVIDENCE.format(first=first, last=last)
    )
    return title, [f"{fence}text", content, fence]


def _seen_before(n: _Note, job: JobReport, default_branch: str) -> str:
    count = prior_count(job)
    if count <= 0:
        return ""
    first, on_default = first_and_default(job, default_branch)
    text = "🔁 " + m.SEEN_BEFORE.format(
        count=m.times(count),
        first=n.pipeline(first.pipeline_id, first.web_url) if first else "?",
    )
    if on_default is not None:
        text += "; " + m.SEEN_BEFORE_DEFAULT_BRANCH.format(
            branch=code_span(default_branch), pipeline=n.pipeline(on_default.pipeline_id, on_default.web_url)
        )
    fixed_by = next((p.fixed_by for p in reversed(job.seen_before) if p.fixed_by), "")
    if fixed_by:
        text += "; " + m.SEEN_BEFORE_FIXED_BY.format(fixed_by=n.inline(fixed_by, 200))
    return text + "."


def _job_details(n: _Note, group: JobGroup, default_branch: str, with_evidence: bool = True) -> list[str]:
    job, result = group.job, group.job.result
    if result is None:
        return []
    confidence = m.CONFIDENCE.format(percent=round(max(0.0, min(1.0, result.confidence)) * 100))
    out = [f"#### {n.inline(job.name, 120)}", ""]
    if job.reused_from is not None and job.reused_from_pipeline is not None:
        where = n.pipeline(int(job.reused_from_pipeline), job.reused_from_url)
        out += [f"_{m.REUSED_FROM.format(pipeline=where, analysis_id=int(job.reused_from))}_", ""]
    elif job.reused_from is not None:
        out += [f"_{m.REUSED_ANALYSIS.format(analysis_id=int(job.reused_from))}_", ""]
    if job.baseline is not None:
        where = n.pipeline(job.baseline.pipeline_id, job.baseline.pipeline_url)
        out += [f"_{m.BASELINE_USED.format(pipeline=where)}_", ""]
    out += [
        "<details>",
        f"<summary>{m.HEADING_ROOT_CAUSE} ({confidence})</summary>",
        "",
        _or_ellipsis(n.block(result.root_cause, ROOT_CAUSE_CHARS)),
        "",
    ]
    steps = _fix_steps(n, result.fix_steps)
    if steps:
        out += [f"**{m.HEADING_FIX_STEPS}**", "", *steps, ""]
    out += ["</details>", ""]
    title, block = _evidence_block(result) if with_evidence else ("", [])
    if block:
        line = first_evidence_line(result)
        out += ["<details>", f"<summary>{title}</summary>", ""]
        link = n.link(m.LOG_LINK.format(line=line), job_log_url(job, line))
        if link != m.LOG_LINK.format(line=line):
            out += [link, ""]
        out += [*block, "", "</details>", ""]
    seen = _seen_before(n, job, default_branch)
    if seen:
        out += [seen, ""]
    return out


def analysed_results(report: PipelineReport) -> list[AnalysisResult]:
    """One result per distinct failure that cost a model call (jobs sharing a signature share it)."""
    groups, allowed = group_jobs(report.jobs)
    jobs = [g.job for g in groups] + allowed
    return [j.result for j in jobs if j.result is not None and j.reused_from is None]


_SLACK_PERMALINK = re.compile(r"^https?://[A-Za-z0-9.\-]+(?::\d+)?/archives/[A-Z0-9]+/p\d+(?:\?[\w=&.\-]*)?$")


def _footer(n: _Note, report: PipelineReport) -> list[str]:
    results = analysed_results(report)
    out: list[str] = []
    if results:
        t = usage_totals(results)
        provider = ", ".join(m.provider_name(p) for p in t["providers"])
        model = (" · " + ", ".join(n.inline(x, 80) for x in t["models"])) if t["models"] else ""
        cached = m.FOOTER_CACHED.format(tokens_cached=t["tokens_cached"]) if t["tokens_cached"] else ""
        line = m.FOOTER_PROVIDER.format(
            provider=provider,
            model=model,
            tokens_in=t["tokens_in"],
            tokens_out=t["tokens_out"],
            cached=cached,
            cost=t["cost"],
        )
        out.append(f"<sub>{line}</sub>")
        for note in t["notes"][:5]:
            out.append(f"<sub>{m.FOOTER_NOTE.format(note=n.inline(note, 300))}</sub>")
    if _SLACK_PERMALINK.match(report.slack_permalink or ""):
        # The permalink comes from Slack's API (chat.getPermalink), the workspace the bot serves.
        out.append(
            f"<sub>{m.SLACK_THREAD_LINK.format(link=f'[{m.SLACK_THREAD_LABEL}]({report.slack_permalink})')}</sub>"
        )
    return out


def _ask_again(report: PipelineReport) -> list[str]:
    bot = re.sub(r"[^A-Za-z0-9_.\-]", "", report.bot_username or "") or m.BOT_NAME
    commands = " · ".join(code_span(c) for c in m.ask_again_gitlab(bot))
    return [f"💬 {m.ASK_AGAIN_INTRO} {commands} · {m.ASK_AGAIN_QUESTION}"]


def _finish(parts: list[str], max_chars: int) -> str:
    """Final pass over the whole body: no quick-action line, no group mention, within the limit."""
    body = "\n".join(parts).strip() + "\n"
    body = defuse_group_mentions(defuse_quick_actions(body))
    if len(body) > max_chars:
        # only reached if the budget above was wrong; keep what is cut valid markdown
        cut = close_open_fence(body[: max_chars - len(m.NOTE_SHORTENED) - 40].rstrip())
        cut += "\n\n</details>" * max(0, cut.count("<details>") - cut.count("</details>"))
        body = cut + "\n\n" + m.NOTE_SHORTENED
    return body


def _clamp(max_chars: int) -> int:
    return max(MIN_NOTE_CHARS, min(int(max_chars), GITLAB_NOTE_LIMIT))


# --- the notes ----------------------------------------------------------------------


def render_mr_note(
    report: PipelineReport,
    gitlab_base_url: str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    default_branch: str | None = None,
) -> str:
    """The MR note for a failed (or still analysing) pipeline; a fixed pipeline renders the fixed note."""
    if report.fixed_in_pipeline_id is not None:
        return render_fixed_note(
            report,
            report.fixed_in_pipeline_id,
            report.fixed_in_url,
            gitlab_base_url,
            max_chars=max_chars,
            default_branch=default_branch,
        )
    max_chars = _clamp(max_chars)
    branch = report_default_branch(report, default_branch)
    n = _Note(gitlab_base_url)
    analysing = report.status in ("analysing", "running") and not report.error
    groups, allowed = group_jobs(report.jobs)

    template = m.HEADING_ANALYSING if analysing else (m.HEADING_ERROR if report.error else m.HEADING_FAILED)
    head = [note_marker(report.project_path, report.mr_iid), *_header(n, report, template), ""]
    if report.error:
        reason = n.inline(report.error, ERROR_CHARS)
        head += [
            f"> ⚠️ {m.ANALYSIS_FAILED.format(reason=reason) if reason else m.ANALYSIS_FAILED_NO_REASON}",
            "",
            m.ANALYSIS_FAILED_HINT,
            "",
        ]
    elif analysing:
        head += [m.ANALYSING, ""]
    tail = ["", "---", "", *_footer(n, report), "", *_ask_again(report)]

    budget = max_chars - len("\n".join(head + tail)) - len(m.NOTE_SHORTENED) - 16
    body: list[str] = []
    shortened = False

    def add(lines: list[str]) -> bool:
        nonlocal budget
        size = len("\n".join(lines)) + 1
        if size > budget:
            return False
        body.extend(lines)
        budget -= size
        return True

    lines = [_verdict_line(n, g, analysing, branch) for g in groups] or [m.NO_FAILED_JOBS]
    for line in lines:
        if not add([line]):
            shortened = True
            break
    if allowed and not shortened:
        names = ", ".join(n.link(n.inline(j.name, 120), job_log_url(j)) for j in allowed[:30])
        shortened = not add(["", m.ALLOWED_TO_FAIL.format(jobs=names)])
    if not shortened:
        add([""])
        for group in groups:
            details = _job_details(n, group, branch)
            if details and not add(details):
                # without the evidence block it may still fit; the job link carries the log
                if not add(_job_details(n, group, branch, with_evidence=False)):
                    shortened = True
                    break
    if shortened:
        body += ["", m.NOTE_SHORTENED]
    return _finish(head + body + tail, max_chars)


def render_fixed_note(
    previous: PipelineReport,
    fixed_pipeline_id: int,
    fixed_url: str,
    gitlab_base_url: str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    default_branch: str | None = None,
) -> str:
    """The note after a later pipeline passed: says so, and keeps a short list of what had failed."""
    max_chars = _clamp(max_chars)
    branch = report_default_branch(previous, default_branch)
    n = _Note(gitlab_base_url)
    groups, _ = group_jobs(previous.jobs)
    title = m.FIXED_IN.format(pipeline=n.pipeline(fixed_pipeline_id, fixed_url))
    parts = [
        note_marker(previous.project_path, previous.mr_iid),
        f"### {title}",
        "",
        m.FIXED_EXPLAINED.format(
            previous=n.pipeline(previous.pipeline_id, previous.pipeline_url), ref=code_span(previous.ref or "?")
        ),
        "",
    ]
    if groups:
        parts += [f"**{m.FIXED_WHAT_FAILED}**", ""]
        budget = max_chars - 2_000
        for g in groups:
            line = _fixed_line(n, g, branch)
            budget -= len(line) + 1
            if budget < 0:
                parts.append(m.NOTE_SHORTENED)
                break
            parts.append(line)
    parts += ["", "---", "", *_ask_again(previous)]
    return _finish(parts, max_chars)


def _fixed_line(n: _Note, group: JobGroup, default_branch: str) -> str:
    job, result = group.job, group.job.result
    line = f"- ~~{n.inline(job.name, 120)}~~ (stage {code_span(job.stage or '?')})"
    if result is not None:
        line += f": {n.inline(result.summary, 200)} · {m.verdict_label(verdict_of(result), default_branch)}"
    if group.also:
        line += " · " + m.ALSO_FAILED.format(jobs=", ".join(n.inline(x, 120) for x in group.also[:20]))
    return line
