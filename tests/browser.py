"""Headless Chromium for the tests that open pages: Debian's ``chromium`` (``.ci/run`` installs it with
``chromium-driver`` where apt-get can), driven by Selenium through the system's chromedriver. Nothing is downloaded:
Selenium Manager is never asked for a browser or a driver."""

from __future__ import annotations

import shutil

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver", "chromium.chromedriver")

#: Every element under ``document``, shadow roots included (Bokeh draws its widgets in shadow DOM); the script
#: returns those that match the CSS selector ``arguments[0]``.
FIND_DEEP = """
function* walk(root) {
  for (const el of root.querySelectorAll('*')) { yield el; if (el.shadowRoot) yield* walk(el.shadowRoot); }
}
const found = [];
for (const el of walk(document)) if (el.matches(arguments[0])) found.push(el);
return found;
"""


def find_browser() -> str | None:
    """The path of a Chromium-family browser on PATH, or ``None``."""
    for name in BROWSERS:
        if shutil.which(name):
            return shutil.which(name)
    return None


def chrome_driver(width: int = 1280, height: int = 1600):  # -> selenium.webdriver.Chrome
    """A headless Chrome session on the installed browser and chromedriver, with the console log kept; skips the
    test (saying what is missing) where there is none."""
    browser = find_browser()
    if browser is None:
        pytest.skip("no chromium, chromium-browser or google-chrome on PATH (Debian: apt-get install chromium)")
    driver_path = next((shutil.which(n) for n in DRIVERS if shutil.which(n)), None)
    if driver_path is None:
        pytest.skip("no chromedriver on PATH (Debian: apt-get install chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)
