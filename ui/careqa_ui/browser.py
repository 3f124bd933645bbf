"""Driving the app in headless Chromium, shared by scripts/screenshot.py and the browser tests.

Needs selenium (the `test` extra) and Debian's chromium + chromium-driver; no downloads.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--hide-scrollbars",
         "--force-device-scale-factor=1")
TIMEOUT = 30  # seconds a step may take on a busy 2-core machine
VIEWER = "#viewer .viewer"  # what the document viewer shows (not Gradio's own status markup around it)


def chromium(width: int = 1280, height: int = 720, profile: Path | None = None, downloads: Path | None = None):
    """A headless Chromium with a fresh profile and a width x height page that logs every
    network request it makes; files it downloads land in `downloads`."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--user-data-dir={profile or tempfile.mkdtemp(prefix='careqa-chromium-')}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(CHROMEDRIVER)))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    if downloads is not None:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


def wait(driver, condition, timeout: float = TIMEOUT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def open_app(driver, url: str) -> None:
    """Load the page and wait until the question box can be typed in."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.get(url)
    wait(driver, ec.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea")))


def turns(driver) -> int:
    """Answers on the page (a draft a model is still writing is not one yet)."""
    return len(driver.find_elements("css selector", "#conversation .turn:not(.drafting)"))


def answered(driver, before: int, timeout: float = TIMEOUT) -> None:
    """Wait for answer number before + 1 to be on the page."""
    wait(driver, lambda d: turns(d) > before and d.find_elements(
        "css selector", "#conversation .turn:last-child:not(.drafting) .a > *"), timeout)


def ask(driver, question: str) -> None:
    """Type a question into the open app, press Ask and wait for its answer."""
    from selenium.webdriver.common.by import By

    before = turns(driver)
    box = driver.find_element(By.CSS_SELECTOR, "#question textarea")
    box.clear()
    box.send_keys(question)
    driver.find_element(By.CSS_SELECTOR, "#ask").click()
    answered(driver, before)


def click(driver, css: str, index: int = 0) -> None:
    """Click the index-th element matching css, scrolled into view first (as a person would),
    once it is on the page (an accordion or a tab renders its contents after it opens)."""
    wait(driver, lambda d: len(d.find_elements("css selector", css)) > index)
    element = driver.find_elements("css selector", css)[index]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def html(driver, css: str) -> str:
    """The markup of the first element matching css ('' when there is none)."""
    found = driver.find_elements("css selector", css)
    return found[0].get_attribute("outerHTML") if found else ""


def changed(driver, css: str, before: str) -> None:
    """Wait until the first element matching css is something other than `before`."""
    wait(driver, lambda d: html(d, css) not in ("", before))


def open_citation(driver, index: int = 0):
    """Click the index-th [n] of the conversation; return the viewer's current highlighted sentence."""
    before = html(driver, VIEWER)
    click(driver, "#conversation button.cite", index)
    changed(driver, VIEWER, before)
    return wait(driver, lambda d: d.find_element("css selector", "#viewer mark#hl"))


def overflow(driver) -> int:
    """How many pixels the page is wider than the window (0 when nothing sticks out)."""
    return driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


def in_view(driver, element, box=None) -> bool:
    """Whether the element's top is inside the window (and inside `box`, a scrolling parent)."""
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); const b = arguments[1] ? "
        "arguments[1].getBoundingClientRect() : {top: 0, bottom: window.innerHeight};"
        "return r.top >= Math.max(0, b.top) && r.top < Math.min(window.innerHeight, b.bottom);", element, box)


def outside_requests(driver, host: str) -> list[str]:
    """URLs the page requested from anywhere but the app's own host (should be none)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith(("http:", "https:", "ws:", "wss:")) and f"//{host}" not in url:
                urls.append(url)
    return urls
