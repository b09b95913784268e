"""The analysis API: bearer token, filters, pagination, stats with tokens and cost."""

from __future__ import annotations

from bot.core.types import AnalysisResult
from storage.history import save_analysis
from tests.helpers import running_app

TOKEN = "api-token-for-tests"


def result(provider="openai", tokens=(100, 20), cost=0.01, latency=900):
    return AnalysisResult(
        summary="tests fail",
        category="test",
        root_cause="x",
        verdict="caused_by_change",
        confidence=0.8,
        fix_steps=["fix"],
        provider=provider,
        model="m",
        tokens_in=tokens[0],
        tokens_out=tokens[1],
        cost_usd=cost,
        latency_ms=latency,
    )


async def seed(db):
    for i in range(5):
        await save_analysis(
            db,
            project_id=1,
            project_path="acme/api",
            pipeline_id=100 + i,
            job_id=i,
            signature="s",
            trigger="webhook",
            result=result(latency=100 * (i + 1)),
        )
    await save_analysis(
        db,
        project_id=2,
        project_path="acme/web",
        pipeline_id=200,
        job_id=9,
        signature="t",
        trigger="slack",
        result=result("anthropic", (50, 10), 0.02, 3000),
    )
    await save_analysis(
        db,
        project_id=2,
        project_path="acme/web",
        pipeline_id=201,
        job_id=10,
        signature="t",
        trigger="slack",
        result=result("heuristic", (0, 0), 0.0, 5),
        status="error",
    )


async def test_api_is_off_without_a_token_and_refuses_a_wrong_one(database):
    async with running_app(database) as (_, client, url):
        async with client.get(url + "/analysis") as resp:
            assert resp.status == 404 and "CICD_BOT_API_TOKEN" in (await resp.json())["error"]
    async with running_app(database, CICD_BOT_API_TOKEN=TOKEN) as (_, client, url):
        async with client.get(url + "/analysis", headers={"Authorization": "Bearer nope"}) as resp:
            assert resp.status == 401
        async with client.get(url + "/analysis") as resp:
            assert resp.status == 401


async def test_list_filters_paginates_and_shows_one(database):
    await seed(database)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with running_app(database, CICD_BOT_API_TOKEN=TOKEN) as (_, client, url):
        async with client.get(url + "/analysis?project=acme/api&per_page=2&page=2", headers=auth) as resp:
            page = await resp.json()
        assert page["total"] == 5 and [a["pipeline_id"] for a in page["items"]] == [102, 101]
        async with client.get(url + "/analysis?provider=anthropic", headers=auth) as resp:
            items = (await resp.json())["items"]
        assert [a["provider"] for a in items] == ["anthropic"]
        async with client.get(url + f"/analysis/{items[0]['id']}", headers=auth) as resp:
            one = await resp.json()
        assert one["result"]["summary"] == "tests fail" and one["tokens_in"] == 50
        async with client.get(url + "/analysis/999999", headers=auth) as resp:
            assert resp.status == 404
        async with client.get(url + "/analysis?page=x", headers=auth) as resp:
            assert resp.status == 400


async def test_stats_summary_counts_tokens_cost_and_latency(database):
    await seed(database)
    async with running_app(database, CICD_BOT_API_TOKEN=TOKEN) as (_, client, url):
        async with client.get(url + "/analysis/stats/summary", headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
            stats = await resp.json()
    assert stats["analyses"] == 7
    assert stats["success_rate"] == round(6 / 7, 4)
    assert stats["tokens"] == {"in": 550, "out": 110, "cached": 0}
    assert stats["cost_usd"] == 0.07
    assert stats["by_provider"]["openai"]["latency_ms"] == {"p50": 300.0, "p95": 500.0}
    assert stats["by_provider"]["heuristic"]["errors"] == 1
