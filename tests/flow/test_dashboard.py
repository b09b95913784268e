"""The dashboard on SQLite and PostgreSQL: its numbers against seeded history, filters, escaping, login and logout."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from bot.core import session
from handlers import auth
from handlers.dashboard import NOT_A_PATH, WRONG_TOKEN
from tests.dashboard_kit import GITLAB, HOSTILE_JOB, seed
from tests.helpers import running_app

TOKEN = "dashboard-token-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
APP = {"CICD_BOT_API_TOKEN": TOKEN, "GITLAB_BASE_URL": GITLAB}


async def data(client, url, query="", headers=BEARER):
    async with client.get(url + "/dashboard/data" + query, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_the_numbers_match_the_history_they_come_from(database):
    seeded = await seed(database)
    async with running_app(database, **APP) as (_, client, url):
        status, d = await data(client, url)
        assert status == 200
        _, acme = await data(client, url, "?group=acme")
        _, one = await data(client, url, "?project=acme/data/etl&days=7")
        _, nothing = await data(client, url, "?group=ac_e")  # "_" is a LIKE wildcard: it must match only itself
    assert d["totals"]["failed_pipelines"] == len(seeded.pipelines) == d["totals"]["failed_jobs"]
    assert {p["label"]: p["total"] for p in d["failures_per_day"]["projects"]} == seeded.per_project
    assert len(d["days"]) == 14 and sum(d["failures_per_day"]["totals"]) == len(seeded.pipelines)
    assert {(f["project_path"], f["job_name"]) for f in d["flaky_jobs"]} == seeded.flaky_jobs
    assert (d["feedback"]["up"], d["feedback"]["down"]) == seeded.votes
    assert d["totals"]["analyses"] == seeded.analyses
    assert sum(p["calls"] for p in d["providers"]) == seeded.calls
    anthropic = next(p for p in d["providers"] if p["provider"] == "anthropic")
    assert anthropic["cost_usd"] > 0 and round(sum(anthropic["daily_cost"]), 6) == round(anthropic["cost_usd"], 6)
    top = d["top_signatures"][0]
    assert top["failures"] == max(s["failures"] for s in d["top_signatures"]) and sum(top["daily"]) == top["failures"]
    assert top["summary"] and top["job_url"].startswith(GITLAB)
    recent = d["recent_failures"]
    assert len(recent) == 20 and recent[0]["at"] >= recent[-1]["at"]
    assert all(r["verdict"] for r in recent) and all(r["pipeline_url"].startswith(GITLAB) for r in recent)
    assert "oss/tools/cli" in d["projects"] and "acme/platform" in d["groups"]
    # Filters: a group keeps only its projects; a project and a shorter window keep less still.
    assert {p["label"] for p in acme["failures_per_day"]["projects"]} == {
        p for p in seeded.per_project if p.startswith("acme/")
    }
    assert acme["totals"]["failed_pipelines"] == len(seeded.pipelines) - seeded.per_project["oss/tools/cli"]
    assert [p["label"] for p in one["failures_per_day"]["projects"]] == ["acme/data/etl"] and len(one["days"]) == 7
    assert one["totals"]["failed_pipelines"] < seeded.per_project["acme/data/etl"]
    assert nothing["totals"]["failed_pipelines"] == 0 and nothing["recent_failures"] == []


async def test_the_page_shows_names_as_text_and_refuses_bad_filters(database):
    await seed(database)
    async with running_app(database, **APP) as (_, client, url):
        async with client.get(url + "/dashboard", headers=BEARER) as resp:
            assert resp.status == 200
            html = await resp.text()
            headers = resp.headers
        async with client.get(url + "/dashboard?project=%3Cscript%3Ealert(1)%3C/script%3E", headers=BEARER) as resp:
            assert resp.status == 400
            refused = await resp.text()
        status, err = await data(client, url, "?group=a%25b")
        assert status == 400 and NOT_A_PATH in err["error"]
        assert (await data(client, url, "?days=0"))[0] == 400
    assert HOSTILE_JOB not in html and "&lt;script&gt;alert(&#39;job&#39;)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html
    assert html.count("<svg") >= 5 and 'id="failures-per-day"' in html
    assert "Log out" not in html  # a script with the bearer token has no session to end
    assert headers["Cache-Control"] == "no-store" and "script-src" not in headers["Content-Security-Policy"]
    assert "<script>alert(1)" not in refused and NOT_A_PATH in refused


def session_cookie(resp) -> str | None:
    morsel = resp.cookies.get(auth.SESSION_COOKIE)
    return morsel.value if morsel is not None else None


async def test_login_sets_a_signed_httponly_cookie_and_logout_needs_the_csrf_token(sqlite_db):
    async with running_app(sqlite_db, **APP) as (_, client, url):
        async with client.get(url + "/dashboard?group=acme", allow_redirects=False) as resp:
            location = urlsplit(resp.headers["Location"])
            assert resp.status == 303 and location.path == "/dashboard/login"
            assert parse_qs(location.query) == {"next": ["/dashboard?group=acme"]}
        async with client.get(url + "/dashboard/data") as resp:
            assert resp.status == 401  # JSON: no redirect
        form = {"token": "wrong", "next": "/dashboard?group=acme"}
        async with client.post(url + "/dashboard/login", data=form, allow_redirects=False) as resp:
            assert resp.status == 401 and WRONG_TOKEN in await resp.text() and session_cookie(resp) is None
        form["token"] = TOKEN
        async with client.post(url + "/dashboard/login", data=form, allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/dashboard?group=acme"
            raw = resp.headers["Set-Cookie"]
            value = session_cookie(resp)
        assert (
            TOKEN not in raw
            and value
            and session.verify(session.session_key(TOKEN), value, now=int(value.split(".")[1]))
        )
        attrs = raw.lower()
        assert "httponly" in attrs and "samesite=lax" in attrs and "path=/dashboard" in attrs and "secure" not in attrs
        cookie = {"Cookie": f"{auth.SESSION_COOKIE}={value}"}
        async with client.get(url + "/dashboard", headers=cookie) as resp:
            assert resp.status == 200
            html = await resp.text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        async with client.get(url + "/analysis", headers=cookie) as resp:
            assert resp.status == 401  # the session opens the dashboard, not the API
        async with client.post(url + "/dashboard/logout", data={"csrf": "forged"}, headers=cookie) as resp:
            assert resp.status == 403
        async with client.post(
            url + "/dashboard/logout", data={"csrf": csrf}, headers=cookie, allow_redirects=False
        ) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/dashboard/login"
            cleared = SimpleCookie(resp.headers["Set-Cookie"])[auth.SESSION_COOKIE]
            assert cleared.value == "" and cleared["max-age"] == "0"


async def test_login_refuses_cross_site_posts_and_foreign_redirects(sqlite_db):
    form = {"token": TOKEN}
    async with running_app(sqlite_db, **APP) as (_, client, url):
        for headers in (
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},
            {"Origin": "https://evil.example"},
        ):
            async with client.post(url + "/dashboard/login", data=form, headers=headers) as resp:
                assert resp.status == 403 and session_cookie(resp) is None
        for target in ("//evil.example/", "https://evil.example/dashboard", "/dashboard\\@evil", "/other"):
            async with client.post(
                url + "/dashboard/login",
                data={**form, "next": target},
                allow_redirects=False,
                headers={"Sec-Fetch-Site": "same-origin"},
            ) as resp:
                assert resp.status == 303 and resp.headers["Location"] == "/dashboard"
        # Behind a TLS-terminating proxy the cookie is Secure.
        async with client.post(
            url + "/dashboard/login", data=form, allow_redirects=False, headers={"X-Forwarded-Proto": "https"}
        ) as resp:
            assert "secure" in resp.headers["Set-Cookie"].lower()
        async with client.get(
            url + "/dashboard", headers={"Authorization": "Bearer wrong"}, allow_redirects=False
        ) as resp:
            assert resp.status == 401  # a script with a wrong token is told so, not sent to a form


async def test_without_an_api_token_the_dashboard_is_off(sqlite_db):
    async with running_app(sqlite_db) as (_, client, url):
        async with client.get(url + "/dashboard", allow_redirects=False) as resp:
            assert resp.status == 404 and "CICD_BOT_API_TOKEN" in (await resp.json())["error"]
        async with client.get(url + "/dashboard/login") as resp:
            assert resp.status == 404 and "CICD_BOT_API_TOKEN" in await resp.text()
        async with client.post(url + "/dashboard/login", data={"token": ""}) as resp:
            assert resp.status == 404
