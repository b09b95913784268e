"""The offline analyzer (pure): extractive first. The summary is the decisive error in the tool's own words
(heuristic_facts), the root cause says what those lines say, plus a rule's explanation only when a rule
of the pack (heuristic_rules) matches the failure's own lines."""

from __future__ import annotations

import re
from dataclasses import replace
from string import Formatter

from bot.core import messages
from bot.core.excerpt.rules import score_line
from bot.core.heuristic_causes import ALL_RULES, CAUSES
from bot.core.heuristic_exits import TIMEOUT_EXIT
from bot.core.heuristic_facts import Facts, facts
from bot.core.heuristic_formats import ECHO, TEST_CONTEXT
from bot.core.heuristic_headline import NAMES
from bot.core.heuristic_lines import bare, clean, repeats_start, shorten
from bot.core.heuristic_reasons import FAILURE_REASONS
from bot.core.heuristic_rules import Rule
from bot.core.heuristic_stalls import STALL_RULES, Stall, command_of, stall
from bot.core.types import Category, Evidence, Excerpt, ExcerptLine, ModelAnswer, Verdict

MAX_EVIDENCE = 5
NEAR_ANCHOR = 100
EVIDENCE_DETAIL = 2  # lines of the failure's detail quoted right after the headline
EVIDENCE_STRONGEST = 3  # the excerpt's strongest lines quoted whatever the headline
MAX_SUMMARY = 200
MAX_CAUSE_STATEMENT = 400
MAX_SUFFIX_COMMAND = 60
MAX_STEP_SUFFIX = 50
MAX_STALL_COMMAND = 50
MAX_STALL_LAST = 70
OWN_MODULE_RULE = "python-missing-module"  # may name a module of the project itself
CAUSE_WINDOW = 3  # lines above a failure where a known cause may be printed (git's `remote:` lines over its `fatal:`)

UNKNOWN_SUMMARY = "The job failed; no known failure pattern was recognised"
UNKNOWN_CAUSE = (
    "The offline analyzer found no rule for this failure. The lines below are the ones that look most "
    "like errors; the first of them is usually the cause."
)
UNKNOWN_STEPS = (
    "Open the job log at the first evidence line and read the error above the exit.",
    "Reproduce the failing command locally with the same image and variables.",
    "For a deeper answer, configure a model provider (OPENAI_API_KEY or ANTHROPIC_API_KEY) and ask again.",
)
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


_LOCATION = re.compile(r"[\w./\\-]*\w\.\w{1,10}(?::\d+(?::\d+)?|:\[\d+,\d+\]|\(\d+(?:,\d+)?\)|\", line \d+)")
_TEST_WORDS = re.compile(r"(?i)\b(?:test|tests|spec|expected|expect|received|(?-i:FAIL(?:ED)?))\b|::|›|_test\.|Test\b")
# An assertion's words (`AssertionError`, `assert`, `assertEqual`) say a test failed only under a test runner
# (TEST_CONTEXT): a script's `assert` or a library's AssertionError is the script's crash.
_ASSERT_WORDS = re.compile(r"(?i)\bassert\w*")


def _under_test(excerpt: Excerpt, line: ExcerptLine | None) -> bool:
    """True when the output of the command that printed `line` (from the command's echo above it to the next
    command's) shows a test runner's context."""
    if line is None or line not in excerpt.lines:
        return False
    lines = excerpt.lines
    i = lines.index(line)
    start = next((k for k in range(i, -1, -1) if ECHO.match(bare(lines[k].text))), 0)
    end = next((k for k in range(i + 1, len(lines)) if ECHO.match(bare(lines[k].text))), len(lines))
    return any(TEST_CONTEXT.search(bare(ln.text)) for ln in lines[start:end])


def _assertion_under_test(excerpt: Excerpt, hit: tuple[Rule, re.Match[str], ExcerptLine]) -> bool:
    """A rule that read an AssertionError as a crash (python-traceback), where a test runner printed it."""
    return hit[1].groupdict().get("exc") == "AssertionError" and _under_test(excerpt, hit[2])


def _own_module(excerpt: Excerpt, hit: tuple[Rule, re.Match[str], ExcerptLine]) -> bool:
    """A rule that read a module Python cannot import as a package to install, where the module is not one: a
    submodule of a package that imports (`shop.coupons`: the package's layout or version, not a missing install), or a
    module whose top package is a directory of the project's paths the log prints (`/builds/acme/money/tests/x.py` for
    `money`), not an installed package's (site-packages)."""
    if hit[0].id != OWN_MODULE_RULE:
        return False
    module = hit[1].groupdict().get("module") or ""
    top = module.split(".")[0]
    return "." in module or any(f"/{top}/" in ln.text and "-packages/" not in ln.text for ln in excerpt.lines)


def _evidence(
    excerpt: Excerpt,
    anchor: ExcerptLine | None,
    block: tuple[ExcerptLine, ...] = (),
    named: tuple = (),
    detail: tuple[ExcerptLine, ...] = (),
) -> list[Evidence]:
    """The anchor line first (the note links it), then the lines that name the failing step and command, the
    failure's own lines and the most error-like lines near the anchor, in log order."""
    chosen: dict[int, ExcerptLine] = {anchor.n: anchor} if anchor else {}
    # The failure's own detail under its headline (the expected and actual values, the exception under a test's name).
    # A line of it printed flush left that names where or what (pytest's "tests/x.py:9: AssertionError" under its
    # indented "E" lines) before the lines that only continue the message; an indented frame (RSpec's "# ./x.rb:41:in",
    # "at f (a.js:3:9)") is where it was raised, under the values that say what.
    said = [ln for ln in detail[1:] if bare(ln.text).strip()]
    # A line that only repeats the start of the line above it (npm's `npm ERR! 404` under `npm ERR! 404 Not Found`)
    # quotes nothing new: the room is for the lines under it.
    said = [ln for k, ln in enumerate(said) if not (k and repeats_start(clean(said[k - 1].text), clean(ln.text)))]
    placed = [ln for ln in said if bare(ln.text)[:1].strip() and NAMES.search(bare(ln.text))]
    for line in sorted(said, key=lambda ln: ln not in placed)[:EVIDENCE_DETAIL]:
        chosen.setdefault(line.n, line)
    # The lines that name what failed (a Gradle task, a make target, a command and its exit status).
    for line in named:
        if line is not None:
            chosen.setdefault(line.n, line)
    # The strongest failure lines of the excerpt, nearest the anchor first, then the failure's own detail.
    scored = sorted(
        (
            (score_line(ln.text), -abs(ln.n - (anchor.n if anchor else ln.n)), ln)
            for ln in excerpt.lines
            if bare(ln.text).strip()
        ),
        # Within NEAR_ANCHOR lines of the anchor first: a strong line far away is another failure's or noise.
        key=lambda item: (item[0] > 0 and item[1] >= -NEAR_ANCHOR, item[0], item[1]),
        reverse=True,
    )
    for score, _, line in scored[:EVIDENCE_STRONGEST]:
        if score <= 0 or len(chosen) >= MAX_EVIDENCE:
            break
        chosen.setdefault(line.n, line)
    for line in block:
        if len(chosen) >= MAX_EVIDENCE:
            break
        if bare(line.text).strip() and (score_line(line.text) > 0 or line.n < (anchor.n if anchor else 0) + 6):
            chosen.setdefault(line.n, line)
    for score, _, line in scored:
        if len(chosen) >= MAX_EVIDENCE or score <= 0:
            break
        chosen.setdefault(line.n, line)
    if not chosen and excerpt.lines:
        last = [ln for ln in excerpt.lines if ln.text.strip()][-MAX_EVIDENCE:]
        chosen = {ln.n: ln for ln in last}
    rest = sorted(n for n in chosen if not anchor or n != anchor.n)
    order = ([anchor.n] if anchor else []) + rest
    return [Evidence(line=n, text=chosen[n].text) for n in order]


def match_rules(
    excerpt: Excerpt, within: tuple[ExcerptLine, ...] | None = None, rules: tuple[Rule, ...] = ALL_RULES
) -> list[tuple[Rule, re.Match[str], ExcerptLine]]:
    """Every (rule, match, line) in the excerpt (or in the given lines); each rule counts once, at its first line."""
    found: dict[str, tuple[Rule, re.Match[str], ExcerptLine]] = {}
    for line in excerpt.lines if within is None else within:
        for rule in rules:
            if rule.id in found:
                continue
            m = rule.pattern.search(line.text)
            if m:
                found[rule.id] = (rule, m, line)
    return list(found.values())


def best_rule(
    excerpt: Excerpt,
    within: tuple[ExcerptLine, ...] | None = None,
    headline: ExcerptLine | None = None,
    rules: tuple[Rule, ...] = ALL_RULES,
) -> tuple[Rule, re.Match[str], ExcerptLine] | None:
    """The rule that explains the failure: one matching the headline first, then the most confident."""
    matches = match_rules(excerpt, within, rules)
    if not matches:
        return None
    return max(matches, key=lambda item: (headline is not None and item[2] is headline, item[0].confidence, -item[2].n))


def _cause_above(excerpt: Excerpt, found: Facts) -> tuple[Rule, re.Match[str], ExcerptLine] | None:
    """A known cause printed just above the failure's lines, by the same command, when those lines matched no rule:
    a server's explanation of the error that follows it (git's `remote: You are not allowed to download code from
    this project.` over its `fatal:`). Not across a command echo: an earlier command's error is not this one's."""
    assert found.headline is not None
    first = min([found.headline.n, *(line.n for line in found.block)])
    above: list[ExcerptLine] = []
    for line in reversed(excerpt.lines):
        if line.n >= first:
            continue
        if line.n < first - CAUSE_WINDOW or bare(line.text).startswith(("$ ", "+ ")):
            break
        above.append(line)
    return best_rule(excerpt, tuple(reversed(above)), None, CAUSES) if above else None


def _stall_suffix(stalled: Stall) -> str:
    """What a timed-out job was doing, for the summary: the running command and its last output, as room allows."""
    parts = []
    if stalled.command is not None:
        parts.append(
            messages.OFFLINE_STALL_SUFFIX.format(command=shorten(command_of(stalled.command), MAX_STALL_COMMAND))
        )
    if stalled.last is not None:
        parts.append(messages.OFFLINE_STALL_LAST_SUFFIX.format(last=shorten(clean(stalled.last.text), MAX_STALL_LAST)))
    return f" ({'; '.join(parts)})" if parts else ""


def _summary(found: Facts, stalled: Stall | None = None) -> str:
    if stalled is not None:
        # Time ran out: the runner's line says only that; what was running and where it was say why.
        suffix = _stall_suffix(stalled)
        if suffix:
            return found.statement(max(MAX_SUMMARY - len(suffix), MAX_SUMMARY // 3)) + suffix
    exit_ = found.exit
    suffix = ""
    if exit_ is not None and exit_.line is not found.headline and (exit_.command or exit_.code != 1):
        exit_text = (
            messages.OFFLINE_EXIT_OF.format(command=shorten(exit_.command, MAX_SUFFIX_COMMAND), code=exit_.code)
            if exit_.command
            else messages.OFFLINE_EXIT.format(code=exit_.code)
        )
        suffix = f" ({exit_text})"
    elif exit_ is None and found.step:
        suffix = f" ({messages.OFFLINE_STEP_FAILED.format(step=found.step)})"
    # The error's own words come first: the suffix (which command, which exit code) takes the room the statement
    # leaves, shortened to the exit code or left to the root cause when the statement needs the whole headline.
    # A build tool's step (a Gradle task, a make target) names what failed: its short name keeps its room.
    room = len(suffix) if found.step_line is not None and len(suffix) <= MAX_STEP_SUFFIX else 0
    statement = found.statement(MAX_SUMMARY - room)
    if exit_ is not None and messages.OFFLINE_EXIT.format(code=exit_.code) in statement:
        suffix = ""
    if len(statement) + len(suffix) > MAX_SUMMARY and exit_ is not None:
        suffix = f" ({messages.OFFLINE_EXIT.format(code=exit_.code)})"
    if len(statement) + len(suffix) > MAX_SUMMARY:
        suffix = ""
    return statement + suffix


def _cause(found: Facts, explanation: str, stalled: Stall | None = None) -> str:
    assert found.headline is not None
    parts = [messages.OFFLINE_CAUSE.format(line=found.headline.n, statement=found.statement(MAX_CAUSE_STATEMENT))]
    if stalled is not None and stalled.command is not None:
        parts.append(messages.OFFLINE_STALL_COMMAND.format(command=command_of(stalled.command), line=stalled.command.n))
    if stalled is not None and stalled.last is not None:
        parts.append(messages.OFFLINE_STALL_LAST.format(line=stalled.last.n, text=clean(stalled.last.text)))
    if found.exit is not None:
        meaning = messages.OFFLINE_EXIT_MEANINGS.get(found.exit.code, "")
        if found.exit.code == TIMEOUT_EXIT and not found.timed_out:
            meaning = ""  # 124 is `timeout`'s only when `timeout` ran the command (xargs and scripts use it too)
        parts.append(
            messages.OFFLINE_CAUSE_EXIT.format(
                command=f" (`{found.exit.command}`)" if found.exit.command else "",
                code=found.exit.code,
                meaning=f" ({meaning})" if meaning else "",
            )
        )
    if explanation:
        parts.append(explanation)
    return " ".join(p if p.endswith((".", "…", "!", "?")) else p + "." for p in parts)


def _steps(found: Facts) -> list[str]:
    steps = []
    location = _LOCATION.search(found.statement(1000))
    if location:
        steps.append(messages.OFFLINE_STEP_LOCATION.format(location=location.group(0)))
    if found.exit is not None and found.exit.command:
        steps.append(messages.OFFLINE_STEP_REPRODUCE.format(command=found.exit.command))
    steps.append(messages.OFFLINE_STEP_READ)
    steps.append(messages.OFFLINE_STEP_MODEL)
    return steps


def _kind(found: Facts, under_test: bool) -> tuple[Category, Verdict]:
    """Category and verdict from the failure's own lines when no rule explains it."""
    text = " ".join(line.text for line in found.detail)
    head = found.detail[0].text if found.detail else ""

    def tested(words: str) -> bool:
        return bool(_TEST_WORDS.search(words) or (under_test and _ASSERT_WORDS.search(words)))

    # A compiler's `file:line: error` headline is a build error, whatever its message says ("expected type").
    if _LOCATION.search(head) and "error" in head.lower() and not tested(head):
        return Category.build, Verdict.caused_by_change
    if tested(text):
        return Category.test, Verdict.caused_by_change
    if _LOCATION.search(text) and "error" in text.lower():
        return Category.build, Verdict.caused_by_change
    return Category.unknown, Verdict.unknown


def analyze(excerpt: Excerpt, failure_reason: str = "", job_name: str = "", stage: str = "") -> ModelAnswer:
    """The offline answer for one failed job: the decisive error in the tool's own words, explained by a
    rule only when a rule matches the failure's own lines."""
    section = excerpt.failed_section
    where = SECTION_NOTE.format(section=section) if section else ""
    found = facts(excerpt)
    if failure_reason in FAILURE_REASONS:
        category, summary, cause, steps, verdict = FAILURE_REASONS[failure_reason]
        return ModelAnswer(
            summary=summary,
            category=category,
            root_cause=cause + where,
            verdict=verdict,
            confidence=0.9,
            fix_steps=list(steps),
            evidence=_evidence(excerpt, found.headline, found.block, found.named_lines(), found.detail),
        )
    if found.headline is None:
        return ModelAnswer(
            summary=UNKNOWN_SUMMARY,
            category=Category.unknown,
            root_cause=UNKNOWN_CAUSE + where,
            verdict=Verdict.unknown,
            confidence=0.2,
            fix_steps=list(UNKNOWN_STEPS),
            evidence=_evidence(excerpt, None),
        )
    hit = best_rule(excerpt, found.block, found.headline) or _cause_above(excerpt, found)
    if hit is not None and (_assertion_under_test(excerpt, hit) or _own_module(excerpt, hit)):
        rules = tuple(rule for rule in ALL_RULES if rule is not hit[0])
        hit = best_rule(excerpt, found.block, found.headline, rules) or _cause_above(excerpt, found)
    if hit is None:
        category, verdict = _kind(found, _under_test(excerpt, found.headline))
        return ModelAnswer(
            summary=_summary(found),
            category=category,
            root_cause=_cause(found, "") + where,
            verdict=verdict,
            confidence=0.5,
            fix_steps=_steps(found),
            evidence=_evidence(excerpt, found.headline, found.block, found.named_lines(), found.detail),
        )
    rule, match, matched = hit
    stalled = None
    if rule.id in STALL_RULES:
        if found.headline is not None and matched.n > found.headline.n:
            # The runner stopped the job after the line taken as the headline (a test still running, a retry's
            # message): running out of time is the failure, and that line is where the job was, not why it stopped.
            # The test, step and report it named were the old headline's: a test that had finished did not stop it.
            empty = {"test": "", "test_line": None, "step": "", "step_line": None, "context": None}
            found = replace(found, headline=matched, detail=(matched,), **empty)
        stalled = stall(excerpt, found.headline)
    named = found.named_lines() + (stalled.lines() if stalled is not None else ())
    return ModelAnswer(
        summary=_summary(found, stalled),
        category=rule.category,
        root_cause=_cause(found, _fill(rule.root_cause, match), stalled) + where,
        verdict=rule.verdict,
        confidence=rule.confidence,
        fix_steps=[_fill(s, match) for s in rule.fix_steps],
        evidence=_evidence(excerpt, found.headline, found.block, named, found.detail),
    )


def answer_followup(question: str, result: ModelAnswer, excerpt: Excerpt | None) -> str:
    """A plain offline answer to a follow-up question: the cause, the steps and the evidence again."""
    parts = [
        FOLLOWUP_INTRO,
        "",
        FOLLOWUP_CAUSE.format(summary=result.summary.rstrip("."), root_cause=result.root_cause),
    ]
    if result.fix_steps:
        parts += ["", FOLLOWUP_STEPS] + [f"{i}. {step}" for i, step in enumerate(result.fix_steps, 1)]
    if result.evidence:
        parts += ["", FOLLOWUP_EVIDENCE] + [f"    {e.line}: {e.text}" for e in result.evidence[:MAX_EVIDENCE]]
    parts += ["", FOLLOWUP_MORE]
    return "\n".join(parts)
