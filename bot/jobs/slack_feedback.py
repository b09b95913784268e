"""The slack_feedback job: 👍/👎 on an analysis, counted once per user and direction (storage keeps one vote row each)."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import Field, StrictInt
from slack_sdk.errors import SlackApiError

from bot.core import messages as m
from bot.jobs.payload import JobPayload, SlackTarget
from bot.jobs.slack_support import publisher
from bot.runtime.services import Services
from storage.analyses import add_feedback
from storage.queue import ClaimedJob

log = logging.getLogger(__name__)

KIND = "slack_feedback"


class SlackFeedbackPayload(JobPayload):
    """The vote, the analysis it is about, and whom to thank."""

    job_kind = KIND
    analysis_id: StrictInt
    direction: Literal["up", "down"]
    slack: SlackTarget = Field(default_factory=SlackTarget)


async def run(services: Services, job: ClaimedJob) -> None:
    """Count the vote and thank the voter (only they see it)."""
    p = SlackFeedbackPayload.of(job)
    counted = await add_feedback(services.db, p.analysis_id, p.slack.user or "", p.direction)
    try:
        await publisher(services).tell_user(p.slack.as_target(), m.ACK_FEEDBACK if counted else m.REFUSAL_NO_ANALYSIS)
    except SlackApiError as exc:  # the vote is stored; a lost "thanks" is not worth a retry
        log.info("could not thank for feedback: %s", exc)
