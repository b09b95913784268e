"""The offline analyzer as a provider: always available, free, and the end of every fallback chain."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from bot.core.types import AnalysisRequest, Conversation, Excerpt, ModelAnswer

HEURISTIC_MODEL = "rules"


class HeuristicProvider:
    """Wraps bot.core.heuristics (analyze / answer_followup) behind the provider names the router uses."""

    name = "heuristic"
    model = HEURISTIC_MODEL

    def __init__(self, engine: ModuleType | Any | None = None):
        # Imported on first use so the providers package loads even where the rules module is being replaced.
        self.engine = engine if engine is not None else importlib.import_module("bot.core.heuristics")

    def analyze(self, request: AnalysisRequest) -> ModelAnswer:
        job = request.job
        return self.engine.analyze(job.excerpt, failure_reason=job.failure_reason, job_name=job.name, stage=job.stage)

    def answer(self, conversation: Conversation) -> str:
        result = conversation.analysis
        if result is None:
            result = self.engine.analyze(conversation.excerpt or Excerpt([]), job_name=conversation.job_name)
        return self.engine.answer_followup(conversation.question, result, conversation.excerpt)
