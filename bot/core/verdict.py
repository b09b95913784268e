"""The verdict decided by code where the data allows it, before any model is believed (pure)."""

from __future__ import annotations

from bot.core.types import Verdict

# GitLab failure_reason values that say the runner or GitLab failed, not the job's script.
INFRASTRUCTURE_REASONS = frozenset(
    {
        "runner_system_failure",
        "stuck_or_timeout_failure",
        "api_failure",
        "scheduler_failure",
        "data_integrity_failure",
        "runner_unsupported",
        "no_matching_runner",
        "archived_failure",
        "unmet_prerequisites",
        "secrets_provider_not_found",
        "ip_restriction_failure",
    }
)

REASON_INFRA = "GitLab reports {reason}: the runner or GitLab failed, not the job; retry the job."
REASON_FLAKY = "The same job failed and then passed on retry at the same commit."
REASON_DEFAULT = "The same failure happened recently on {branch}, so it is probably not caused by this change."


def decide_verdict(
    model_verdict: Verdict,
    *,
    failure_reason: str,
    flaky: bool,
    signature_on_default_branch: bool,
    ref: str,
    default_branch: str,
) -> tuple[Verdict, str]:
    """(verdict, why) - code overrides the model when it has evidence; why is '' when the model decided."""
    if failure_reason in INFRASTRUCTURE_REASONS:
        return Verdict.infrastructure, REASON_INFRA.format(reason=failure_reason)
    if flaky:
        return Verdict.flaky, REASON_FLAKY
    on_default_ref = bool(default_branch) and ref in (default_branch, f"refs/heads/{default_branch}")
    if signature_on_default_branch and not on_default_ref:
        return Verdict.broken_on_default_branch, REASON_DEFAULT.format(branch=default_branch)
    return model_verdict, ""
