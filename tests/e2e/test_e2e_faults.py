"""The fault suite against the real process: two replicas on one PostgreSQL, unauthenticated floods, hostile input.
Outcomes only (statuses, rows, counts); /health "answered" means every request during the fault got 200 within the
generous client bound. benchmarks/fault_table.py runs the same scenarios and reports the times (RELIABILITY.md)."""

from __future__ import annotations

import pytest

from tests import fault_kit
from tests.botprocess import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.fault, pytest.mark.timeout(300)]


async def test_two_replicas_with_duplicate_deliveries_to_both_analyse_each_pipeline_once(tmp_path):
    async with database_url("postgres", tmp_path) as url:
        tally = await fault_kit.two_replicas(url, tmp_path, pipelines=6)
    assert (tally.delivered, tally.accepted) == (24, 24)
    assert (tally.analysed, tally.lost, tally.duplicated) == (6, 0, 0)
    assert tally.health_ok


async def test_an_unauthenticated_flood_is_refused_while_health_answers_and_real_work_goes_on(tmp_path):
    # The door refuses before the database is involved, so one backend is enough.
    async with database_url("sqlite", tmp_path) as url:
        tally = await fault_kit.flood(url, tmp_path, bursts=1, bodies=30, slow=6, slowloris=20)
    assert tally.hostile[408] == 12, "every slow body is answered 408"
    assert tally.slowloris_closed == 20, "every slowloris connection is closed by the server"
    assert set(tally.hostile) <= {401, 408, 503}, tally.hostile  # 503: a Slack body that found no read slot
    assert (tally.accepted, tally.analysed, tally.lost, tally.duplicated) == (2, 2, 0, 0)
    assert tally.health_ok


async def test_hostile_gitlab_and_slack_input_never_earns_a_5xx_and_real_work_goes_on(db_url, tmp_path):
    tally, cases = await fault_kit.hostile_input(db_url, tmp_path)
    served = {name: status for name, status in cases.items() if "2^6" not in name}
    assert all(status is not None and status < 500 for status in served.values()), served
    assert all(cases[f"slack: timestamp {ts}"] == 401 for ts in ("'abc'", "'1e3'", "''")), cases
    assert cases["slack: unsigned nested JSON"] == 401 and cases["slack: signed, nested 50000 deep"] == 400
    assert (tally.accepted, tally.analysed, tally.lost, tally.duplicated) == (1, 1, 0, 0)
    assert tally.health_ok
    assert "Error handling request" not in tally.log, "aiohttp logs this for every 500 a handler raised"
