"""Every queue job kind the workers run: its payload model and the function that runs it."""
from __future__ import annotations

from dataclasses import dataclass

from bot.jobs import analyze_pipeline, mr_note, pipeline_passed, slack_command, slack_feedback, slack_followup
from bot.jobs.payload import JobPayload
from bot.runtime.worker import JobHandler


@dataclass(frozen=True)
class JobKind:
    payload: type[JobPayload]  # what run() checks the payload against, and what producers build
    run: JobHandler


KINDS: dict[str, JobKind] = {entry.payload.job_kind: entry for entry in (
    JobKind(analyze_pipeline.AnalyzePipelinePayload, analyze_pipeline.run),
    JobKind(pipeline_passed.PipelinePassedPayload, pipeline_passed.run),
    JobKind(mr_note.MrNotePayload, mr_note.run),
    JobKind(slack_command.SlackCommandPayload, slack_command.run),
    JobKind(slack_followup.SlackFollowupPayload, slack_followup.run),
    JobKind(slack_feedback.SlackFeedbackPayload, slack_feedback.run),
)}

# What the workers are given.
HANDLERS: dict[str, JobHandler] = {kind: entry.run for kind, entry in KINDS.items()}
