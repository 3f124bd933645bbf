"""The Corpus tab and the filters in headless Chromium, at a laptop's 1280x720 and a phone's
390x844, with the corpus changed behind the page's back: a document added and indexed by
another client is offered by the open page's filter and remove list, with who added it; a
rebuild shows its estimate before embedding and can be cancelled, the previous index serving."""
from __future__ import annotations

import re
import shutil
import time

import pytest
from gradio_client import Client, handle_file

from careqa.assistant import Assistant
from careqa.config import Settings
from careqa_ui import browser
from careqa_ui.app import start_local
from conftest import BUNDLED_CORPUS
from test_ui_browser import SIZES, Visit, needs_chromium

pytestmark = [needs_chromium, pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")]

EASTLAND = "Eastland pays each council a bonus of 900 pounds for every week of home care it arranges.\n"
LARGER = ("commonwealth-fund-care-coordination.txt", "nuffield-trust-integrated-care-explained.txt",
          "spice-integration-health-social-care-2012.txt")


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def visit(request, tmp_path, bundled):
    """A page open on an app over a one-document corpus (the real model, so embedding takes time)."""
    (tmp_path / "corpus").mkdir()
    shutil.copy(BUNDLED_CORPUS / "who-observatory-policy-brief-62.txt", tmp_path / "corpus")
    settings = Settings(corpus_dir=tmp_path / "corpus", index_root=tmp_path / "index")
    app, url = start_local(Assistant(settings))
    v = Visit(url, request.param, tmp_path)
    browser.open_app(v.driver, url)
    yield v, settings, url
    v.close()
    app.close()


def options(v: Visit) -> list[str]:
    """The choices a dropdown shows once clicked."""
    return [e.text.strip("✓ \n") for e in v.all("li.item")]


def test_the_open_page_offers_documents_added_since_and_a_rebuild_can_be_cancelled(visit, tmp_path):
    v, settings, url = visit
    new = tmp_path / "eastland.txt"
    new.write_text(EASTLAND, encoding="utf-8")
    other = Client(url, verbose=False, ssl_verify=False)  # another user, after the page was opened
    other.predict([handle_file(str(new))], "Eastland home care bonus", "Eastland Office", "", "", False,
                  api_name="/add_files")
    other.predict(api_name="/rebuild")

    browser.click(v.driver, "#filters button")
    browser.click(v.driver, "#doc-filter input")
    browser.wait(v.driver, lambda d: "Eastland home care bonus" in options(v))
    v.step("filter-offers-new-document")
    next(e for e in v.all("li.item") if "Eastland" in e.text).click()
    browser.ask(v.driver, "What bonus does Eastland pay councils?")
    assert "900 pounds" in v.text("#conversation .turn:last-child")
    v.step("answered-from-new-document")

    browser.click(v.driver, "button[role=tab]", 1)
    browser.wait(v.driver, lambda d: "eastland.txt" in v.text("#documents"))
    assert re.search(r"eastland\.txt.*127\.0\.0\.1, \d{4}-\d\d-\d\d \d\d:\d\d UTC", v.text("#documents"), re.S), \
        "the table says who added the upload and when (only it: the bundled document came with the corpus)"
    v.step("corpus-table-says-who-added-it")
    browser.click(v.driver, "#remove-choice input")
    browser.wait(v.driver, lambda d: "eastland.txt" in options(v))
    browser.click(v.driver, "#remove-choice input")

    live = Assistant(settings).store.current()
    for name in LARGER:
        shutil.copy(BUNDLED_CORPUS / name, settings.corpus_dir)
    browser.click(v.driver, "#rebuild")
    browser.wait(v.driver, lambda d: "sentences to embed: about" in v.text("#progress"), timeout=60)
    v.step("estimate-before-embedding")
    browser.click(v.driver, "#cancel")
    browser.wait(v.driver, lambda d: "Rebuild cancelled" in v.text("#corpus-log"), timeout=60)
    v.step("cancelled")
    assert Assistant(settings).store.current() == live
    assert not any(name in v.text("#documents") for name in LARGER)
    assert "the previous index is still in use" in v.text("#corpus-log")
    assert not v.all("#cancel") or not v.find("#cancel").is_displayed()
    time.sleep(0.5)
    assert not list(settings.index_dir.glob("tmp-*")), "nothing half-written left behind"
