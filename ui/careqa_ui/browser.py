"""Driving the app in headless Chromium, shared by scripts/screenshot.py and the browser test.

Needs selenium (the `test` extra) and Debian's chromium + chromium-driver; no downloads.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--hide-scrollbars",
         "--force-device-scale-factor=1")


def chromium(width: int = 1440, height: int = 960, profile: Path | None = None):
    """A headless Chromium with a fresh profile and a width x height page that logs every
    network request it makes."""
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
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return driver


def ask(driver, url: str, question: str, timeout: float = 30) -> None:
    """Open the app, type a question, press Ask and wait for the answer's first [n] marker."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    wait = WebDriverWait(driver, timeout)
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea")))
    box.send_keys(question)
    driver.find_element(By.CSS_SELECTOR, "#ask").click()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#chat a.cite")))


def open_citation(driver, index: int = 0, timeout: float = 30):
    """Click the index-th [n] marker of the chat; return the viewer's first highlighted sentence."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_elements(By.CSS_SELECTOR, "#chat a.cite")[index].click()
    return WebDriverWait(driver, timeout).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#viewer mark")))


def outside_requests(driver, host: str) -> list[str]:
    """URLs the page requested from anywhere but the app's own host (should be none)."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith(("http:", "https:", "ws:", "wss:")) and f"//{host}" not in url:
                urls.append(url)
    return urls
