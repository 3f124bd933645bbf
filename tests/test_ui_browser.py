"""The app in headless Chromium: ask, click the first citation, see the sentence highlighted."""
from __future__ import annotations

import pytest

from careqa_ui import browser

pytestmark = [pytest.mark.skipif(not (browser.CHROMIUM.exists() and browser.CHROMEDRIVER.exists()),
                                 reason="needs Chromium and chromedriver at /usr/bin "
                                        "(Debian packages chromium and chromium-driver)"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")]

NORWAY = "How does Norway incentivise discharge coordination?"


def test_citation_opens_the_highlighted_sentence_in_its_document(bundled_app, tmp_path):
    from selenium.webdriver.common.by import By

    driver = browser.chromium(1440, 900, profile=tmp_path / "profile")
    try:
        browser.ask(driver, bundled_app, NORWAY)
        assert "[1]" in driver.find_element(By.CSS_SELECTOR, "#chat a.cite").text
        browser.open_citation(driver, 0)
        marks = [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#viewer mark")]
        assert any("municipalities are fined per day" in m for m in marks), marks
        header = driver.find_element(By.CSS_SELECTOR, "#viewer header").text
        assert "The Commonwealth Fund" in header and "Norway" in header
        box = driver.find_element(By.CSS_SELECTOR, "#viewer .doc").rect
        first = driver.find_element(By.CSS_SELECTOR, "#viewer #hl").rect
        assert box["y"] <= first["y"] < box["y"] + box["height"], "highlight not scrolled into view"
        assert "selected" in driver.find_element(By.CSS_SELECTOR, "#sources a.card").get_attribute("class")
        driver.save_screenshot(str(tmp_path / "citation.png"))
        assert (tmp_path / "citation.png").stat().st_size > 10_000
        assert browser.outside_requests(driver, bundled_app.split("/")[2]) == []
    finally:
        driver.quit()
