"""PipelineReport to and from plain JSON, so the last shown report can be stored (pure)."""

from __future__ import annotations

import dataclasses

from bot.core.types import AnalysisResult, BaselineInfo, JobReport, PipelineReport, PriorOccurrence


def report_to_dict(report: PipelineReport) -> dict:
    out = {f.name: getattr(report, f.name) for f in dataclasses.fields(PipelineReport) if f.name != "jobs"}
    out["jobs"] = []
    for job in report.jobs:
        row = {
            f.name: getattr(job, f.name)
            for f in dataclasses.fields(JobReport)
            if f.name not in ("result", "seen_before", "baseline")
        }
        row["result"] = job.result.model_dump(mode="json") if job.result else None
        row["seen_before"] = [dataclasses.asdict(p) for p in job.seen_before]
        row["baseline"] = dataclasses.asdict(job.baseline) if job.baseline else None
        out["jobs"].append(row)
    return out


def report_from_dict(data: dict) -> PipelineReport:
    names = {f.name for f in dataclasses.fields(PipelineReport)}
    job_names = {f.name for f in dataclasses.fields(JobReport)}
    jobs = []
    for row in data.get("jobs") or []:
        kwargs = {k: v for k, v in row.items() if k in job_names and k not in ("result", "seen_before", "baseline")}
        kwargs["result"] = AnalysisResult.model_validate(row["result"]) if row.get("result") else None
        kwargs["seen_before"] = [PriorOccurrence(**p) for p in row.get("seen_before") or []]
        kwargs["baseline"] = BaselineInfo(**row["baseline"]) if row.get("baseline") else None
        jobs.append(JobReport(**kwargs))
    return PipelineReport(**{k: v for k, v in data.items() if k in names and k != "jobs"}, jobs=jobs)
