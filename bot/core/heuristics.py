"""The offline analyzer: recognises common failures from the excerpt with a rule pack (pure)."""
from __future__ import annotations

import re
from string import Formatter

from bot.core.excerpt.rules import score_line
from bot.core.heuristic_rules import FAILURE_REASONS, RULES, Rule
from bot.core.types import Category, Evidence, Excerpt, ExcerptLine, ModelAnswer, Verdict

MAX_EVIDENCE = 5
MAX_SUMMARY = 200

UNKNOWN_SUMMARY = "The job failed; no known failure pattern was recognised"
UNKNOWN_CAUSE = ("The offline analyzer found no rule for this failure. The lines below are the ones that look most "
                 "like errors; the first of them is usually the cause.")
UNKNOWN_STEPS = ("Open the job log at the first evidence line and read the error above the exit.",
                 "Reproduce the failing command locally with the same image and variables.",
                 "For a deeper answer, configure a model provider (OPENAI_API_KEY or ANTHROPIC_API_KEY) and ask again.")
SECTION_NOTE = " It failed in the `{section}` step."
FOLLOWUP_INTRO = "I am the offline analyzer, so I can only restate what the log shows."
FOLLOWUP_CAUSE = "What failed: {summary}. {root_cause}"
FOLLOWUP_STEPS = "What to do:"
FOLLOWUP_EVIDENCE = "The lines that show it:"
FOLLOWUP_MORE = "For a fuller answer, ask again with a model provider (e.g. `reanalyze with openai`)."


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "it"


def _fill(template: str, match: re.Match[str] | None) -> str:
    groups = {k: v for k, v in (match.groupdict() if match else {}).items() if v}
    # A rule may name alternatives of one value (module, module2): the first that matched fills both.
    for name in [f[1] for f in Formatter().parse(template) if f[1]]:
        if name not in groups:
            alt = next((v for k, v in groups.items() if k.rstrip("0123456789") == name), None)
            if alt:
                groups[name] = alt
    reason = groups.get("reason")
    groups["reason_suffix"] = f" ({reason})" if reason else ""
    return template.format_map(_Defaults(groups))


def _evidence(excerpt: Excerpt, anchor: ExcerptLine | None) -> list[Evidence]:
    """The anchor line and the most error-like lines near it, in log order."""
    scored = sorted(((score_line(l.text), -abs(l.n - (anchor.n if anchor else l.n)), l) for l in excerpt.lines
                     if l.text.strip()), key=lambda item: (item[0], item[1]), reverse=True)
    chosen = {anchor.n: anchor} if anchor else {}
    for score, _, line in scored:
        if len(chosen) >= MAX_EVIDENCE or score <= 0:
            break
        chosen.setdefault(line.n, line)
    if not chosen and excerpt.lines:
        last = [l for l in excerpt.lines if l.text.strip()][-MAX_EVIDENCE:]
        chosen = {l.n: l for l in last}
    return [Evidence(line=n, text=chosen[n].text) for n in sorted(chosen)]


def match_rules(excerpt: Excerpt) -> list[tuple[Rule, re.Match[str], ExcerptLine]]:
    """Every (rule, match, line) in the excerpt; each rule counts once, at its first line."""
    found: dict[str, tuple[Rule, re.Match[str], ExcerptLine]] = {}
    for line in excerpt.lines:
        for rule in RULES:
            if rule.id in found:
                continue
            m = rule.pattern.search(line.text)
            if m:
                found[rule.id] = (rule, m, line)
    return list(found.values())


def best_rule(excerpt: Excerpt) -> tuple[Rule, re.Match[str], ExcerptLine] | None:
    matches = match_rules(excerpt)
    if not matches:
        return None
    return max(matches, key=lambda item: (item[0].confidence, -item[2].n))


def analyze(excerpt: Excerpt, failure_reason: str = "", job_name: str = "", stage: str = "") -> ModelAnswer:
    """The offline answer for one failed job."""
    section = excerpt.failed_section
    where = SECTION_NOTE.format(section=section) if section else ""
    if failure_reason in FAILURE_REASONS:
        category, summary, cause, steps, verdict = FAILURE_REASONS[failure_reason]
        hit = best_rule(excerpt)
        return ModelAnswer(summary=summary, category=category, root_cause=cause + where, verdict=verdict,
                           confidence=0.9, fix_steps=list(steps), evidence=_evidence(excerpt, hit[2] if hit else None))
    hit = best_rule(excerpt)
    if hit is None:
        return ModelAnswer(summary=UNKNOWN_SUMMARY, category=Category.unknown, root_cause=UNKNOWN_CAUSE + where,
                           verdict=Verdict.unknown, confidence=0.2, fix_steps=list(UNKNOWN_STEPS),
                           evidence=_evidence(excerpt, None))
    rule, match, line = hit
    summary = _fill(rule.summary, match)
    if len(summary) > MAX_SUMMARY:
        summary = summary[: MAX_SUMMARY - 1] + "…"
    return ModelAnswer(
        summary=summary, category=rule.category, root_cause=_fill(rule.root_cause, match) + where,
        verdict=rule.verdict, confidence=rule.confidence, fix_steps=[_fill(s, match) for s in rule.fix_steps],
        evidence=_evidence(excerpt, line),
    )


def answer_followup(question: str, result: ModelAnswer, excerpt: Excerpt | None) -> str:
    """A plain offline answer to a follow-up question: the cause, the steps and the evidence again."""
    parts = [FOLLOWUP_INTRO, "", FOLLOWUP_CAUSE.format(summary=result.summary.rstrip("."), root_cause=result.root_cause)]
    if result.fix_steps:
        parts += ["", FOLLOWUP_STEPS] + [f"{i}. {step}" for i, step in enumerate(result.fix_steps, 1)]
    if result.evidence:
        parts += ["", FOLLOWUP_EVIDENCE] + [f"    {e.line}: {e.text}" for e in result.evidence[:MAX_EVIDENCE]]
    parts += ["", FOLLOWUP_MORE]
    return "\n".join(parts)
