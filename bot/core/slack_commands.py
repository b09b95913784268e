"""The `/cicd` command: parsing its text, and the help, usage, acknowledgement and answer texts (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.channel_map import ChannelMapError, Subscription, normalize_pattern
from bot.core.channel_status import ChannelStatus
from bot.core.messages import provider_name, verdict_label
from bot.core.pipelines import Reference, parse_pipeline_reference

COMMANDS = ("explain", "reanalyze", "provider", "history", "subscribe", "unsubscribe", "status", "link", "help")
MAX_COMMAND_CHARS = 2000

USAGE = {
    "explain": "Usage: `/cicd explain <pipeline URL | job URL | MR URL | group/project#pipeline-id>`",
    "reanalyze": "Usage: `/cicd reanalyze <pipeline URL | job URL | MR URL | group/project#pipeline-id> [provider]`",
    "provider": "Usage: `/cicd provider [list | <name>]`",
    "history": "Usage: `/cicd history [group/project]`",
    "subscribe": "Usage: `/cicd subscribe <group/path>` (wildcards allowed, e.g. `group/*`)",
    "unsubscribe": "Usage: `/cicd unsubscribe <group/path>`",
    "status": "Usage: `/cicd status`",
    "link": "Usage: `/cicd link`",
    "help": "Usage: `/cicd help`",
}

HELP_TEXT = """\
*cicd-bot* explains failed GitLab pipelines.
• `/cicd explain <pipeline, job or MR URL | group/project#1234>`: analyse a pipeline (an MR URL means its latest pipeline)
• `/cicd reanalyze <same> [provider]`: analyse again, optionally with another provider
• `/cicd provider [list | <name>]`: show or set this channel's preferred provider
• `/cicd history [group/project]`: recent failures and their verdicts
• `/cicd subscribe <group/path>` · `/cicd unsubscribe <group/path>`: failure notifications for this channel
• `/cicd status`: queue, dead letters, providers and today's spend of this channel's projects
• `/cicd link`: link your Slack user to your GitLab account
Reply in a failure thread to ask a follow-up question; use the buttons to analyse again or to say whether an answer helped."""

# --- acknowledgements and answers ------------------------------------------------------

ACK_EXPLAIN = "Got it: analysing {what} of {project}. The answer will appear in this channel."
ACK_REANALYZE = "Got it: analysing {what} of {project} again{with_provider}. The answer will appear in this channel."
ACK_WITH_PROVIDER = " with {provider}"
ACK_DUPLICATE = "I am already on it."
PROVIDER_SET = "This channel now prefers {provider}."
PROVIDER_CURRENT = "This channel uses {provider}{note}. Configured: {available}."
PROVIDER_DEFAULT_NOTE = " (the bot's default)"
SUBSCRIBED = "This channel now gets failures of `{path}`."
ALREADY_SUBSCRIBED = "This channel already gets failures of `{path}`."
UNSUBSCRIBED = "This channel no longer gets failures of `{path}`."
NOT_SUBSCRIBED = "This channel is not subscribed to `{path}`. Subscriptions: {current}."
SUBSCRIBE_NOT_ALLOWED = (
    "Subscribing to `{path}` is not allowed here. An admin can allow it with "
    "`{path}=*` (any channel) or `{path}={channel}` in SLACK_CHANNEL_MAP."
)
SUBSCRIBE_COVERED = "This channel already gets failures of `{path}` through `{covering}`; nothing was added."
SUBSCRIBE_TOO_BROAD = (
    "`{path}` reaches beyond what SLACK_CHANNEL_MAP lets any channel subscribe to ({grants}), so nothing was added: "
    "it would not get failures of all of `{path}`. Subscribe within those, e.g. `/cicd subscribe {example}`."
)
HISTORY_HEADING = "*Recent failures{scope}*"
HISTORY_LINE = "• {project} #{pipeline} · {job} · *{verdict}*: {summary}"
HISTORY_EMPTY = "No analysed failures yet{scope}."
HISTORY_NOTHING_VISIBLE = "This channel is not mapped to any project yet; see `/cicd subscribe`."
# Only the projects this channel sees are counted; other channels' projects and global totals are not shown.
STATUS_TEXT = (
    "*cicd-bot status for the projects of this channel*\n• queue: {queued} waiting, {running} running, "
    "{dead} dead letters\n• providers: {providers} (default {default})\n"
    "• spent today: ${cost:.4f} in {calls} model calls"
)
STATUS_DEAD_LINE = "• dead letter {id} ({kind})"  # no error text: it may say more than the project's name
STATUS_PARTIAL = "• counted among the newest {limit} open jobs only"
STATUS_NOTHING_MAPPED = (
    "Nothing is mapped to this channel, so there is no status to show here. Subscribe it with "
    "`/cicd subscribe <group/path>` where SLACK_CHANNEL_MAP lets any channel subscribe, or ask an admin to map "
    "projects to it in SLACK_CHANNEL_MAP."
)
LINK_START = (
    "To link your GitLab account, post this as a comment on any merge request within {minutes} minutes:\n"
    "`@{bot} link {code}`"
)
LINK_DONE = "Your Slack account is now linked to GitLab user @{username}."
NEEDS_PROJECT = "Give the project too, e.g. `group/project#{number}` or the full URL."
BAD_REFERENCE = "I could not read {text!r} as a pipeline, job or MR on {host}."
UNKNOWN_PROVIDER = "I don't know the provider {provider!r}. Configured: {available}."
TOO_LONG = "That command is too long."

# Replies to Slack users that are not in bot/messages.py yet.
REFUSAL_NOT_LINKED = "Link your GitLab account first with `/cicd link`; this workspace requires it."
REFUSAL_NO_ACCESS = "Your GitLab account @{username} needs Developer access to {project} for this."
FOLLOWUP_FAILED = "Sorry, I could not answer that: {reason}"


class UsageError(ValueError):
    """The command text cannot be used; str(error) is the one line to show the user."""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    reference: Reference | None = None
    provider: str = ""
    path: str = ""
    action: str = ""  # provider: "list" | "set" | "show"


def _words(text: str) -> list[str]:
    # Slack sends "&amp;", "&lt;", "&gt;" escaped; links arrive as <url|label>, kept whole.
    return re.findall(r"<[^>]*>|\S+", text.replace("&amp;", "&"))


def parse_command(text: str, gitlab_base_url: str, providers: Sequence[str]) -> Command:
    """Read the text after `/cicd`; raises UsageError with a one-line message."""
    if not isinstance(text, str):
        text = ""
    if len(text) > MAX_COMMAND_CHARS:
        raise UsageError(TOO_LONG)
    words = _words(text.strip())
    if not words:
        return Command("help")
    name, args = words[0].lower(), words[1:]
    if name in ("analyze", "analyse"):
        name = "explain"
    if name in ("reanalyse", "retry"):
        name = "reanalyze"
    if name not in COMMANDS:
        raise UsageError("I did not understand that. " + USAGE["help"].replace("Usage: ", "Try "))

    if name in ("explain", "reanalyze"):
        if not args:
            raise UsageError(USAGE[name])
        reference = parse_pipeline_reference(args[0], gitlab_base_url)
        if reference is None:
            host = re.sub(r"^https?://", "", gitlab_base_url.rstrip("/"))
            raise UsageError(BAD_REFERENCE.format(text=args[0].strip("<>")[:200], host=host) + " " + USAGE[name])
        if not reference.project_path:
            raise UsageError(NEEDS_PROJECT.format(number=reference.number))
        rest = [a.lower() for a in args[1:]]
        if rest and rest[0] == "with":
            rest = rest[1:]
        if len(rest) > 1:
            raise UsageError(USAGE[name])
        provider = rest[0] if rest else ""
        if provider and provider not in providers:
            raise UsageError(UNKNOWN_PROVIDER.format(provider=provider[:40], available=", ".join(providers)))
        return Command(name, reference=reference, provider=provider)

    if name == "provider":
        if not args:
            return Command(name, action="show")
        if len(args) > 1:
            raise UsageError(USAGE[name])
        choice = args[0].lower()
        if choice == "list":
            return Command(name, action="list")
        if choice not in providers:
            raise UsageError(UNKNOWN_PROVIDER.format(provider=choice[:40], available=", ".join(providers)))
        return Command(name, provider=choice, action="set")

    if name in ("history", "subscribe", "unsubscribe"):
        if len(args) > 1 or (name != "history" and not args):
            raise UsageError(USAGE[name])
        if not args:
            return Command(name)
        try:
            path = normalize_pattern(args[0].strip("<>"))
        except ChannelMapError as exc:
            raise UsageError(f"{exc}. {USAGE[name]}") from None
        if name == "history" and "*" in path:
            raise UsageError(USAGE[name])
        return Command(name, path=path)

    if args:
        raise UsageError(USAGE[name])
    return Command(name)


def describe_reference(reference: Reference) -> str:
    """'pipeline #12', 'job #34', 'the latest pipeline of !5' (for acknowledgements)."""
    if reference.kind == "job":
        return f"job #{reference.number}"
    if reference.kind == "merge_request":
        return f"the latest pipeline of !{reference.number}"
    return f"pipeline #{reference.number}"


def ack_text(command: Command, project: str) -> str:
    assert command.reference is not None
    what = describe_reference(command.reference)
    if command.name == "reanalyze":
        with_provider = ACK_WITH_PROVIDER.format(provider=provider_name(command.provider)) if command.provider else ""
        return ACK_REANALYZE.format(what=what, project=project, with_provider=with_provider)
    return ACK_EXPLAIN.format(what=what, project=project)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    project_path: str
    pipeline_id: int
    job_name: str
    verdict: str
    summary: str


def format_history(rows: Iterable[HistoryRow], scope: str = "") -> str:
    """The /cicd history answer; the caller escapes nothing (the ephemeral renderer sanitises)."""
    scope_text = f" in {scope}" if scope else ""
    lines = [
        HISTORY_LINE.format(
            project=r.project_path,
            pipeline=r.pipeline_id,
            job=r.job_name or "pipeline",
            verdict=verdict_label(r.verdict) if r.verdict else "not analysed",
            summary=" ".join(r.summary.split())[:160],
        )
        for r in rows
    ]
    if not lines:
        return HISTORY_EMPTY.format(scope=scope_text)
    return "\n".join([HISTORY_HEADING.format(scope=scope_text), *lines])


def format_status(
    status: ChannelStatus | None,
    providers: Sequence[str],
    default: str,
    scan_limit: int = 0,
) -> str:
    """The /cicd status answer for one channel (None: nothing is mapped to it)."""
    if status is None:
        return STATUS_NOTHING_MAPPED
    text = STATUS_TEXT.format(
        queued=status.queued,
        running=status.running,
        dead=status.dead,
        providers=", ".join(provider_name(p) for p in providers),
        default=provider_name(default),
        cost=status.cost,
        calls=status.calls,
    )
    lines = [STATUS_DEAD_LINE.format(id=i, kind=kind) for i, kind in status.dead_jobs]
    if not status.complete:
        lines.append(STATUS_PARTIAL.format(limit=scan_limit))
    return "\n".join([text, *lines])


def subscribe_refusal(verdict: Subscription, path: str, channel: str, patterns: Sequence[str]) -> str:
    """What /cicd subscribe answers instead of subscribing; '' when the subscription grants what it says."""
    if verdict == Subscription.already:
        return (
            ALREADY_SUBSCRIBED.format(path=path)
            if path in patterns
            else SUBSCRIBE_COVERED.format(path=path, covering=patterns[0])
        )
    if verdict == Subscription.not_allowed:
        return SUBSCRIBE_NOT_ALLOWED.format(path=path, channel=channel)
    if verdict == Subscription.too_broad:
        return SUBSCRIBE_TOO_BROAD.format(path=path, grants=", ".join(f"`{g}`" for g in patterns), example=patterns[0])
    return ""


def format_provider(current: str, default: str, configured: Sequence[str]) -> str:
    available = ", ".join(configured)
    if current:
        return PROVIDER_CURRENT.format(provider=provider_name(current), note="", available=available)
    return PROVIDER_CURRENT.format(provider=provider_name(default), note=PROVIDER_DEFAULT_NOTE, available=available)
