"""Every job kind the workers run, and the function that runs it."""
from __future__ import annotations

from bot.jobs.analyze_pipeline import analyze_pipeline, pipeline_passed
from bot.jobs.mr_note import mr_note
from bot.jobs.kinds import ANALYZE_PIPELINE, MR_NOTE, PIPELINE_PASSED

HANDLERS = {
    ANALYZE_PIPELINE: analyze_pipeline,
    PIPELINE_PASSED: pipeline_passed,
    MR_NOTE: mr_note,
}

try:  # Slack adds its own kinds (follow-ups, slow commands) when it is installed
    from bot.jobs.slack import HANDLERS as _SLACK_HANDLERS
except ImportError:  # pragma: no cover - Slack support is part of the package
    _SLACK_HANDLERS = {}
HANDLERS.update(_SLACK_HANDLERS)
