"""Block selection: the scanned lines grouped into failure blocks, ranked, and fitted into the character budget."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.excerpt.blocks import SEED_SCORE, Block, dedup_key, failure_blocks
from bot.core.excerpt.ci_systems import XTRACE_STEP, bare, is_log_dump, is_step_start
from bot.core.excerpt.clean import LineFilter, clip, hidden_chars
from bot.core.excerpt.lines import Excerpt, ExcerptLine
from bot.core.excerpt.marks import progress_marks
from bot.core.excerpt.rules import (
    CLEANUP_SECTIONS,
    COMMAND_STARTS,
    STRONG,
    VERDICT,
    is_exit_line,
    is_wrapper,
    score_line,
)
from bot.core.excerpt.scan import EXIT_BEFORE, HEAD_LINES
from bot.core.excerpt.scanned import ScanResult

# Most characters shown of one line; fewer when the budget is small.
SHOWN_LINE_CHARS = 320
# A usage banner ("Usage of prog:", "usage: prog [-h] ...") printed after a rejected argument.
_USAGE = re.compile(r"^\s*(Usage of \S+:\s*$|usage: \S)")
_UNCAUGHT = re.compile(r"^\w*Error: ")
_FRAME = re.compile(r"^\s+at \S")
IN_STEP = 3.0  # a block inside the output of the step that failed
FIRST_IN_STEP = 1.6  # the first block of that step is its first failure description
AFTER_LAST_STEP = 0.5  # after the last failing step: clean-up, uploads
REPEAT = 0.3  # each repeat of an already seen failure line is worth this much less
CLEANUP = 0.5
TOP_SHARE = 0.7  # of the budget, at most, for the top block and the blocks right after it
# Lines of one shape (the same start, numbers aside) shown per excerpt before the rest are left out.
SIMILAR_LINES = 10
SIMILAR_PREFIX = 40
STEP_HEAD_LINES = 2  # output lines right under the failing step's command
GHA_GROUP, GHA_END_GROUP = "##[group]", "##[endgroup]"
MAX_GROUP_LINES = 40  # a step's script and environment as GitHub Actions prints them in its group
STEP_SHARE = 0.2  # of the budget, for the last output of a failing step whatever it says
CONTEXT_BEFORE = 2
CONTEXT_AFTER = 3
RETRIED = 0.3  # a failure the tool said it would retry, not printed again after: the retry got past it
# A tool's notice that it retries what just failed: yarn's and pip's "Retrying", curl's "Will retry in 1 seconds. 3
# retries left.", cargo's "(2 tries remaining)", Travis' "failed. Retrying, 2 of 3.", a retry action's "Attempt 1
# failed". Not a failure after the retries (Cypress' "Timed out retrying after 4000ms", "gave up retrying").
_RETRY = re.compile(
    r"(?i)(?<!\bout )(?<!\bafter )(?<!\bup )\bretrying\b|"
    r"\bwill retry\b|\bretries left\b|\btries (?:remaining|left)\b|\battempt \d+ (?:of \d+ )?failed\b"
)


def _output_start(texts: dict[int, str], lo: int, hi: int) -> int:
    """The first output line of the step whose command is echoed on line lo. GitHub Actions prints the step's
    script, shell and environment inside the group its "Run" line opens: the output starts after the group."""
    if texts.get(lo, "").startswith(GHA_GROUP):
        for n in range(lo + 1, min(lo + MAX_GROUP_LINES, hi)):
            text = texts.get(n)
            if text is None:
                break
            if text.startswith(GHA_END_GROUP):
                return n + 1
    return lo + 1


def _traced_step(commands: list[int], n: int, text: str) -> bool:
    """Whether line n is a traced script's command echo the scan took as a step's start (not a guessed start)."""
    i = bisect.bisect_left(commands, n)
    return i < len(commands) and commands[i] == n and bool(XTRACE_STEP.match(bare(text)))


# A job's own verdict, printed once at its very end, after any phase run after the failure.
_JOB_VERDICT = re.compile(r"^(?:Done\. Your build exited with [1-9]|ERROR: Job failed\b|Finished: FAILURE)")


def _without_late_verdicts(scan: ScanResult, exits: list[int]) -> list[int]:
    """The exit lines less a job's verdict that follows a step's own exit line with another command run between:
    that command ran after the failure (an artifact upload, a cache, an after_failure), and the verdict ends the
    job, not the step. Its output is not the failing step's. Unless the exit line was a program's own, what ran
    between is no phase run after a failure, and a line of it says something failed: that program's failure was
    tolerated (`cmd || echo ignoring`), and the verdict is for the later one."""
    out: list[int] = []
    for a in exits:
        if out and _JOB_VERDICT.match(scan.texts.get(a, "")):
            i = bisect.bisect_right(scan.commands, out[-1])
            if i < len(scan.commands) and scan.commands[i] < a and _after_the_failure(scan, out[-1], a):
                continue
        out.append(a)
    return out


# The runner's own line for a failed step (Travis' `The command "x" exited with 1.`, Jenkins' `script returned exit
# code 1`, GitHub's `Process completed with exit code 1.`): the script is over, whatever runs after it.
_RUNNER_STEP_EXIT = re.compile(
    r"The command \".*\" exited with [1-9]|script returned exit code [1-9]|Process completed with exit code [1-9]"
)
# The phases a CI system runs after a failed script: Travis' after_failure, before_cache and artifact upload,
# GitLab's after_script and artifact upload, Jenkins' post actions.
_AFTER_PHASE = re.compile(
    r"^(?:Uploading Artifacts|Uploading artifacts|Running after_script|\$ travis_run_after_failure|"
    r"travis_fold:start:(?:after_failure|before_cache|after_script)|"
    r"\[Pipeline\] \{ \(Declarative: Post Actions\)|Post stage)"
)


def _after_the_failure(scan: ScanResult, start: int, end: int) -> bool:
    """Whether the lines strictly between start and end ran after the script failed (its exit line is the runner's, or
    they are a phase run after a failure), or say nothing failed."""
    if _RUNNER_STEP_EXIT.search(scan.texts.get(start, "")):
        return True
    between = [(n, text) for n, text in scan.texts.items() if start < n < end]
    if any(_AFTER_PHASE.match(bare(text)) for _, text in between):
        return True
    return all((scan.scores[n] if n in scan.scores else score_line(text)) < SEED_SCORE for n, text in between)


def _step_ends(scan: ScanResult, exits: list[int]) -> list[int]:
    """The lines that end failing steps: the exit lines; in a traced log without one (Drone, Woodpecker and Tekton
    print none of their own at the end of a step's log) whose last traced command dumps logs (`kubectl describe`,
    `docker compose logs`), its last line: such a dump runs after a command failed. Any other command last echoed
    may have run an untraced script (`curl ... | bash`), or passed, and the log's end says nothing of it."""
    if exits:
        return _without_late_verdicts(scan, exits)
    if not scan.traced or not scan.commands:
        return exits
    echo = scan.commands[-1]
    if is_log_dump(scan.texts.get(echo) or scan.heads.get(echo, "")):
        return [max((n for n, t in scan.tail if t.strip()), default=scan.total_lines)]
    return exits


def _dumps_logs(text_of: Callable[[int], str], commands: list[int], i: int) -> bool:
    """Whether command i dumps other programs' logs: its echo says so, or, for a step start that names its command
    on the next line (`[Pipeline] sh` over `+ docker compose logs`), that line. A traced command's echo names its
    own: a `grep -q` that failed silently right above a `+ docker compose logs` is not the dump."""
    text = text_of(commands[i])
    if is_log_dump(text):
        return True
    return not XTRACE_STEP.match(bare(text)) and is_log_dump(text_of(commands[i] + 1))


def _failed_steps(
    text_of: Callable[[int], str],
    commands: list[int],
    anchors: list[int],
    posts: list[int],
    traced: frozenset[int] = frozenset(),
) -> list[tuple[int, int]]:
    """(first, last) line of the output of each step that ended with a failure: from its command to its exit line.
    The run's last exit line, printed after a phase run after the failure (Jenkins' `post`), ends the step that
    ran before that phase."""
    steps = []
    for k, a in enumerate(anchors):
        j = bisect.bisect_left(posts, a) - 1
        end = posts[j] if j >= 0 and k == len(anchors) - 1 else a
        i = bisect.bisect_left(commands, end) - 1
        # A step that dumps other programs' logs ran to show why the one before it failed (a `finally`).
        while i > 0 and _dumps_logs(text_of, commands, i):
            end, i = commands[i], i - 1  # the dump's echo ends the step as an exit line would
        first = commands[i] if i >= 0 else max(end - EXIT_BEFORE, 1)
        if first in traced and first < end - EXIT_BEFORE:
            # A traced command's output longer than that is no better bounded than without it: often an untraced
            # script it runs (`curl ... | bash`), whose first error need not be the one that failed the job. The
            # step is then what the system's own step start says (`[Pipeline] sh`), or a guess.
            while i >= 0 and commands[i] in traced:
                i -= 1
            first = commands[i] if i >= 0 else max(end - EXIT_BEFORE, 1)
        steps.append((first, end))
    return steps


def _pem_block(marks: list[tuple[int, bool, str]], n: int, max_lines: int) -> int | None:
    """Index in marks of the BEGIN of the private-key block that line n lies in (after it, before its END)."""
    i = bisect.bisect_left(marks, (n,)) - 1
    if i >= 0 and marks[i][1] and n - marks[i][0] <= max_lines:
        return i
    return None


def _filter_lines(texts: dict[int, str], line_filter: LineFilter, marks: list[tuple[int, bool, str]]) -> None:
    """Run the stateful line filter over the kept lines in order, telling it where a key block starts or ends.

    Kept lines have gaps; a key's body kept without its BEGIN line would look like plain text to a
    redactor that tracks PEM state, so at a gap into a key block the BEGIN line is fed first, and at a
    gap out of one its END line."""
    # Imported here: only a redacting caller needs the redactor's limit, and the excerpt command starts faster without it.
    from bot.core.redact import MAX_PEM_LINES

    prev: int | None = None
    prev_block: int | None = None
    for n in sorted(texts):
        block = _pem_block(marks, n, MAX_PEM_LINES) if marks else None
        if prev is None or n != prev + 1:
            if prev_block is not None and prev_block != block:
                end = next((m for m in marks[prev_block + 1 :] if not m[1]), None)
                if end is not None and end[0] < n:
                    line_filter(end[2])
            if block is not None and block != prev_block:
                line_filter(marks[block][2])
        texts[n] = line_filter(texts[n])
        prev, prev_block = n, block


def _retried_blocks(texts: dict[int, str], scores: dict[int, float], blocks: list[Block]) -> set[int]:
    """The seeds of blocks whose failure the tool said it would retry (a notice in the block or right around it) and
    that no later block repeats: the retry got past it, and a later failure is what ended the step. A failure that
    every attempt printed again is not recovered; nor is one with nothing failing after it."""
    out: set[int] = set()
    keys: list[str] = []
    for i, b in enumerate(blocks[:-1]):
        around = (texts.get(n) for n in range(b.start - CONTEXT_BEFORE, b.end + CONTEXT_AFTER + 1))
        # Substring tests first: they are far cheaper than the regex.
        if not any(
            t and ("etr" in t or "ttempt" in t or "ries " in t or "ETR" in t or "TTEMPT" in t) and _RETRY.search(t)
            for t in around
        ):
            continue
        keys = keys or [dedup_key(texts[x.seed]) for x in blocks]
        if keys[i] not in keys[i + 1 :] and any(scores[x.seed] >= scores[b.seed] for x in blocks[i + 1 :]):
            out.add(b.seed)
    return out


@dataclass(slots=True)
class _Plan:
    """What the budget is spent on, in order of need: the retained lines and their ranked blocks."""

    texts: dict[int, str]
    verdicts: set[int]  # lines that are a tool's own verdict
    anchors: list[int]
    steps: list[tuple[int, int]]
    ranked: list[Block]
    heads: frozenset[int]  # lines kept only as the first lines of a step


def _read_context(texts: dict[int, str], scores: dict[int, float]) -> None:
    """Raise the scores of lines whose neighbours say what they are, whatever words they use themselves."""
    for n, t in texts.items():
        # A line that points above it: a usage banner printed after a rejected argument ("Usage of prog:"),
        # or a report that a command failed ("npm ERR! Test failed.  See above for more details."). The
        # last line printed before it says what was wrong.
        if _USAGE.match(t) or is_wrapper(t):
            above = texts.get(n - 1)
            if above and above.strip() and scores[n - 1] < SEED_SCORE and not is_wrapper(above):
                scores[n - 1] = STRONG
        # An uncaught exception printed with its stack ("Error: Cannot find module 'x'" over "    at ..."
        # frames) is the runtime's own verdict, as a Python traceback is.
        elif _UNCAUGHT.match(t) and _FRAME.match(texts.get(n + 1, "")) and scores[n] < VERDICT:
            scores[n] = VERDICT


def _wanted_heads(scan: ScanResult) -> dict[int, str]:
    """The kept first lines of the failing steps whose head the excerpt may show (the last four), and no others:
    every line in the plan costs its share of the work."""
    if not scan.heads:
        return {}
    read, heads = scan.texts, scan.heads
    exits = sorted({n for n, t in read.items() if is_exit_line(t)} | {n for n in scan.step_ends if n in read})
    steps = _failed_steps(
        lambda n: read.get(n) or heads.get(n, ""), scan.commands, _step_ends(scan, exits), scan.posts, scan.xtraces
    )
    firsts = {lo for lo, _ in steps[-4:]}
    return {n: heads[n] for lo in firsts for n in range(lo, lo + HEAD_LINES + 1) if n in heads}


def _plan(scan: ScanResult, line_filter: LineFilter | None) -> _Plan:
    """Filter the kept lines, find the failing steps and rank the failure blocks."""
    read = scan.texts
    heads = _wanted_heads(scan)
    # The filter rewrites a copy, so the scan result stays as read; a score from the scan holds only for
    # a line the filter left as it was.
    texts = dict(read) if line_filter is not None or heads else read
    texts.update(heads)
    if line_filter is not None:
        _filter_lines(texts, line_filter, scan.pem_marks)
    # A line kept only as a step's head is shown for a silent step, never a failure block of its own: score 0.
    scores = {
        n: 0.0 if n in heads else scan.scores[n] if n in scan.scores and t == read[n] else score_line(t)
        for n, t in texts.items()
    }
    # A failed test's mark in the list of tests seeds no block: its report below says why it failed.
    for n in progress_marks(texts):
        scores[n] = 0.0
    verdicts = {n for n, score in scores.items() if score >= VERDICT}
    _read_context(texts, scores)
    exits = {n for n, t in texts.items() if is_exit_line(t)} | {n for n in scan.step_ends if n in texts}
    anchors = sorted(exits)
    # A command's echo may be held only as a step's head: a log dump is known by it (as in _wanted_heads).
    steps = _failed_steps(
        lambda n: texts.get(n) or scan.heads.get(n, ""),
        scan.commands,
        _step_ends(scan, anchors),
        scan.posts,
        scan.xtraces,
    )
    blocks = failure_blocks(texts, scores, exits)
    total_lines = scan.total_lines
    last_anchor = anchors[-1] if anchors else total_lines

    block_score = {b.seed: max(scores[n] for n in range(b.seed, b.end + 1) if n in texts) for b in blocks}
    in_step = {b.seed: next((i for i, (lo, hi) in enumerate(steps) if lo <= b.seed <= hi), None) for b in blocks}
    # The first description of the failure: the first block of a failing step that is as strong as any in it.
    step_best: dict[int, float] = {}
    for b in blocks:
        step = in_step[b.seed]
        if step is not None and b.seed not in exits:
            step_best[step] = max(step_best.get(step, 0.0), block_score[b.seed])
    seen: dict[str, int] = {}
    first_of_step: set[int] = set()
    retried = _retried_blocks(texts, scores, blocks)
    for b in blocks:
        w = block_score[b.seed]
        step = in_step[b.seed]
        if b.seed in retried:
            w *= RETRIED
        if step is not None:
            w *= IN_STEP
            # A retried failure is not the step's first description of why it failed: the one after the retry is.
            first = step not in first_of_step and b.seed not in exits and b.seed not in retried
            if first and block_score[b.seed] >= step_best[step]:
                first_of_step.add(step)
                w *= FIRST_IN_STEP
        elif b.seed > last_anchor:
            w *= AFTER_LAST_STEP
        else:
            w *= 0.4 + 0.6 * b.seed / max(total_lines, 1)
        section = scan.section_at(b.seed)
        if section and CLEANUP_SECTIONS.search(section):
            w *= CLEANUP
        # A block repeats an earlier one when its failure lines say nothing new: the same error printed
        # again with the runner's summary under it is news, the same stack trace alone is not.
        key = "\n".join(
            sorted(
                {dedup_key(texts[n]) for n in range(b.start, b.end + 1) if n in texts and scores[n] >= SEED_SCORE}
                or {dedup_key(texts[b.seed])}
            )
        )
        w *= REPEAT ** seen.get(key, 0)
        seen[key] = seen.get(key, 0) + 1
        b.value = w
    ranked = sorted(blocks, key=lambda b: (-b.value, b.seed))
    return _Plan(texts, verdicts, anchors, steps, ranked, frozenset(heads))


def select(scan: ScanResult, budget_chars: int, line_filter: LineFilter | None = None) -> Excerpt:
    """Fill the budget: how the job ended, whole failure blocks by rank, the failing step's end, context.

    line_filter (the redactor) sees the kept lines in order before anything is chosen."""
    plan = _plan(scan, line_filter)
    texts, verdicts, anchors, steps, ranked = plan.texts, plan.verdicts, plan.anchors, plan.steps, plan.ranked
    total_lines, tail_lines = scan.total_lines, scan.tail
    budget = max(budget_chars, 0)
    limit = max(40, min(SHOWN_LINE_CHARS, budget // 6))
    shown: dict[int, str] = {}
    used = 0

    def whole_or_thin(b: Block) -> list[int]:
        """A block's lines: whole when it is framed or fits in what is left of the budget, else without the
        repeats of a line shape it already showed SIMILAR_LINES times (a retry loop printing the same errors)."""
        lines = [n for n in b.lines() if n in texts and n not in shown]
        if b.framed or sum(len(clip(texts[n], limit)) + 1 for n in lines) <= budget - used:
            return lines
        similar: dict[str, int] = {}
        out = []
        for n in lines:
            key = dedup_key(texts[n])[:SIMILAR_PREFIX]
            # A tool's verdict line ("FAIL: test_x") is never thinned out: each names a failure.
            if similar.get(key, 0) >= SIMILAR_LINES and texts[n].strip() and n not in verdicts:
                continue
            similar[key] = similar.get(key, 0) + 1
            out.append(n)
        return out

    def take(numbers: list[int], partial: bool = True) -> None:
        nonlocal used
        lines = [n for n in numbers if n in texts and n not in shown]
        cost = sum(len(clip(texts[n], limit)) + 1 for n in lines)
        if not partial and used + cost > budget:
            return
        for n in lines:
            text = clip(texts[n], limit)
            if used + len(text) + 1 > budget:
                if partial:
                    break
                continue
            shown[n] = text
            used += len(text) + 1

    # How the job ended: the last non-empty lines and the lines that say a step failed.
    ends = [n for n, t in reversed(tail_lines) if t.strip()][:2]
    take(sorted(ends))
    take(anchors[:1] + anchors[-2:])
    if ranked:
        # The top block and the blocks that carry straight on from it (a long report is several blocks).
        in_order = sorted(ranked, key=lambda x: (x.start, x.seed))
        starts = [x.start for x in in_order]
        b = ranked[0]
        take(list(range(b.start - 1, b.start - CONTEXT_BEFORE - 1, -1)), partial=False)
        while b is not None and used < budget * TOP_SHARE:
            take(whole_or_thin(b))
            # The next block that starts inside this one or right after it (one blank line between) and
            # reaches past its end: a report's header block is followed into the items it heads.
            i = bisect.bisect_right(starts, b.start)
            while i < len(in_order) and starts[i] <= b.end + 2 and in_order[i].end <= b.end:
                i += 1
            b = in_order[i] if i < len(in_order) and starts[i] <= b.end + 2 else None
    # The first output of the failing command often names the failure (a usage error, a bad flag).
    exits = set(anchors)
    for lo, hi in dict.fromkeys(steps[-4:]):
        head = texts.get(lo, "")
        traced = _traced_step(scan.commands, lo, head)
        # A step's head kept only as such is shown for a silent step: one whose output seeds no failure block. So is
        # a traced command's: its first lines are often the tool's start-up (downloads, banners), not a usage error.
        if (lo in plan.heads or traced) and any(lo < b.seed < hi and b.seed not in exits for b in ranked):
            continue
        # a step found from its command echo or another system's start of a step, not a guess
        if head.startswith(COMMAND_STARTS) or is_step_start(head) or traced:
            first = _output_start(texts, lo, hi)
            take([lo, *range(first, min(first + STEP_HEAD_LINES, hi))], partial=False)
    # The last output of the first and the last failing step, whatever it says, up to a share of the budget.
    for lo, hi in dict.fromkeys(steps[:1] + steps[-1:]):
        share = used + budget * STEP_SHARE
        for n in range(hi - 1, lo - 1, -1):
            if n not in texts or used + len(clip(texts[n], limit)) + 1 > share:
                break
            take([n])
    for b in ranked[1:]:
        if not b.carried:
            take(whole_or_thin(b), partial=False)
    # Context: a line or two above each chosen block and what follows it, then the end of the log.
    for b in ranked:
        if b.seed in shown:
            take(list(range(b.start - 1, b.start - CONTEXT_BEFORE - 1, -1)), partial=False)
            take(list(range(b.end + 1, b.end + CONTEXT_AFTER + 1)), partial=False)
    for lo, hi in reversed(steps):
        take(list(range(hi - 1, lo - 1, -1)))
    take([n for n, _ in reversed(tail_lines)])

    chosen = sorted(shown)
    # A blank line on its own says nothing; keep blanks only next to chosen text.
    picked = set(chosen)
    chosen = [
        n
        for n in chosen
        if shown[n].strip()
        or n == total_lines
        or (n - 1 in picked and shown[n - 1].strip())
        or (n + 1 in picked and shown[n + 1].strip())
    ]
    lines = [ExcerptLine(n, shown[n], scan.section_at(n), hidden_chars(texts[n], shown[n])) for n in chosen]
    top = ranked[0].seed if ranked else None
    failed = scan.section_at(top) if top is not None else None
    if failed is None and scan.section_names:
        failed = next((s for s in reversed(scan.section_names) if s and not CLEANUP_SECTIONS.search(s)), None)
    lead = (ranked[0].start, ranked[0].end) if ranked else None
    return Excerpt(
        lines,
        total_lines=total_lines,
        failed_section=failed,
        bytes_read=scan.bytes_read,
        truncated=scan.truncated,
        lead=lead,
    )
