"""The last passing log of a failed CI job: found through the API, streamed within a size bound, cached.

When a CI job fails, the same job (same name) in the latest successful pipeline of the same ref, or else
of the MR's target branch, shows what the job prints when it works. Its log becomes the excerpt's
baseline (bot/core/excerpt/baseline.py). Finding it is a help, never a condition: when there is none, or
GitLab fails to give it, the analysis goes on without it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from bot.clients.log_fetch import baseline_from_stream
from bot.clients.ports import GitLab
from bot.core.excerpt.baseline import Baseline
from bot.core.types import BaselineInfo

log = logging.getLogger(__name__)

# Passing pipelines of a ref looked at, newest first, for a job of the same name (a job can be absent
# from a pipeline whose rules skipped it).
MAX_PIPELINES = 3
# Baselines kept in memory, by project, job name and commit: a few MB each at most.
CACHE_ENTRIES = 32


@dataclass(frozen=True, slots=True)
class FoundBaseline:
    baseline: Baseline
    info: BaselineInfo


class BaselineLogs:
    """Finds and reads passing logs; keeps the last CACHE_ENTRIES baselines (per process)."""

    def __init__(self, max_entries: int = CACHE_ENTRIES) -> None:
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple[int | str, str, str], Baseline] = OrderedDict()

    async def find(
        self, gitlab: GitLab, project_id: int | str, job_name: str, refs: list[str], *, max_bytes: int
    ) -> FoundBaseline | None:
        """The baseline of job_name from the newest passing pipeline of the first ref that has one; None
        when there is none or GitLab failed (logged, never raised: the analysis does not depend on it)."""
        try:
            return await self._find(gitlab, project_id, job_name, refs, max_bytes)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("no baseline log for job %r of project %s: %s", job_name, project_id, type(exc).__name__)
            return None

    async def _find(
        self, gitlab: GitLab, project_id: int | str, job_name: str, refs: list[str], max_bytes: int
    ) -> FoundBaseline | None:
        for ref in dict.fromkeys(r for r in refs if r):
            for pipeline in await gitlab.list_pipelines(project_id, ref=ref, status="success", limit=MAX_PIPELINES):
                jobs = await gitlab.list_pipeline_jobs(project_id, int(pipeline["id"]), include_retried=False)
                job = next((j for j in jobs if j.get("name") == job_name and j.get("status") == "success"), None)
                if job is None:
                    continue
                info = BaselineInfo(
                    pipeline_id=int(pipeline["id"]),
                    pipeline_url=str(pipeline.get("web_url") or ""),
                    job_id=int(job["id"]),
                    ref=ref,
                )
                key = (project_id, job_name, str(pipeline.get("sha") or pipeline["id"]))
                baseline = self._cache.get(key)
                if baseline is None:
                    chunks = gitlab.stream_trace(project_id, int(job["id"]))
                    baseline = await baseline_from_stream(chunks, max_bytes=max_bytes)
                    self._remember(key, baseline)
                else:
                    self._cache.move_to_end(key)
                return FoundBaseline(baseline, info)
        return None

    def _remember(self, key: tuple[int | str, str, str], baseline: Baseline) -> None:
        self._cache[key] = baseline
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
