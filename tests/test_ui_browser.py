"""The app in headless Chromium at a laptop's 1280x720 and a phone's 390x844, checked the way a
person looks at it: what is on the first screen, what a click shows, what a download holds.
After every step the page is no wider than the window; a screenshot of each step is saved under
tmp_path; no request leaves 127.0.0.1."""
from __future__ import annotations

import io
import re
import shutil
import time

import pytest
from docx import Document

from careqa.assistant import Assistant
from careqa.config import Settings
from careqa.export import reference, to_markdown
from careqa_ui import browser
from careqa_ui.app import start_local
from conftest import BUNDLED_CORPUS

needs_chromium = pytest.mark.skipif(not (browser.CHROMIUM.exists() and browser.CHROMEDRIVER.exists()),
                                    reason="needs Chromium and chromedriver at /usr/bin "
                                           "(Debian packages chromium and chromium-driver)")
pytestmark = [needs_chromium, pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")]

SIZES = [(1280, 720), (390, 844)]
NORWAY = "How does Norway incentivise discharge coordination?"


class Visit:
    """A browser at one size on one app: each `step` saves a screenshot and checks the width."""

    def __init__(self, url: str, size: tuple[int, int], folder):
        self.url, self.size, self.folder, self.steps = url, size, folder, 0
        self.driver = browser.chromium(*size, profile=folder / "profile", downloads=folder / "downloads")

    def step(self, name: str) -> None:
        self.steps += 1
        self.driver.save_screenshot(str(self.folder / f"{self.size[0]}x{self.size[1]}-{self.steps:02d}-{name}.png"))
        assert browser.overflow(self.driver) <= 0, f"page wider than the window after '{name}'"

    def find(self, css: str):
        return self.driver.find_element("css selector", css)

    def all(self, css: str):
        return self.driver.find_elements("css selector", css)

    def text(self, css: str) -> str:
        return self.find(css).text

    def close(self) -> None:
        outside = browser.outside_requests(self.driver, self.url.split("/")[2])
        self.driver.quit()
        assert outside == []


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def visit(request, bundled_app, tmp_path):
    v = Visit(bundled_app, request.param, tmp_path)
    browser.open_app(v.driver, bundled_app)
    yield v
    v.close()


def fully_visible(v: Visit, element) -> bool:
    return v.driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth;", element)


def test_first_screen_example_source_full_document_and_export(visit, assistant):
    v = visit
    examples = v.all("#conversation button.example")
    assert examples and fully_visible(v, v.find("#question textarea")) and fully_visible(v, examples[0])
    v.step("first-screen")
    question = examples[0].text
    examples[0].click()
    browser.answered(v.driver, 0)
    assert v.text("#conversation .turn .q") == question
    v.step("example-answered")

    cites = v.all("#conversation button.cite")
    clicked = browser.open_citation(v.driver, len(cites) - 1)
    said = v.driver.execute_script("return arguments[0].previousSibling.textContent", cites[-1]).strip()
    assert clicked.text == said, "the viewer marks the sentence whose [n] was clicked"
    assert browser.in_view(v.driver, clicked, v.find("#viewer .doc"))
    v.step("source-opened")

    href = v.find("#viewer a[download]").get_attribute("href")
    doc = assistant.document(re.search(r"careqa/original/(.+)$", href)[1])
    before = browser.html(v.driver, browser.VIEWER)
    browser.click(v.driver, "#viewer header button.link")
    browser.changed(v.driver, browser.VIEWER, before)
    reader = v.find("#viewer .viewer.full .doc")
    last = doc["text"].rstrip().rsplit("\n", 1)[-1].strip()
    assert last in reader.get_attribute("textContent"), "the whole document, to its last sentence"
    current = v.find("#viewer mark#hl")
    assert current.text == said and browser.in_view(v.driver, current, reader)
    v.step("full-document")
    before = browser.html(v.driver, browser.VIEWER)
    browser.click(v.driver, "#viewer header button.link")
    browser.changed(v.driver, browser.VIEWER, before)
    assert not v.all("#viewer .viewer.full")

    v.driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": v.url.rstrip("/"), "permissions": [
        "clipboardReadWrite", "clipboardSanitizedWrite"]})
    browser.click(v.driver, "#conversation button.copy")
    browser.wait(v.driver, lambda d: v.text("#conversation button.copy") == "Copied")
    pasted = v.driver.execute_async_script("navigator.clipboard.readText().then(arguments[0])")
    assert pasted == to_markdown(assistant.ask(question).to_dict())

    browser.click(v.driver, "#conversation button.export", 1)
    saved = v.folder / "downloads" / "careqa-answer-1.docx"
    browser.wait(v.driver, lambda d: saved.exists() and saved.stat().st_size > 0)
    paragraphs = [p.text for p in Document(io.BytesIO(saved.read_bytes())).paragraphs]
    answer = assistant.ask(question).to_dict()
    for s in answer["sentences"]:
        assert any(s["text"] in p for p in paragraphs)
    assert [p for p in paragraphs if re.match(r"\[\d+\] ", p)] == \
        [f"[{c['n']}] {reference(c)}" for c in answer["citations"]]
    v.step("exported")


def filter_by_section(v: Visit, section: str) -> None:
    from selenium.webdriver.common.keys import Keys

    if not any(e.is_displayed() for e in v.all("#section-filter input")):
        browser.click(v.driver, "#filters button")
    box = browser.wait(v.driver, lambda d: next((e for e in v.all("#section-filter input") if e.is_displayed()), None))
    box.send_keys(section)
    box.send_keys(Keys.ENTER)
    browser.wait(v.driver, lambda d: f"Section: {section}" in v.text("#chips"))


def test_clearing_and_filter_chips(visit):
    v = visit
    browser.ask(v.driver, NORWAY)
    browser.click(v.driver, "#new")
    browser.wait(v.driver, lambda d: browser.turns(d) == 0)
    browser.ask(v.driver, "What is the Better Care Fund?")
    assert [t.text for t in v.all("#conversation .turn .q")] == ["What is the Better Care Fund?"]
    v.step("cleared-then-asked")

    filter_by_section(v, "Denmark")
    v.step("filter-chip")
    browser.ask(v.driver, "How are municipalities paid?")
    assert "section “Denmark”" in v.all("#conversation .turn .filters")[-1].text
    browser.click(v.driver, "#chips button.x")
    browser.wait(v.driver, lambda d: "Searching all documents" in v.text("#chips"))
    browser.ask(v.driver, "How are municipalities paid?")
    assert v.all("#conversation .turn .filters")[-1].text.startswith("Searched all documents")
    v.step("filter-removed")

    filter_by_section(v, "Norway")
    browser.click(v.driver, "#new")
    browser.wait(v.driver, lambda d: "Searching all documents" in v.text("#chips") and browser.turns(d) == 0)
    v.step("new-conversation-resets-filters")


@pytest.fixture(scope="module")
def growing(tmp_path_factory):
    """An app over a one-document corpus that each rebuild test adds a document to."""
    root = tmp_path_factory.mktemp("growing")
    (root / "corpus").mkdir()
    shutil.copy(BUNDLED_CORPUS / "who-observatory-policy-brief-62.txt", root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_root=root / "index")
    app, url = start_local(Assistant(settings))
    yield settings, url
    app.close()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_rebuild_shows_one_progress_bar_and_keeps_the_table(growing, size, tmp_path):
    settings, url = growing
    v = Visit(url, size, tmp_path)
    try:
        browser.open_app(v.driver, url)
        browser.click(v.driver, "button[role=tab]", 1)
        browser.wait(v.driver, lambda d: v.all("#documents td"))
        v.step("corpus-tab")
        new = settings.corpus_dir / f"nuffield-{size[0]}.txt"
        shutil.copy(BUNDLED_CORPUS / "nuffield-trust-integrated-care-explained.txt", new)
        browser.click(v.driver, "#rebuild")
        seen = []
        while True:
            bars, table = v.driver.execute_script(
                "return [[...document.querySelectorAll('progress')].map(p => p.value),"
                " document.querySelector('#documents').getBoundingClientRect().height]")
            if not bars and seen:
                break
            if bars:
                assert len(bars) == 1 and table > 0, "one progress bar, the table still on screen"
                seen.append(bars[0])
                if len(seen) == 2:
                    v.step("rebuilding")
            time.sleep(0.1)
        assert seen == sorted(seen) and seen[-1] > seen[0], seen
        browser.wait(v.driver, lambda d: "Index rebuilt in" in v.text("#corpus-log"))
        browser.wait(v.driver, lambda d: new.name in v.text("#documents"))
        built = Assistant(settings).status()["built_at"][:16].replace("T", " ")
        assert f"built {built} UTC" in v.text("#summary")
        v.step("rebuilt")
        browser.click(v.driver, "button[role=tab]", 2)
        v.step("status-tab")
    finally:
        v.close()
