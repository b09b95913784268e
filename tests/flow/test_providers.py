"""Providers through the real SDKs against the fake servers: answers, retries, fallback, budgets, usage."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.types import (
    ChatMessage,
    Conversation,
    ModelAnswer,
    ProviderCall,
)
from bot.providers.base import InMemoryLedger
from bot.providers.router import build_backends, choose_chain
from tests.fakes import (
    good,
    malformed,
    overloaded,
    rate_limited,
    reply,
    server_error,
    slow,
    unauthorized,
)
from tests.helpers import (
    FAKE_KEY,
    anthropic_env,
    make_request,
    openai_env,
    provider_settings,
    router_for,
)


async def test_openai_good_answer_is_typed_costed_and_recorded(fake_openai):
    settings = provider_settings(**openai_env(fake_openai))
    ledger = InMemoryLedger()
    router = router_for(settings, ledger)
    result = await router.analyze(make_request())
    await router.aclose()
    assert result.provider == "openai" and result.model == "gpt-4o-mini"
    assert result.evidence and result.evidence[0].line == 103  # the fake quotes the assertion, as a model would
    assert result.evidence[0].text.split() == "E   AssertionError: expected 200, got 500".split()
    assert result.tokens_in > 0 and result.tokens_out > 0
    assert result.cost_usd == pytest.approx(
        (result.tokens_in * 0.15 + result.tokens_out * 0.60) / 1e6, abs=1e-6
    )  # costs are kept to a millionth of a dollar
    assert result.notes[0] == "Answered by openai (gpt-4o-mini)."
    assert fake_openai.calls == 1
    body = fake_openai.requests[0]["body"]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False and set(schema["required"]) == set(ModelAnswer.model_fields)
    assert fake_openai.requests[0]["headers"]["x-stainless-retry-count"] == "0"
    assert [c.outcome for c in ledger.calls] == ["ok"]
    assert ledger.calls[0].project_path == "group/app" and ledger.calls[0].pipeline_id == 77


async def test_malformed_json_is_retried_once_with_the_error(fake_openai):
    fake_openai.script(malformed(), good())
    ledger = InMemoryLedger()
    router = router_for(provider_settings(**openai_env(fake_openai)), ledger)
    result = await router.analyze(make_request())
    assert result.provider == "openai"
    assert fake_openai.calls == 2
    retry_messages = fake_openai.requests[1]["body"]["messages"]
    assert retry_messages[-1]["role"] == "user" and "could not be used" in retry_messages[-1]["content"]
    assert [c.outcome for c in ledger.calls] == ["invalid_output", "ok"]


async def test_answer_invalid_twice_falls_back(fake_openai):
    fake_openai.script(malformed(), malformed())
    router = router_for(provider_settings(**openai_env(fake_openai)))
    result = await router.analyze(make_request())
    assert result.provider == "heuristic"
    assert fake_openai.calls == 2
    assert "openai did not answer: its answer did not have the expected form, even after a retry." in result.notes


async def test_429_honours_retry_after(fake_openai):
    fake_openai.script(rate_limited("0.4"), good())
    router = router_for(provider_settings(**openai_env(fake_openai)))
    started = time.monotonic()
    result = await router.analyze(make_request())
    assert time.monotonic() - started >= 0.39  # a lower bound: a slow machine only waits longer
    assert result.provider == "openai" and fake_openai.calls == 2


async def test_500_then_success(fake_openai):
    fake_openai.script(server_error(500), good())
    ledger = InMemoryLedger()
    router = router_for(provider_settings(**openai_env(fake_openai)), ledger)
    result = await router.analyze(make_request())
    assert result.provider == "openai" and fake_openai.calls == 2
    assert [c.outcome for c in ledger.calls] == ["transient_error", "ok"]


async def test_timeouts_use_up_attempts_then_fall_back(fake_openai):
    fake_openai.script(slow(1.0), slow(1.0), slow(1.0))
    settings = provider_settings(**openai_env(fake_openai, AI_TIMEOUT_SECONDS=0.2, AI_MAX_ATTEMPTS=2))
    router = router_for(settings)
    result = await router.analyze(make_request())
    assert result.provider == "heuristic"
    assert fake_openai.calls == 2
    assert any(
        n.startswith("openai did not answer: it was unavailable after 2 attempt(s) (timed out") for n in result.notes
    )


async def test_401_is_not_retried(fake_openai):
    fake_openai.script(unauthorized(), good())
    ledger = InMemoryLedger()
    router = router_for(provider_settings(**openai_env(fake_openai)), ledger)
    result = await router.analyze(make_request())
    assert fake_openai.calls == 1
    assert result.provider == "heuristic"
    assert any("openai did not answer: it refused the credentials" in n for n in result.notes)
    assert [c.outcome for c in ledger.calls] == ["auth_error", "ok"]
    assert [c.provider for c in ledger.calls] == ["openai", "heuristic"]


async def test_daily_budget_spent_means_heuristic_and_a_note(fake_openai):
    ledger = InMemoryLedger()
    await ledger.record(
        ProviderCall(
            provider="openai",
            model="gpt-4o-mini",
            operation="analyze",
            project_path="other/project",
            tokens_in=900,
            tokens_out=200,
        )
    )
    settings = provider_settings(**openai_env(fake_openai, AI_DAILY_TOKEN_BUDGET=1000))
    result = await router_for(settings, ledger).analyze(make_request())
    assert fake_openai.calls == 0
    assert result.provider == "heuristic"
    assert "openai did not answer: its daily budget is spent (1100 of 1000 tokens used today)." in result.notes
    assert ledger.calls[-2].outcome == "over_budget"


async def test_project_cost_budget_only_stops_that_project(fake_openai):
    ledger = InMemoryLedger()
    await ledger.record(
        ProviderCall(
            provider="openai", model="gpt-4o-mini", operation="analyze", project_path="group/app", cost_usd=0.5
        )
    )
    settings = provider_settings(**openai_env(fake_openai, AI_PROJECT_DAILY_COST_BUDGET_USD=0.5))
    router = router_for(settings, ledger)
    stopped = await router.analyze(make_request())
    assert stopped.provider == "heuristic"
    assert any("$0.50 of $0.50 spent today for group/app" in n for n in stopped.notes)
    other = make_request()
    other.project_path = "group/other"
    assert (await router.analyze(other)).provider == "openai"
    assert fake_openai.calls == 1


async def test_yesterdays_spending_does_not_count():
    now = datetime(2025, 3, 2, 0, 30, tzinfo=UTC)
    ledger = InMemoryLedger(clock=lambda: now)
    await ledger.record(
        ProviderCall(
            provider="openai", model="m", operation="analyze", tokens_in=50, cost_usd=1.0, at=now - timedelta(hours=1)
        )
    )
    await ledger.record(
        ProviderCall(
            provider="openai",
            model="m",
            operation="analyze",
            project_path="p",
            tokens_in=7,
            tokens_out=3,
            cost_usd=0.25,
            at=now,
        )
    )
    assert await ledger.spent_today("openai", None) == (10, 0.25)
    assert await ledger.spent_today("openai", "q") == (0, 0.0)


async def test_whole_fallback_chain_ends_at_heuristic(fake_openai, fake_anthropic):
    fake_anthropic.script(rate_limited("0"), overloaded(), rate_limited("0"))
    fake_openai.script(server_error(500), server_error(503), server_error(502))
    env = {
        **anthropic_env(fake_anthropic),
        "OPENAI_API_KEY": FAKE_KEY,
        "OPENAI_BASE_URL": fake_openai.url,
        "AI_FALLBACK": "anthropic,openai,heuristic",
    }
    ledger = InMemoryLedger()
    result = await router_for(provider_settings(**env), ledger).analyze(make_request())
    assert result.provider == "heuristic"
    assert fake_anthropic.calls == 3 and fake_openai.calls == 3
    assert any(n.startswith("anthropic did not answer: it was unavailable after 3 attempt(s)") for n in result.notes)
    assert any(n.startswith("openai did not answer: it was unavailable after 3 attempt(s)") for n in result.notes)
    assert [c.provider for c in ledger.calls] == ["anthropic"] * 3 + ["openai"] * 3 + ["heuristic"]


async def test_anthropic_forced_tool_use_and_cached_tokens(fake_anthropic):
    fake_anthropic.script(overloaded(), good(cached=40))
    result = await router_for(provider_settings(**anthropic_env(fake_anthropic))).analyze(make_request())
    assert result.provider == "anthropic" and result.model == "claude-sonnet-4-6"
    assert fake_anthropic.calls == 2
    body = fake_anthropic.requests[1]["body"]
    assert body["tool_choice"] == {"type": "tool", "name": body["tools"][0]["name"]}
    assert body["tools"][0]["input_schema"]["additionalProperties"] is False
    assert result.tokens_cached == 40
    assert result.evidence[0].text.split() == "E   AssertionError: expected 200, got 500".split()


async def test_anthropic_bad_tool_input_is_retried_then_accepted(fake_anthropic):
    fake_anthropic.script(malformed(), good())
    result = await router_for(provider_settings(**anthropic_env(fake_anthropic))).analyze(make_request())
    assert result.provider == "anthropic" and fake_anthropic.calls == 2
    second = fake_anthropic.requests[1]["body"]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]


async def test_azure_reaches_the_deployment_path_with_api_version(fake_openai):
    env = {
        "AZURE_OPENAI_API_KEY": FAKE_KEY,
        "AZURE_OPENAI_ENDPOINT": fake_openai.azure_endpoint,
        "AZURE_OPENAI_DEPLOYMENT": "ci-explainer",
        "AZURE_OPENAI_API_VERSION": "2024-10-21",
        "DEFAULT_AI_PROVIDER": "azure_openai",
    }
    result = await router_for(provider_settings(**env)).analyze(make_request())
    assert result.provider == "azure_openai" and result.model == "ci-explainer"
    sent = fake_openai.requests[0]
    assert sent["path"] == "/openai/deployments/ci-explainer/chat/completions"
    assert sent["query"]["api-version"] == "2024-10-21"
    assert sent["headers"]["api-key"] == FAKE_KEY


@pytest.mark.parametrize("mode", ["json_object", "none"])
async def test_compatible_servers_without_json_schema(fake_openai, mode):
    settings = provider_settings(**openai_env(fake_openai, OPENAI_STRUCTURED_OUTPUT=mode, OPENAI_MODEL="llama3.1"))
    result = await router_for(settings).analyze(make_request())
    assert result.provider == "openai" and result.model == "llama3.1" and result.cost_usd == 0
    body = fake_openai.requests[0]["body"]
    assert body.get("response_format") == ({"type": "json_object"} if mode == "json_object" else None)
    assert "It must match this JSON schema" in body["messages"][0]["content"]
    assert body["max_tokens"] == settings.ai_max_output_tokens


async def test_concurrency_limit_per_provider(fake_openai):
    fake_openai.script(*(slow(0.3) for _ in range(3)))
    router = router_for(provider_settings(**openai_env(fake_openai, AI_MAX_CONCURRENCY=1)))
    started = time.monotonic()
    results = await asyncio.gather(*(router.analyze(make_request()) for _ in range(3)))
    assert time.monotonic() - started >= 0.89  # one at a time: at least three model delays in a row
    assert [r.provider for r in results] == ["openai"] * 3


def test_choice_most_specific_wins():
    settings = provider_settings(
        OPENAI_API_KEY=FAKE_KEY,
        ANTHROPIC_API_KEY=FAKE_KEY,
        DEFAULT_AI_PROVIDER="openai",
        AI_FALLBACK="anthropic,openai",
    )
    assert choose_chain(settings)[0] == ["openai", "anthropic", "heuristic"]
    assert choose_chain(settings, preference="anthropic")[0] == ["anthropic", "openai", "heuristic"]
    assert choose_chain(settings, "heuristic", "anthropic")[0] == ["heuristic"]
    chain, notes = choose_chain(settings, provider_hint="gemini")
    assert chain[0] == "openai" and notes == ["Unknown provider 'gemini' was asked for; using openai instead."]


async def test_unconfigured_hint_falls_back_with_a_note(fake_openai):
    request = make_request(provider_hint="anthropic")
    result = await router_for(provider_settings(**openai_env(fake_openai))).analyze(request)
    assert result.provider == "heuristic"
    assert "anthropic did not answer: it is not configured." in result.notes


def test_only_configured_providers_get_backends():
    settings = provider_settings(ANTHROPIC_API_KEY=FAKE_KEY)
    assert sorted(build_backends(settings)) == ["anthropic"]


async def test_followup_answer_openai_and_anthropic(fake_openai, fake_anthropic):
    fake_openai.script(reply("Run pytest tests/test_api.py::test_login locally."))
    conversation = Conversation(
        question="How do I reproduce this?",
        analysis=None,
        excerpt=make_request().job.excerpt,
        history=[ChatMessage(role="user", content="what failed?"), ChatMessage(role="assistant", content="A test.")],
        project_path="group/app",
        job_name="unit-tests",
    )
    reply_o = await router_for(provider_settings(**openai_env(fake_openai))).answer(conversation)
    assert reply_o.text == "Run pytest tests/test_api.py::test_login locally." and reply_o.provider == "openai"
    assert "response_format" not in fake_openai.requests[0]["body"]
    reply_a = await router_for(provider_settings(**anthropic_env(fake_anthropic))).answer(conversation)
    assert reply_a.provider == "anthropic" and reply_a.text.startswith("Line 104 is the one to look at")
    roles = [m["role"] for m in fake_anthropic.requests[0]["body"]["messages"]]
    assert roles == ["user", "assistant", "user"]


async def test_followup_falls_back_to_offline_answer(fake_anthropic):
    fake_anthropic.script(unauthorized())
    conversation = Conversation(question="Why?", analysis=None, excerpt=make_request().job.excerpt)
    result = await router_for(provider_settings(**anthropic_env(fake_anthropic))).answer(conversation, provider_hint="")
    assert result.provider == "heuristic" and result.text
    assert fake_anthropic.calls == 1
