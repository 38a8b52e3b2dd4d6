"""Fixtures for the dashboard tests: the real agent with a fake device, and headless Chromium.

Chromium is Debian's `chromium` driven by `chromium-driver` through selenium (scripts/setup.sh
installs all three); the tests skip with a message when one is missing.
"""
import os
import shutil

import pytest

from dashboard_agent import ROOT, Agent

ARTIFACTS = os.path.join(ROOT, "test-artifacts")


def _chrome():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (scripts/setup.sh installs it)")
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver")
    if not browser or not driver_path:
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup.sh installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                 "--force-device-scale-factor=1", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions", "--metrics-recording-only"):
        options.add_argument(flag)
    # Network events (to prove the page asks nothing from outside) and console errors (CSP).
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(15)
    return driver


@pytest.fixture(scope="module")
def chrome():
    driver = _chrome()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def spikes_agent():
    agent = Agent("spikes")
    yield agent
    agent.stop()


@pytest.fixture
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS
