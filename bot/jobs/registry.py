"""Every job kind the workers run, and the function that runs it."""
from __future__ import annotations

from bot.jobs import slack
from bot.jobs.analyze_pipeline import analyze_pipeline, pipeline_passed
from bot.jobs.kinds import ANALYZE_PIPELINE, MR_NOTE, PIPELINE_PASSED
from bot.jobs.mr_note import mr_note

HANDLERS = {
    ANALYZE_PIPELINE: analyze_pipeline,
    PIPELINE_PASSED: pipeline_passed,
    MR_NOTE: mr_note,
    **slack.HANDLERS,
}
