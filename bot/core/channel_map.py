"""Which Slack channels see which GitLab projects: path patterns, the branch filter and minimum severity (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.core.types import PipelineReport, Verdict

# SLACK_CHANNEL_MAP entries name a channel id, or "*": any channel may subscribe to those paths.
OPEN_GRANT = "*"

BRANCH_FILTERS = ("all", "default_and_mr", "default")
# Lowest to highest; "all" lets everything through.
SEVERITIES = ("all", "low", "medium", "high", "critical")

_SEGMENT = re.compile(r"^[A-Za-z0-9_.*\-]+$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,20}$")
MAX_PATTERN_CHARS = 512


class ChannelMapError(ValueError):
    """A mapping entry or subscription path is not usable; the message says why."""


@dataclass(frozen=True, slots=True)
class ChannelRule:
    """One path pattern mapped to one channel (or to OPEN_GRANT)."""

    pattern: str
    channel: str
    source: str = "settings"  # settings | subscription


def normalize_pattern(text: str) -> str:
    """'/Group/Sub/*/' -> 'group/sub/*'; raises ChannelMapError for anything that is not a path pattern."""
    if not isinstance(text, str):
        raise ChannelMapError("the path is missing")
    value = text.strip().strip("/").lower()
    if not value:
        raise ChannelMapError("the path is empty")
    if len(value) > MAX_PATTERN_CHARS:
        raise ChannelMapError(f"the path is longer than {MAX_PATTERN_CHARS} characters")
    segments = value.split("/")
    for segment in segments:
        if not _SEGMENT.match(segment) or segment in (".", ".."):
            raise ChannelMapError(f"{segment or '(empty)'!r} is not a GitLab group or project name")
        if "**" in segment and segment != "**":
            raise ChannelMapError("'**' must be a whole path segment")
    return value


def parse_channel_map(entries: Iterable[str]) -> tuple[list[ChannelRule], list[str]]:
    """SLACK_CHANNEL_MAP entries 'group/*=C123' -> (rules, one problem per entry that was skipped)."""
    rules: list[ChannelRule] = []
    problems: list[str] = []
    for entry in entries:
        path, sep, channel = str(entry).rpartition("=")
        channel = channel.strip()
        if not sep:
            problems.append(f"{entry!r}: not path=channel")
            continue
        if channel != OPEN_GRANT and not _CHANNEL_ID.match(channel):
            problems.append(f"{entry!r}: {channel!r} is not a channel id such as C0123ABCD (or * for any channel)")
            continue
        try:
            rules.append(ChannelRule(normalize_pattern(path), channel))
        except ChannelMapError as exc:
            problems.append(f"{entry!r}: {exc}")
    return rules, problems


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for segment in pattern.split("/"):
        if segment == "**":
            parts.append(r"[^/]+(?:/[^/]+)*")
        else:
            parts.append("[^/]*".join(re.escape(piece) for piece in segment.split("*")))
    # A pattern names a project or a group, and a group includes everything below it.
    return re.compile("^" + "/".join(parts) + "(?:/.*)?$", re.IGNORECASE)


_compiled: dict[str, re.Pattern[str]] = {}


def pattern_matches(pattern: str, project_path: str) -> bool:
    """'group/*' matches 'group/app' and 'group/sub/app'; 'group/app' matches itself; case-insensitive."""
    if not project_path:
        return False
    regex = _compiled.get(pattern)
    if regex is None:
        if len(_compiled) > 4096:
            _compiled.clear()
        regex = _compiled[pattern] = _pattern_regex(pattern)
    return regex.match(project_path.strip("/")) is not None


def patterns_overlap(a: str, b: str) -> bool:
    """Whether some project path could match both patterns (compared segment by segment)."""
    # Paths of different depth are compared up to the shorter one (see the return below).
    for left, right in zip(a.split("/"), b.split("/"), strict=False):
        if "**" in (left, right):
            return True
        if not (_segment_could_match(left, right) or _segment_could_match(right, left)):
            return False
    # One is a prefix of the other: the longer one lies within the group the shorter names.
    return True


def _segment_could_match(pattern_segment: str, other: str) -> bool:
    literal = other.replace("*", "")
    regex = "^" + "[^/]*".join(re.escape(p) for p in pattern_segment.split("*")) + "$"
    return "*" in other or re.match(regex, literal, re.IGNORECASE) is not None


def subscription_rules(rows: Iterable[tuple[str, str]]) -> list[ChannelRule]:
    """(channel, path_pattern) rows from the database as rules."""
    return [ChannelRule(pattern, channel, "subscription") for channel, pattern in rows]


def channel_sees(channel: str, project_path: str, rules: Iterable[ChannelRule]) -> bool:
    """A channel sees a project mapped to it in settings, or one it subscribed to inside an open grant."""
    rules = list(rules)
    for rule in rules:
        if rule.source == "settings" and rule.channel == channel and pattern_matches(rule.pattern, project_path):
            return True
    subscribed = any(
        r.source == "subscription" and r.channel == channel and pattern_matches(r.pattern, project_path) for r in rules
    )
    return subscribed and granted_to_any(project_path, rules)


def granted_to_any(project_path: str, rules: Iterable[ChannelRule]) -> bool:
    return any(
        r.source == "settings" and r.channel == OPEN_GRANT and pattern_matches(r.pattern, project_path) for r in rules
    )


def _segment_within(inner: str, outer: str) -> bool:
    """Every name `inner` matches is matched by `outer`: outer's regex matches inner read literally, so each of
    inner's '*' falls inside one of outer's wildcards."""
    if outer == "*":
        return True
    regex = "[^/]*".join(re.escape(piece) for piece in outer.split("*"))
    return re.fullmatch(regex, inner, re.IGNORECASE) is not None


def pattern_within(inner: str, outer: str) -> bool:
    """Whether every project `inner` matches is also matched by `outer`. Sure when it says yes; it may say no
    when unsure (a '**' inside `outer`), so a subscription is never said to grant what it does not."""
    i, o = inner.split("/"), outer.split("/")
    if o[-1] == "**":
        o[-1] = "*"  # "g/**" and "g/*" both mean everything below g
    if "**" in o:
        return False
    if len(i) == 1 and i[0] != "**":
        i.append("*")  # no project sits at the top level: "g" means the projects below g
    for k, o_segment in enumerate(o):
        if k >= len(i):
            return False  # outer asks for more levels than inner's paths are sure to have
        if i[k] == "**":
            # Any names from here on, at least one level per remaining segment of inner.
            return all(seg == "*" for seg in o[k:]) and len(o) <= len(i)
        if not _segment_within(i[k], o_segment):
            return False
    return True


class Subscription(StrEnum):
    """What `/cicd subscribe <pattern>` would give a channel."""

    grants = "grants"  # inside what SLACK_CHANNEL_MAP opens to any channel, and new to this channel
    already = "already"  # the channel already gets all of it, from its mapping or another subscription
    too_broad = "too_broad"  # reaches beyond every open grant it touches: it would grant less than it says
    not_allowed = "not_allowed"  # touches no open grant: it would grant nothing


def check_subscription(pattern: str, rules: Iterable[ChannelRule], channel: str) -> tuple[Subscription, list[str]]:
    """The verdict, with the patterns it is about (the channel's covering one, or the open grants it touches)."""
    rules = list(rules)
    grants = [r.pattern for r in rules if r.source == "settings" and r.channel == OPEN_GRANT]
    own = [
        r.pattern
        for r in rules
        if r.channel == channel
        and (r.source == "settings" or any(pattern_within(r.pattern, grant) for grant in grants))
    ]
    covering = [p for p in own if pattern_within(pattern, p)]
    if covering:
        return Subscription.already, covering
    touched = [grant for grant in grants if patterns_overlap(grant, pattern)]
    if not touched:
        return Subscription.not_allowed, []
    if any(pattern_within(pattern, grant) for grant in touched):
        return Subscription.grants, []
    return Subscription.too_broad, touched


def has_scope(channel: str, rules: Iterable[ChannelRule]) -> bool:
    """Whether anything is mapped to the channel: a SLACK_CHANNEL_MAP entry, or a subscription an open grant backs."""
    rules = list(rules)
    grants = [r.pattern for r in rules if r.source == "settings" and r.channel == OPEN_GRANT]
    return any(
        r.channel == channel and (r.source == "settings" or any(patterns_overlap(r.pattern, g) for g in grants))
        for r in rules
    )


def channels_for(project_path: str, rules: Iterable[ChannelRule]) -> list[str]:
    """Every channel that is told about failures of this project, in a stable order, once each."""
    rules = list(rules)
    candidates = dict.fromkeys(r.channel for r in rules if r.channel != OPEN_GRANT)
    return [c for c in candidates if channel_sees(c, project_path, rules)]


# --- filters -------------------------------------------------------------------------


def branch_allowed(branch_filter: str, ref: str, default_branch: str, mr_iid: int | None) -> bool:
    """SLACK_BRANCH_FILTER: all | default_and_mr (default branch and merge request pipelines) | default."""
    on_default = bool(default_branch) and ref == default_branch
    if branch_filter == "default":
        return on_default
    if branch_filter == "default_and_mr":
        return on_default or mr_iid is not None or ref.startswith("refs/merge-requests/")
    return True


def report_severity(report: PipelineReport, default_branch: str) -> str | None:
    """critical: the default branch is broken; high: the change broke it; medium: unclear; low: retry will do.

    None while no job has an answer yet and the pipeline is not on the default branch.
    """
    if default_branch and report.ref == default_branch:
        return "critical"
    verdicts = [j.result.verdict for j in report.jobs if j.result is not None and not j.allow_failure]
    if not verdicts:
        return None
    if Verdict.broken_on_default_branch in verdicts:
        return "critical"
    if Verdict.caused_by_change in verdicts:
        return "high"
    if Verdict.unknown in verdicts:
        return "medium"
    return "low"


def severity_allowed(minimum: str, severity: str | None) -> bool:
    """Unknown minimums let everything through (fail open: a typo must not silence alerts)."""
    if minimum not in SEVERITIES or minimum == "all":
        return True
    if severity is None:
        return False
    return SEVERITIES.index(severity) >= SEVERITIES.index(minimum)
