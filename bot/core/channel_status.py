"""What `/cicd status` shows in one channel: the queue and spend of the projects that channel sees, nothing else (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.core.channel_map import ChannelRule, channel_sees, has_scope

DEAD_SHOWN = 3


def job_project(payload: Mapping) -> int | str | None:
    """The project a queue job is about, as its payload names it: a path, or a numeric id (None: it names none).

    Every job kind's payload names its project under one of these keys (a test holds the registry to it), except
    slack_feedback, which names an analysis.
    """
    for key in ("project_path", "project"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    value = payload.get("project_id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value:
        return int(value) if value.isdigit() else value
    return None


@dataclass(slots=True)
class ChannelStatus:
    """Counts over the channel's projects only; a job or a model call whose project is unknown counts nowhere."""

    queued: int = 0
    running: int = 0
    dead: int = 0
    dead_jobs: list[tuple[int, str]] = field(default_factory=list)  # newest first, at most DEAD_SHOWN
    cost: float = 0.0
    calls: int = 0
    complete: bool = True  # False when more open jobs exist than were looked at


def channel_status(
    channel: str,
    rules: Iterable[ChannelRule],
    jobs: Iterable[tuple[int, str, str, Mapping]],
    paths: Mapping[int, str],
    spend: Iterable[tuple[str | None, float, int]],
    *,
    complete: bool = True,
) -> ChannelStatus | None:
    """None when nothing is mapped to the channel. `jobs` are (id, kind, state, payload), newest first; `paths`
    project ids to paths; `spend` (project path, cost, calls) of today's model calls."""
    rules = list(rules)
    if not has_scope(channel, rules):
        return None
    status = ChannelStatus(complete=complete)
    for job_id, kind, state, payload in jobs:
        project = job_project(payload)
        path = paths.get(project) if isinstance(project, int) else project
        if not path or not channel_sees(channel, path, rules):
            continue
        if state == "queued":
            status.queued += 1
        elif state == "running":
            status.running += 1
        elif state == "dead":
            status.dead += 1
            if len(status.dead_jobs) < DEAD_SHOWN:
                status.dead_jobs.append((job_id, kind))
    for path, cost, calls in spend:
        if path and channel_sees(channel, path, rules):
            status.cost += cost
            status.calls += calls
    return status
