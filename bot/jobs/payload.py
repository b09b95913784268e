"""What every queue job's payload shares: checked when the job runs, stored as the JSON its producer set."""
from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.core.outcomes import PermanentFailure
from bot.core.types import JobSpec
from storage.queue import ClaimedJob


def describe(exc: ValidationError) -> str:
    """Which fields are wrong and how, without their values (a payload may hold a question or a note)."""
    return "; ".join(f"{'.'.join(str(part) for part in error['loc']) or 'payload'}: {error['msg']}"
                     for error in exc.errors())


class JobPayload(BaseModel):
    """A queue job's payload; `job_kind` is the kind of job it belongs to."""

    # Rows enqueued by another version of the bot may carry keys this one does not know: not a reason to fail.
    model_config = ConfigDict(extra="ignore")
    job_kind: ClassVar[str]

    @classmethod
    def of(cls, job: ClaimedJob) -> Self:
        """The job's payload, checked; one that does not fit cannot run now or later, so the job is dead-lettered."""
        try:
            return cls.model_validate(job.payload)
        except ValidationError as exc:
            raise PermanentFailure(f"bad {job.kind} payload: {describe(exc)}") from exc

    def to_json(self) -> dict[str, Any]:
        """The payload as stored in the queue row."""
        # Only the fields the producer set: rows look as they did when payloads were dicts (no defaults added,
        # no None dropped that a producer wrote), and the job fills in the defaults when it reads them.
        return self.model_dump(mode="json", exclude_unset=True)

    def job_spec(self, dedupe_key: str, *, delay_seconds: float = 0, hasten_existing: bool = False) -> JobSpec:
        """The job a door asks the queue for, with this payload."""
        return JobSpec(self.job_kind, self.to_json(), dedupe_key, delay_seconds=delay_seconds,
                       hasten_existing=hasten_existing)


class SlackTarget(BaseModel):
    """Where in Slack a job answers: the asking channel and user, their thread, and Slack's response_url."""

    channel: str | None = None
    user: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    team_id: str | None = None

    def as_target(self) -> dict[str, Any]:
        """What the Slack publisher is given."""
        return self.model_dump()
