"""The shared map in a real headless browser (Debian's chromium + chromedriver, selenium):
two laptops synced, a viewer signs in with the keyboard, the steps, n per step and the
flagged equity gap match the database, a filter changes the URL and the numbers, and the
page is photographed at three sizes; a researcher sees only their own sessions."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxfield.hub import accounts
from tests.hub_support import HubDatabase, start_hub
from tests.web_support import (
    SyncedStudy,
    expected_gaps,
    ratings,
    sessions_selected,
    step_names,
    stored,
    two_laptops,
)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

pytestmark = pytest.mark.timeout(300)
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
#: where the screenshots go: $CXFIELD_SHOTS/web, else a temporary folder
SHOTS = (
    Path(os.environ["CXFIELD_SHOTS"]) / "web"
    if os.environ.get("CXFIELD_SHOTS")
    else Path(tempfile.mkdtemp())
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SyncedStudy, Any]]:
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.skip("chromium and chromium-driver are not installed (dev.sh installs them)")
    synced = two_laptops(tmp_path_factory.mktemp("browser"))
    hub = start_hub(
        HubDatabase("sqlite", f"sqlite:///{synced.hub_dir / 'hub.sqlite'}", synced.hub_dir)
    )
    yield synced, hub
    hub.stop()
    synced.team.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_window_size(1366, 768)
    yield driver
    driver.quit()


def _sign_in(driver: Any, url: str, token: str) -> None:
    """Type the token where the focus is (the sign-in page puts it in the field) + Enter."""
    driver.get(url)
    assert "/signin" in driver.current_url
    focused = driver.switch_to.active_element
    assert focused.get_attribute("name") == "token"
    focused.send_keys(token, Keys.ENTER)
    WebDriverWait(driver, 20).until(
        lambda d: (
            d.find_element(By.TAG_NAME, "h1").text != "Sign in"
            or d.find_elements(By.CSS_SELECTOR, ".error")
        )
    )


def _wait_for_map(driver: Any) -> None:
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "steps-table"))


def _n_per_step(driver: Any) -> dict[str, int]:
    found = {}
    for row in driver.find_elements(By.CSS_SELECTOR, "#steps-table tbody tr"):
        name = row.find_element(By.TAG_NAME, "th").text.split(". ", 1)[1]
        found[name] = int(row.find_elements(By.TAG_NAME, "td")[2].text)
    return found


def _expected_n(synced: SyncedStudy, chosen: dict[str, Any]) -> dict[str, int]:
    names = step_names(synced.engine, synced.study_id)
    return {names[step]: len(v) for step, v in ratings(synced.engine, chosen).items()}


def _shot(driver: Any, name: str, width: int, height: int) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(width, height)
    path = SHOTS / name
    driver.save_screenshot(str(path))
    return path


def test_a_viewer_sees_both_laptops_sessions_in_one_map(served: Any, browser: Any) -> None:
    synced, hub = served
    _info, enrol = accounts.add_user(synced.engine, "Leadership", "viewer")
    _sign_in(browser, f"{hub.url}/studies/{synced.study_id}", enrol)
    # the enrolment token became a personal token, shown once; then on to the map
    assert "shown only this once" in browser.page_source, browser.find_element(By.ID, "main").text
    browser.find_element(By.LINK_TEXT, "Continue").send_keys(Keys.ENTER)
    _wait_for_map(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Demo:")
    chosen = sessions_selected(synced.engine, synced.study_id)
    owners = {s["_owner"] for s in chosen.values()}
    assert len(owners) == 2  # Ana's and Ben's sessions, both in the selection
    steps = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.map thead th")]
    for name in step_names(synced.engine, synced.study_id).values():
        assert any(name in text for text in steps), name
    assert _n_per_step(browser) == _expected_n(synced, chosen)
    gaps = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#gaps li")]
    want = expected_gaps(synced.engine, synced.study_id, "language", chosen)
    assert want and len(gaps) == len(want)
    for value, step, n, rest in want:
        assert any(
            g.startswith(f"{value} (") and f"rated {step} " in g and f"n = {n} vs {rest}" in g
            for g in gaps
        ), (value, step, gaps)
    assert (
        browser.find_element(By.CSS_SELECTOR, "svg.chart title").get_attribute("textContent")
        == "Emotion curve"
    )
    for name, (w, h) in {"map-1366x768.png": (1366, 768), "map-1920x1080.png": (1920, 1080),
                         "map-phone-390x844.png": (390, 844)}.items():  # fmt: skip
        assert _shot(browser, name, w, h).stat().st_size > 10_000
    # the whole page, for a look at every section
    browser.set_window_size(1366, 768)
    full = browser.execute_script("return document.body.scrollHeight")
    _shot(browser, "map-1366-full.png", 1366, min(int(full) + 100, 8000))
    browser.set_window_size(1366, 768)

    # a filter: the site, chosen with the keyboard, then Apply; the URL holds it
    sites = {s["name"]: s["id"] for s in stored(synced.engine, "site")}
    name, site_id = sorted(sites.items())[0]
    picker = browser.find_element(By.NAME, "site")
    Select(picker).select_by_visible_text(name)
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").send_keys(Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda d: "site=" in d.current_url)
    _wait_for_map(browser)
    assert f"site={site_id}" in browser.current_url
    filtered = sessions_selected(synced.engine, synced.study_id, site_id=site_id)
    assert _n_per_step(browser) == _expected_n(synced, filtered)
    assert f"Site: {name}" in browser.find_element(By.ID, "main").text
    _shot(browser, "map-filtered-1366x768.png", 1366, 768)
    # the link holds the filter: opening it again in the same browser shows the same numbers
    link = browser.current_url
    browser.get(link)
    assert _n_per_step(browser) == _expected_n(synced, filtered)


def test_a_researcher_sees_only_their_own_sessions(served: Any, browser: Any) -> None:
    synced, hub = served
    _info, enrol = accounts.issue_enrolment(synced.engine, "Ana")
    _sign_in(browser, f"{hub.url}/studies/{synced.study_id}", enrol)
    browser.find_element(By.LINK_TEXT, "Continue").send_keys(Keys.ENTER)
    _wait_for_map(browser)
    ana = accounts._account_by_name  # noqa: SLF001 - the test looks the id up directly
    with synced.engine.connect() as conn:
        ana_id = ana(conn, "Ana").id
    own = sessions_selected(synced.engine, synced.study_id, owner=ana_id)
    assert _n_per_step(browser) == _expected_n(synced, own)
    text = browser.find_element(By.ID, "main").text
    assert "only your own" in text
    total = re.search(r"(\d+) sessions", text)
    assert total and int(total.group(1)) < len(sessions_selected(synced.engine, synced.study_id))
    # no transcript, audio or note text anywhere on the page
    notes = [n["text"] for n in stored(synced.engine, "note") if len(n["text"]) > 25]
    assert not any(n in browser.page_source for n in notes)
    assert shutil.which("chromium")
