"""The dashboard's pure parts: sessions, SVG charts, filters, trends and the picture built from rows."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.core import dashboard as dash
from bot.core import session
from bot.core.render import charts

KEY = session.session_key("the-api-token")
NOW = 1_800_000_000


# --- sessions -----------------------------------------------------------------------------------------------


def test_a_session_verifies_until_it_expires_and_never_holds_the_token():
    value = session.issue(KEY, now=NOW, nonce="abc123")
    assert "the-api-token" not in value
    assert session.verify(KEY, value, now=NOW)
    assert session.verify(KEY, value, now=NOW + session.SESSION_MAX_AGE_SECONDS)
    assert not session.verify(KEY, value, now=NOW + session.SESSION_MAX_AGE_SECONDS + 1)
    assert not session.verify(KEY, value, now=NOW - session.CLOCK_SKEW_SECONDS - 1)  # issued in the future


def test_a_session_is_refused_when_tampered_with_or_signed_with_another_token():
    value = session.issue(KEY, now=NOW, nonce="abc123")
    version, issued, nonce, mac = value.split(".")
    assert not session.verify(KEY, f"{version}.{int(issued) + 3600}.{nonce}.{mac}", now=NOW)  # extended
    assert not session.verify(KEY, f"{version}.{issued}.other.{mac}", now=NOW)
    assert not session.verify(session.session_key("a-rotated-token"), value, now=NOW)
    for junk in (None, "", "v1", "v1.x.y.z", "v2." + value[3:], "." * 300):
        assert not session.verify(KEY, junk, now=NOW)


def test_the_csrf_token_is_bound_to_its_session():
    one = session.issue(KEY, now=NOW, nonce="one")
    two = session.issue(KEY, now=NOW, nonce="two")
    token = session.csrf_token(KEY, one)
    assert session.csrf_ok(KEY, one, token)
    assert not session.csrf_ok(KEY, two, token)
    assert not session.csrf_ok(KEY, one, None) and not session.csrf_ok(KEY, None, token)


def test_a_nonce_must_be_plain():
    with pytest.raises(ValueError):
        session.issue(KEY, now=NOW, nonce="a.b")


# --- charts -------------------------------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    """Well-formed XML, or the test fails here."""
    return ET.fromstring(svg)


SVG = "{http://www.w3.org/2000/svg}"


def test_stacked_bars_draw_one_segment_per_nonzero_value_with_a_tooltip():
    svg = charts.stacked_bars(
        ["05-01", "05-02", "05-03"],
        [charts.Series("acme/api", [1, 0, 3]), charts.Series("acme/web", [2, 2, 0])],
        title="Failures",
    )
    root = parse(svg)
    rects = root.findall(f"{SVG}rect")
    assert len(rects) == 4
    assert [r.get("class") for r in rects] == ["c0", "c1", "c1", "c0"]
    assert [r.find(f"{SVG}title").text for r in rects][0] == "05-01 · acme/api: 1"
    assert root.find(f"{SVG}title").text == "Failures"
    # The tallest stack (3) reaches the top of a 5-high axis: heights are proportional.
    heights = {r.find(f"{SVG}title").text: float(r.get("height")) for r in rects}
    assert heights["05-03 · acme/api: 3"] == pytest.approx(3 * heights["05-01 · acme/api: 1"])


def test_charts_escape_every_label():
    hostile = '<script>alert(1)</script>&"'
    for svg in (
        charts.stacked_bars([hostile], [charts.Series(hostile, [1])], title=hostile),
        charts.sparkline([1, 2], title=hostile),
        charts.share_bar([(hostile, 2)], title=hostile),
    ):
        assert "<script>" not in svg
        texts = [el.text for el in parse(svg).iter() if el.text]
        assert any(hostile in t for t in texts)  # shown as text, whole


def test_empty_and_odd_inputs_still_draw():
    parse(charts.stacked_bars([], [], title="nothing"))
    parse(charts.stacked_bars(["a"], [charts.Series("x", [0])], title="zero"))
    parse(charts.sparkline([], title="none"))
    parse(charts.sparkline([0, 0, 0], title="flat"))
    empty = parse(charts.share_bar([("a", 0)], title="no votes"))
    assert empty.find(f"{SVG}rect").get("class") == "empty"
    with pytest.raises(ValueError):
        charts.stacked_bars(["a", "b"], [charts.Series("x", [1])], title="short")


def test_share_bar_splits_the_width_by_share():
    root = parse(charts.share_bar([("up", 3), ("down", 1)], title="votes"))
    widths = [float(r.get("width")) for r in root.findall(f"{SVG}rect")]
    assert widths[0] == pytest.approx(3 * widths[1])
    assert "up: 3 (75%)" in [t.text for t in root.iter(f"{SVG}title")]


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (240, 250), (0.03, 0.05)])
def test_axis_tops_are_round(value, ceiling):
    assert charts.nice_ceiling(value) == pytest.approx(ceiling)


def test_charts_carry_no_style_attributes_so_the_csp_can_forbid_inline_styles():
    svg = charts.stacked_bars(["a"], [charts.Series("x", [1])], title="t") + charts.sparkline([1, 2], title="t")
    assert not re.search(r"\sstyle=", svg)


# --- filters, trends, the picture ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["acme", "acme/platform/api", "a_b/c-d.e", ""])
def test_gitlab_paths_are_accepted_as_filters(path):
    f = dash.Filters.model_validate({"group": path, "project": path})
    assert f.group == (path or None)


@pytest.mark.parametrize("path", ["<script>", "acme/", "/acme", "a b", "acme//x", "a%", "x" * 300, "-acme"])
def test_other_text_is_refused_as_a_filter(path):
    with pytest.raises(ValidationError):
        dash.Filters.model_validate({"project": path})


@pytest.mark.parametrize(
    ("daily", "expected"),
    [
        ([0] * 7 + [1] * 7, (dash.Trend.new, None)),
        ([0] * 14, (dash.Trend.steady, None)),
        ([1] * 7 + [2] * 7, (dash.Trend.rising, 1.0)),
        ([2] * 7 + [1] * 7, (dash.Trend.falling, -0.5)),
        ([10] * 7 + [11] * 7, (dash.Trend.steady, 0.1)),
    ],
)
def test_trend_compares_the_last_week_with_the_one_before(daily, expected):
    assert dash.trend(daily) == expected


def test_groups_are_every_namespace_above_the_projects():
    assert dash.groups_of(["acme/platform/api", "acme/web", "oss/cli"]) == ["acme", "acme/platform", "oss"]


def test_failures_per_day_keeps_the_top_projects_and_sums_the_rest():
    axis = dash.day_axis(date(2025, 5, 3), 3)
    assert axis == ["2025-05-01", "2025-05-02", "2025-05-03"]
    rows = [dash.DayCount("2025-05-01", f"p{i}", i + 1) for i in range(8)] + [dash.DayCount("2025-04-01", "old", 9)]
    picture = dash.failures_per_day(axis, rows, top=6)
    assert [s.label for s in picture.projects] == ["p7", "p6", "p5", "p4", "p3", "p2", dash.OTHER]
    assert picture.projects[-1].values == [3.0, 0.0, 0.0]  # p1 (2) + p0 (1)
    assert picture.totals == [36, 0, 0]


def test_the_picture_links_only_to_our_gitlab():
    now = datetime(2025, 5, 14, 12, tzinfo=UTC)
    rows = dash.DashboardRows(
        recent=[
            dash.FailureRow(
                now,
                "acme/api",
                7,
                "https://gitlab.example.com/acme/api/-/pipelines/7",
                "main",
                70,
                "unit",
                "test",
                "https://evil.example/acme/api/-/jobs/70",
                "script_failure",
                analysis_id=1,
                verdict="flaky",
            )
        ],
        flaky=[
            dash.FlakyRow("acme/api", "e2e", now - timedelta(days=1), "", ""),
            dash.FlakyRow("acme/api", "e2e", now, "https://gitlab.example.com/j/2", ""),
        ],
        verdicts={"flaky": 3, "caused_by_change": 5},
        feedback={"openai": (3, 1), "heuristic": (0, 0)},
        projects=["acme/api"],
    )
    d = dash.build(rows, filters=dash.Filters(), now=now, gitlab_base_url="https://gitlab.example.com")
    failure = d.recent_failures[0]
    assert failure.pipeline_url.startswith("https://gitlab.example.com/") and failure.job_url is None
    assert failure.verdict_label == "flaky, retry"
    assert [(f.job_name, f.occurrences, f.job_url) for f in d.flaky_jobs] == [
        ("e2e", 2, "https://gitlab.example.com/j/2")
    ]
    assert [v.verdict for v in d.verdicts] == ["caused_by_change", "flaky"]
    assert d.feedback.up_share == 0.75 and d.totals.analyses == 8
    assert len(d.days) == dash.DEFAULT_DAYS and d.days[-1] == "2025-05-14"


@pytest.mark.parametrize(("value", "shown"), [(950, "950"), (1200, "1.2k"), (50_000, "50k"), (3_400_000, "3.4M")])
def test_axis_numbers_are_compact(value, shown):
    assert charts.compact(value) == shown
