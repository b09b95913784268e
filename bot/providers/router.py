"""Chooses a provider, falls back along AI_FALLBACK, retries named transient errors, enforces budgets and concurrency."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from bot.core.evidence import check_evidence
from bot.core.outcomes import RetryLater
from bot.core.types import (
    AnalysisRequest,
    AnalysisResult,
    ChatMessage,
    Conversation,
    Evidence,
    Excerpt,
    ModelAnswer,
    Reply,
)
from bot.providers import catalog
from bot.providers.base import (
    SENT,
    Completion,
    InMemoryLedger,
    InvalidOutputError,
    ModelBackend,
    NotConfiguredError,
    OverBudgetError,
    ProviderCall,
    ProviderError,
    TransientError,
    UsageLedger,
    extract_json_object,
    strict_schema,
)
from bot.providers.catalog import PROVIDERS
from bot.providers.heuristic import HeuristicProvider
from bot.providers.pricing import cost_usd, price_table
from prompts.builder import Prompt, build_analysis_prompt, build_followup_prompt, estimate_tokens

log = logging.getLogger(__name__)
T = TypeVar("T")

# --- what people read in the result's notes ------------------------------------
NOTE_ANSWERED = "Answered by {provider} ({model})."
NOTE_SKIPPED = "{provider} did not answer: {reason}."
NOTE_UNKNOWN_PROVIDER = "Unknown provider {provider!r} was asked for; using {fallback} instead."
NOTE_EVIDENCE_DROPPED = "{count} quoted log line(s) were not found in the log and were left out."
NOTE_CONTEXT_CUT = "To fit the prompt budget, this was left out: {parts}."
REASON_NOT_CONFIGURED = "it is not configured"
REASON_OVER_BUDGET = "its daily budget is spent ({detail})"
REASON_TRANSIENT = "it was unavailable after {attempts} attempt(s) ({detail})"
REASON_AUTH = "it refused the credentials ({detail})"
REASON_BAD_REQUEST = "it rejected the request ({detail})"
REASON_INVALID = "its answer did not have the expected form, even after a retry"
REASON_QUOTA = "the account is out of credit ({detail})"
REASON_OTHER = "it failed ({detail})"
RETRY_WITH_ERROR = (
    "Your previous reply could not be used: {error}\n"
    "Reply again with exactly one JSON object that matches the required schema."
)
BUDGET_TOKENS = "{spent} of {budget} tokens used today{scope}"
BUDGET_COST = "${spent:.2f} of ${budget:.2f} spent today{scope}"
LEDGER_DOWN = "the usage ledger cannot record a model call, so none is sent: {error}"

ANSWER_SCHEMA = strict_schema(ModelAnswer)


class TextRedactor(Protocol):
    def redact_text(self, text: str) -> str: ...

    def redact_line(self, line: str) -> str: ...


def choose_chain(settings: Any, provider_hint: str = "", preference: str = "") -> tuple[list[str], list[str]]:
    """Providers to try in order, most specific choice first, heuristic last; plus notes on names not understood."""
    notes: list[str] = []
    first = ""
    for asked in (provider_hint.strip().lower(), (preference or "").strip().lower()):
        if not asked:
            continue
        if asked in PROVIDERS:
            first = asked
            break
        notes.append(NOTE_UNKNOWN_PROVIDER.format(provider=asked, fallback=catalog.default_provider(settings)))
    chain = [first or catalog.default_provider(settings)]
    for name in [*settings.ai_fallback, "heuristic"]:
        if name in PROVIDERS and name not in chain:
            chain.append(name)
    # Heuristic always answers, so anything listed after it would never be reached.
    return chain[: chain.index("heuristic") + 1], notes


def _reason(exc: ProviderError, attempts: int) -> str:
    detail = str(exc)[:160]
    return {
        "transient_error": REASON_TRANSIENT.format(attempts=attempts, detail=detail),
        "auth_error": REASON_AUTH.format(detail=detail),
        "bad_request": REASON_BAD_REQUEST.format(detail=detail),
        "invalid_output": REASON_INVALID,
        "over_budget": REASON_OVER_BUDGET.format(detail=detail),
        "quota_exceeded": REASON_QUOTA.format(detail=detail),
        "not_configured": REASON_NOT_CONFIGURED,
    }.get(exc.outcome, REASON_OTHER.format(detail=detail))


def redact_request(request: AnalysisRequest, redactor: TextRedactor) -> AnalysisRequest:
    """A copy of the request with every free text redacted; the original is left alone."""
    # The line redactor remembers multi-line secrets; one request's state must not reach the next.
    reset = getattr(redactor, "reset", None)
    if reset is not None:
        reset()
    rt, rl = redactor.redact_text, redactor.redact_line
    excerpt = request.job.excerpt
    job = dataclasses.replace(
        request.job,
        failure_reason=rt(request.job.failure_reason),
        excerpt=dataclasses.replace(
            excerpt, lines=[dataclasses.replace(line, text=rl(line.text)) for line in excerpt.lines]
        ),
    )
    return dataclasses.replace(
        request,
        job=job,
        mr_title=rt(request.mr_title),
        mr_description=rt(request.mr_description),
        changed_files=[rl(f) for f in request.changed_files],
        ci_config=rt(request.ci_config),
        test_failures=[rt(t) for t in request.test_failures],
        history=[dataclasses.replace(h, summary=rt(h.summary), fixed_by=rt(h.fixed_by)) for h in request.history],
    )


def redact_conversation(conversation: Conversation, redactor: TextRedactor) -> Conversation:
    reset = getattr(redactor, "reset", None)
    if reset is not None:
        reset()
    rt, rl = redactor.redact_text, redactor.redact_line
    excerpt = conversation.excerpt
    if excerpt is not None:
        excerpt = dataclasses.replace(
            excerpt, lines=[dataclasses.replace(line, text=rl(line.text)) for line in excerpt.lines]
        )
    return dataclasses.replace(
        conversation,
        question=rt(conversation.question),
        excerpt=excerpt,
        history=[ChatMessage(role=m.role, content=rt(m.content), author=m.author) for m in conversation.history],
        extra_log=[dataclasses.replace(line, text=rl(line.text)) for line in conversation.extra_log],
    )


def redact_answer(answer: ModelAnswer, redactor: TextRedactor) -> ModelAnswer:
    rt = redactor.redact_text
    return answer.model_copy(
        update={
            "summary": rt(answer.summary),
            "root_cause": rt(answer.root_cause),
            "fix_steps": [rt(s) for s in answer.fix_steps],
            "evidence": [Evidence(line=e.line, text=redactor.redact_line(e.text)) for e in answer.evidence],
        }
    )


@dataclasses.dataclass(slots=True)
class _Tally:
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0
    cost_usd: float = 0.0

    def usage(self, started: float) -> dict[str, Any]:
        """What every answer reports about its cost: tokens, dollars and time since `started`."""
        return {
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens_cached": self.tokens_cached,
            "cost_usd": round(self.cost_usd, 6),
            "latency_ms": int((time.monotonic() - started) * 1000),
        }


def build_backends(settings: Any) -> dict[str, ModelBackend]:
    """One backend per configured remote provider."""
    backends: dict[str, ModelBackend] = {}
    configured = catalog.configured(settings)
    if "openai" in configured:
        from bot.providers.openai import OpenAIBackend

        backends["openai"] = OpenAIBackend(settings)
    if "anthropic" in configured:
        from bot.providers.anthropic import AnthropicBackend

        backends["anthropic"] = AnthropicBackend(settings)
    if "azure_openai" in configured:
        from bot.providers.azure_openai import AzureOpenAIBackend

        backends["azure_openai"] = AzureOpenAIBackend(settings)
    return backends


def default_redactor(settings: Any) -> TextRedactor:
    from bot.core.redact import Redactor

    return Redactor.from_settings(settings)


class ProviderRouter:
    """The one interface the rest of the bot uses: analyze(request) and answer(conversation)."""

    def __init__(
        self,
        settings: Any,
        backends: dict[str, ModelBackend] | None = None,
        ledger: UsageLedger | None = None,
        redactor: TextRedactor | None = None,
        heuristic: HeuristicProvider | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.settings = settings
        self.backends = build_backends(settings) if backends is None else backends
        self.ledger: UsageLedger = ledger if ledger is not None else InMemoryLedger()
        self.redactor = redactor if redactor is not None else default_redactor(settings)
        self.heuristic = heuristic if heuristic is not None else HeuristicProvider()
        self._sleep = sleep
        self._prices = price_table(settings.ai_prices)
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    async def aclose(self) -> None:
        for backend in self.backends.values():
            await backend.aclose()

    # --- the two operations -------------------------------------------------------
    async def analyze(self, request: AnalysisRequest, preference: str = "") -> AnalysisResult:
        """Analyse one failed job with the most specific provider that can answer; never raises for provider trouble."""
        started = time.monotonic()
        request = redact_request(request, self.redactor)
        prompt = build_analysis_prompt(request, self.settings)
        chain, notes = choose_chain(self.settings, request.provider_hint, preference)
        tally = _Tally()
        ctx = {"operation": "analyze", "project_path": request.project_path, "pipeline_id": request.pipeline_id}
        answer: ModelAnswer | None = None
        provider, model = "heuristic", self.heuristic.model
        for name in chain:
            if name == "heuristic":
                break
            try:
                answer = await self._structured(name, prompt, ctx, tally)
            except ProviderError as exc:
                notes.append(NOTE_SKIPPED.format(provider=name, reason=_reason(exc, getattr(exc, "attempts", 1))))
                continue
            provider, model = name, self.backends[name].model
            break
        if answer is None:
            answer = await self._heuristic(lambda: self.heuristic.analyze(request), ctx)
        if prompt.cut and provider != "heuristic":
            notes.append(NOTE_CONTEXT_CUT.format(parts=", ".join(prompt.cut)))
        shown = prompt.shown_lines if provider != "heuristic" else request.job.excerpt.lines
        kept, dropped = check_evidence(answer.evidence, Excerpt(lines=list(shown)))
        if dropped:
            notes.append(NOTE_EVIDENCE_DROPPED.format(count=dropped))
        answer = redact_answer(answer.model_copy(update={"evidence": kept}), self.redactor)
        notes.insert(0, NOTE_ANSWERED.format(provider=provider, model=model))
        return AnalysisResult(
            **answer.model_dump(),
            provider=provider,
            model=model,
            notes=notes,
            **tally.usage(started),
        )

    async def answer(self, conversation: Conversation, provider_hint: str = "", preference: str = "") -> Reply:
        """Answer a follow-up question about an analysis, with the same choice and fallback as analyze."""
        started = time.monotonic()
        conversation = redact_conversation(conversation, self.redactor)
        prompt = build_followup_prompt(conversation, self.settings)
        chain, notes = choose_chain(self.settings, provider_hint, preference)
        tally = _Tally()
        ctx = {"operation": "answer", "project_path": conversation.project_path or None, "pipeline_id": None}
        text: str | None = None
        provider, model = "heuristic", self.heuristic.model
        for name in chain:
            if name == "heuristic":
                break
            try:
                text = await self._call(name, prompt.system, prompt.messages, None, ctx, tally, _nonempty_text)
            except ProviderError as exc:
                notes.append(NOTE_SKIPPED.format(provider=name, reason=_reason(exc, getattr(exc, "attempts", 1))))
                continue
            provider, model = name, self.backends[name].model
            break
        if text is None:
            text = await self._heuristic(lambda: self.heuristic.answer(conversation), ctx)
        notes.insert(0, NOTE_ANSWERED.format(provider=provider, model=model))
        return Reply(
            text=self.redactor.redact_text(text),
            provider=provider,
            model=model,
            notes=notes,
            **tally.usage(started),
        )

    # --- machinery ----------------------------------------------------------------
    async def _heuristic(self, run: Callable[[], T], ctx: dict[str, Any]) -> T:
        started = time.monotonic()
        value = run()
        await self._record("heuristic", self.heuristic.model, ctx, started, outcome="ok")
        return value

    async def _structured(self, name: str, prompt: Prompt, ctx: dict[str, Any], tally: _Tally) -> ModelAnswer:
        """A ModelAnswer from one provider; an answer that does not validate is sent back once with the error."""
        messages = list(prompt.messages)
        try:
            return await self._call(name, prompt.system, messages, ANSWER_SCHEMA, ctx, tally, _model_answer)
        except InvalidOutputError as exc:
            if exc.usage is None:
                raise
            previous = exc.usage.text or json.dumps(exc.usage.data or {})
            messages += [
                {"role": "assistant", "content": previous[:8000]},
                {"role": "user", "content": RETRY_WITH_ERROR.format(error=str(exc)[:1000])},
            ]
        return await self._call(name, prompt.system, messages, ANSWER_SCHEMA, ctx, tally, _model_answer)

    async def _call(
        self,
        name: str,
        system: str,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None,
        ctx: dict[str, Any],
        tally: _Tally,
        accept: Callable[[Completion], T],
    ) -> T:
        """One provider, with retries on named transient errors only; every attempt goes to the ledger."""
        backend = self.backends.get(name)
        if backend is None:
            raise NotConfiguredError(f"{name} is not configured")
        over = await self._over_budget(name, ctx.get("project_path"))
        if over:
            await self._record(name, backend.model, ctx, time.monotonic(), outcome="over_budget", error=over)
            raise OverBudgetError(over)
        s = self.settings
        retrying = AsyncRetrying(
            stop=stop_after_attempt(s.ai_max_attempts) | stop_before_delay(s.ai_retry_max_seconds),
            wait=_wait,
            retry=retry_if_exception_type(TransientError),
            reraise=True,
            sleep=self._sleep,
        )
        attempts = 0
        semaphore = self._semaphores.setdefault(name, asyncio.Semaphore(s.ai_max_concurrency))
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    started = time.monotonic()
                    handle = None
                    try:
                        async with semaphore:
                            # Recorded before it is sent: if this process dies mid-call, the row still counts.
                            handle = await self._begin(name, backend.model, ctx, system, messages)
                            completion = await backend.complete(system, messages, schema)
                    except ProviderError as exc:
                        await self._record(
                            name,
                            backend.model,
                            ctx,
                            started,
                            outcome=exc.outcome,
                            error=str(exc),
                            usage=exc.usage,
                            tally=tally,
                            handle=handle,
                        )
                        raise
                    try:
                        value = accept(completion)
                    except (ValueError, ValidationError) as exc:
                        err = InvalidOutputError(_short_error(exc), usage=completion)
                        await self._record(
                            name,
                            backend.model,
                            ctx,
                            started,
                            outcome=err.outcome,
                            error=str(err),
                            usage=completion,
                            tally=tally,
                            handle=handle,
                        )
                        raise err from exc
                    await self._record(
                        name, backend.model, ctx, started, outcome="ok", usage=completion, tally=tally, handle=handle
                    )
                    return value
        except ProviderError as exc:
            exc.attempts = attempts  # type: ignore[attr-defined]
            raise
        raise AssertionError("tenacity ended without a result")  # unreachable: reraise=True

    async def _over_budget(self, name: str, project_path: str | None) -> str:
        s = self.settings
        checks = [(None, s.ai_daily_token_budget, s.ai_daily_cost_budget_usd, "")]
        if project_path:
            checks.append(
                (
                    project_path,
                    s.ai_project_daily_token_budget,
                    s.ai_project_daily_cost_budget_usd,
                    f" for {project_path}",
                )
            )
        for project, token_budget, cost_budget, scope in checks:
            if not token_budget and not cost_budget:
                continue
            tokens, usd = await self.ledger.spent_today(name, project)
            if token_budget and tokens >= token_budget:
                return BUDGET_TOKENS.format(spent=tokens, budget=token_budget, scope=scope)
            if cost_budget and usd >= cost_budget:
                return BUDGET_COST.format(spent=usd, budget=cost_budget, scope=scope)
        return ""

    async def _begin(
        self, name: str, model: str, ctx: dict[str, Any], system: str, messages: list[dict[str, str]]
    ) -> Any:
        """Put the call in the ledger as sent, with an upper estimate of its tokens and cost (the whole prompt in,
        AI_MAX_OUTPUT_TOKENS out) that complete() replaces; a call the ledger cannot take is not sent at all."""
        tokens_in = estimate_tokens(system) + sum(estimate_tokens(str(m.get("content", ""))) for m in messages)
        tokens_out = self.settings.ai_max_output_tokens
        cost = cost_usd(model, tokens_in, tokens_out, 0, self._prices)
        call = _ledger_call(name, model, ctx, tokens_in=tokens_in, tokens_out=tokens_out, cost_usd=cost, outcome=SENT)
        try:
            return await self.ledger.begin(call)
        except Exception as exc:
            # Not a provider problem: the job is tried again later rather than falling back to another provider.
            raise RetryLater(LEDGER_DOWN.format(error=type(exc).__name__)) from exc

    async def _record(
        self,
        provider: str,
        model: str,
        ctx: dict[str, Any],
        started: float,
        *,
        outcome: str,
        error: str = "",
        usage: Completion | None = None,
        tally: _Tally | None = None,
        handle: Any = None,
    ) -> None:
        tokens_in = usage.tokens_in if usage else 0
        tokens_out = usage.tokens_out if usage else 0
        cached = usage.tokens_cached if usage else 0
        used_model = usage.model if usage and usage.model else model
        cost = cost_usd(used_model, tokens_in, tokens_out, cached, self._prices) if usage else 0.0
        if tally is not None:
            tally.tokens_in += tokens_in
            tally.tokens_out += tokens_out
            tally.tokens_cached += cached
            tally.cost_usd += cost
        call = _ledger_call(
            provider,
            used_model,
            ctx,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            tokens_cached=cached,
            cost_usd=cost,
            latency_ms=int((time.monotonic() - started) * 1000),
            outcome=outcome,
            error=error[:500],
        )
        try:
            if handle is not None:
                await self.ledger.complete(handle, call)
            else:
                await self.ledger.record(call)
        except Exception:  # a broken ledger must not lose the answer people are waiting for (the estimate stays)
            log.exception("could not record provider call", extra={"provider": provider, "outcome": outcome})


def _ledger_call(provider: str, model: str, ctx: dict[str, Any], **usage: Any) -> ProviderCall:
    """The ledger's record of one call, with the operation, project and pipeline it was made for."""
    return ProviderCall(
        provider=provider,
        model=model,
        operation=ctx["operation"],
        project_path=ctx.get("project_path"),
        pipeline_id=ctx.get("pipeline_id"),
        **usage,
    )


def _wait(retry_state: Any) -> float:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        return float(retry_after)
    return wait_exponential_jitter(multiplier=0.5, max=10.0)(retry_state)


def _model_answer(completion: Completion) -> ModelAnswer:
    data = completion.data if completion.data is not None else extract_json_object(completion.text)
    return ModelAnswer.model_validate(data)


def _nonempty_text(completion: Completion) -> str:
    text = (completion.text or "").strip()
    if not text:
        raise ValueError("the reply is empty")
    return text


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:8])
    return str(exc)[:500]
