"""The dashboard in headless Chromium (Debian's chromium and chromium-driver, driven by Selenium): login, charts,
escaping, filters, logout, no console errors; screenshots at a laptop and a phone width."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from handlers.dashboard import WRONG_TOKEN
from tests.dashboard_kit import GITLAB, HOSTILE_JOB, seed
from tests.helpers import running_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
TOKEN = "browser-test-token"
# Where screenshots go; a temporary folder unless CICD_BOT_SCREENSHOT_DIR names one (outside the repository).
SCREENSHOT_DIR = os.environ.get("CICD_BOT_SCREENSHOT_DIR")
LAPTOP = (1366, 768)
PHONE = (390, 844)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver; .ci/run does)",
)


def start_browser(profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # Without the background-networking flags Chromium dials out, which this closed network refuses.
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={LAPTOP[0]},{LAPTOP[1]}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


class Browser:
    """The few things the test does with the page, each a blocking WebDriver call (run off the event loop)."""

    def __init__(self, driver, base: str, shots: Path):
        self.d, self.base, self.shots = driver, base, shots
        self.errors: list[dict] = []

    def console_errors(self) -> list[dict]:
        self.errors += [e for e in self.d.get_log("browser") if e["level"] == "SEVERE"]
        return self.errors

    def viewport(self, size: tuple[int, int], *, mobile: bool) -> None:
        self.d.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": mobile},
        )

    def screenshot(self, name: str, *, full: bool = False) -> Path:
        shot = self.d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": full})
        path = self.shots / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def css(self, selector: str):
        return self.d.find_elements("css selector", selector)

    def submit(self, selector: str, url_part: str) -> str:
        """Click a form's button and wait (at most 30 s, a failure bound) until the next page has loaded."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.wait import WebDriverWait

        before = self.d.current_url
        self.d.find_element("css selector", selector).click()

        def arrived(driver) -> bool:
            try:
                url = driver.current_url
                ready = driver.execute_script("return document.readyState") == "complete"
            except WebDriverException:  # the old document is going away: not there yet
                return False
            return url != before and url_part in url and ready

        WebDriverWait(self.d, 30).until(arrived)
        return self.d.current_url


def scenario(b: Browser) -> dict:
    """Everything the browser does; returns what the test asserts on."""
    from selenium.common.exceptions import NoAlertPresentException

    seen: dict = {}
    d = b.d
    d.get(b.base + "/dashboard?group=acme")
    seen["login_url"] = d.current_url
    b.screenshot("login-laptop")
    d.find_element("id", "token").send_keys("not-the-token")
    b.submit("form button[type=submit]", "/dashboard/login")
    seen["wrong_token_message"] = d.find_element("css selector", ".error").text
    # The refused login answers 401, which Chromium logs as a failed load; that one is expected, nothing else.
    seen["wrong_token_log"] = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]
    d.find_element("id", "token").send_keys(TOKEN)
    seen["after_login_url"] = b.submit("form button[type=submit]", "group=acme")
    seen["cookie"] = d.get_cookie("cicd_bot_session")
    seen["selected_group"] = d.find_element("css selector", "select[name=group] option[selected]").text
    d.get(b.base + "/dashboard")
    b.viewport(LAPTOP, mobile=False)
    d.get(b.base + "/dashboard")
    charts = b.css("svg.chart.bars")
    seen["bar_charts"] = len(charts)
    seen["drawn_bars"] = [len(c.find_elements("css selector", "rect")) for c in charts]
    seen["chart_sizes"] = [(c.size["width"], c.size["height"]) for c in b.css("svg.chart")]
    seen["sparklines"] = len(b.css("svg.spark polyline"))
    seen["hostile_text_shown"] = any(HOSTILE_JOB in el.text for el in b.css("#recent td, #signatures td"))
    try:
        d.switch_to.alert  # noqa: B018 - asking is the check: a script from a job name would have opened one
        seen["alert"] = True
    except NoAlertPresentException:
        seen["alert"] = False
    seen["laptop"] = b.screenshot("dashboard-laptop")
    b.screenshot("dashboard-laptop-full", full=True)
    b.viewport(PHONE, mobile=True)
    d.get(b.base + "/dashboard")
    seen["phone_overflow"] = d.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    seen["phone"] = b.screenshot("dashboard-phone")
    b.screenshot("dashboard-phone-full", full=True)
    b.viewport(LAPTOP, mobile=False)
    # A filter through the form, as a person would use it.
    from selenium.webdriver.support.select import Select

    Select(d.find_element("css selector", "select[name=project]")).select_by_visible_text("oss/tools/cli")
    seen["filtered_url"] = b.submit(".filters button[type=submit]", "project=")
    seen["filtered_legend"] = [li.text for li in b.css("#failures-per-day .legend li")]
    d.get(b.base + "/docs")
    seen["docs_operations"] = len(b.css("section.op"))
    b.screenshot("docs-laptop")
    d.get(b.base + "/dashboard")
    seen["after_logout_url"] = b.submit("form.logout button", "/dashboard/login")
    d.get(b.base + "/dashboard")
    seen["after_logout_dashboard_url"] = d.current_url
    seen["console_errors"] = b.console_errors()
    return seen


async def test_the_dashboard_in_a_real_browser(sqlite_db, tmp_path):
    await seed(sqlite_db)
    shots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    async with running_app(sqlite_db, CICD_BOT_API_TOKEN=TOKEN, GITLAB_BASE_URL=GITLAB) as (_, _client, url):
        with tempfile.TemporaryDirectory() as profile:
            driver = await asyncio.to_thread(start_browser, profile)
            try:
                seen = await asyncio.wait_for(asyncio.to_thread(scenario, Browser(driver, url, shots)), 120)
            finally:
                await asyncio.to_thread(driver.quit)

    assert "/dashboard/login?next=" in seen["login_url"]
    assert seen["wrong_token_message"] == WRONG_TOKEN
    assert len(seen["wrong_token_log"]) == 1 and "/dashboard/login" in seen["wrong_token_log"][0]
    assert "401" in seen["wrong_token_log"][0]
    assert seen["after_login_url"].endswith("/dashboard?group=acme") and seen["selected_group"] == "acme"
    cookie = seen["cookie"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and TOKEN not in cookie["value"]
    assert seen["bar_charts"] == 3 and all(n > 0 for n in seen["drawn_bars"])
    assert all(w > 100 and h > 10 for w, h in seen["chart_sizes"]) and seen["sparklines"] > 0
    assert seen["hostile_text_shown"] and seen["alert"] is False
    assert seen["phone_overflow"] == 0  # wide tables scroll inside their cards, the page does not
    assert "project=oss%2Ftools%2Fcli" in seen["filtered_url"] and len(seen["filtered_legend"]) == 1
    assert seen["filtered_legend"][0].startswith("oss/tools/cli")
    assert seen["docs_operations"] >= 16
    assert "/dashboard/login" in seen["after_logout_url"] and "/dashboard/login" in seen["after_logout_dashboard_url"]
    assert seen["console_errors"] == []
    assert seen["laptop"].stat().st_size > 10_000 and seen["phone"].stat().st_size > 10_000
