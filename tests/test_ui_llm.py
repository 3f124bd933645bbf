"""The app with a language model: tests/chat_server.py (a real chat-completions server on
127.0.0.1 with scripted replies) and the real app served with that endpoint over the bundled
index, driven by gradio_client and headless Chromium. The draft streams in as plain text under
its label, the checked answer with clickable [n] replaces it, a reply that fails the check gives
careqa's own answer under the reason, and a browser user can switch the model off but never
choose where requests go."""
from __future__ import annotations

import html
import re

import pytest
from gradio_client import Client

from careqa.assistant import Assistant
from careqa_ui import browser, render
from careqa_ui.app import start_local
import test_ui_browser
from chat_server import ChatServer, Reply, passages_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")
SIZES = [(1280, 720), (390, 844)]
NORWAY = "How does Norway incentivise discharge coordination?"
# The model's words, and the bundled document's own words for the same two facts.
SAYS = ["Municipalities are fined for each day a patient stays in hospital after being ready for discharge.",
        "Hospitals and municipalities must make formal agreements on the care of patients with complex needs."]
SOURCE = ["The municipalities are fined per day for patients who stay in hospitals after they are ready for discharge.",
          "Hospitals and municipalities must establish formal agreements on the care of patients with complex needs."]
WRITTEN = "Written by scripted, checked against the sources."
NOT_USED = ("The model's answer was not used: none of its sentences is supported by a passage it cites. "
            "careqa's own answer is shown.")


def paraphrase(pause: float = 0.0):
    """The script of a model that answers well: the two facts in its own words, citing the passage
    that holds them, streamed 4 characters at a time with `pause` seconds between pieces."""
    def script(request: dict) -> Reply:
        n = next(n for n, text in passages_of(request).items() if "fined per day" in text)
        return Reply(" ".join(s.rstrip(".") + f" [{n}]." for s in SAYS), pause=pause)

    return script


def out_of_range(request: dict) -> Reply:
    """A reply citing [9] when five passages were given."""
    assert len(passages_of(request)) < 9
    return Reply("Municipalities are fined for each day in hospital [9].")


@pytest.fixture(scope="module")
def served(bundled):
    """(scripted server, app URL, the app's Assistant): the app started with the server's endpoint."""
    with ChatServer(paraphrase()) as server:
        assistant = Assistant(bundled.with_(llm_url=server.url, llm_model="scripted", llm_timeout=30.0))
        app, url = start_local(assistant)
        yield server, url, assistant
        app.close()


def shown(markup: str) -> str:
    """What a reader sees of some HTML: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def chat(url: str, question: str, use_llm: bool = True) -> list[tuple]:
    """Every update the chat's handler sent for one question: (box, conversation, sources, passages, viewer)."""
    job = Client(url, verbose=False).submit(question, [], "", 5, use_llm, api_name="/chat")
    job.result(timeout=60)
    return job.outputs()


# --- gradio_client ----------------------------------------------------------------------------

def test_the_draft_arrives_in_pieces_then_the_checked_answer_replaces_it(served):
    server, url, assistant = served
    server.script = paraphrase(pause=0.02)
    updates = chat(url, NORWAY)
    drafts = [shown(u[1]) for u in updates[:-1]]
    assert all(d.startswith(f"{NORWAY} {render.DRAFTING}") for d in drafts)
    texts = [d[len(f"{NORWAY} {render.DRAFTING} "):] for d in drafts[1:]]
    assert len(texts) >= 3 and all(a != b and b.startswith(a) for a, b in zip(texts, texts[1:])), texts
    assert not any("[" in t for t in texts) and "button" not in "".join(u[1] for u in updates[:-1])
    final = updates[-1][1]
    assert 'class="turn drafting"' not in final and "Drafting" not in final
    expected = assistant.ask(NORWAY).to_dict()
    assert expected["llm"]["used"]
    assert final == render.conversation([expected], [], {d.doc_id: d.title for d in assistant.documents()})
    assert shown(final).startswith(f"{NORWAY} {WRITTEN} {SAYS[0]} [1] {SAYS[1]} [1]")
    cards = shown(updates[-1][2])
    assert SOURCE[0] in cards and SOURCE[1] in cards and SAYS[0] not in cards, "cards quote the documents' words"


def test_a_reply_citing_a_passage_not_given_shows_careqas_answer_under_the_reason(served):
    server, url, assistant = served
    server.script = out_of_range
    final = shown(chat(url, NORWAY)[-1][1])
    own = assistant.ask(NORWAY, use_llm=False).to_dict()
    first = own["sentences"][0]["text"]
    assert final.index(NOT_USED) < final.index(first) and "Written by" not in final
    assert all(s["text"] in final for s in own["sentences"]) and "fined for each day in hospital" not in final


def test_switched_off_the_model_is_not_asked(served):
    server, url, assistant = served
    server.script = paraphrase()
    asked = len(server.requests)
    updates = chat(url, NORWAY, use_llm=False)
    assert len(updates) == 1 and len(server.requests) == asked, "no draft, no request to the model"
    assert "Written by" not in updates[0][1] and "was not used" not in updates[0][1]


def test_ask_endpoint_is_unchanged_for_scripts(served):
    import json

    server, url, assistant = served
    server.script = paraphrase()
    answer = json.loads(Client(url, verbose=False).predict(NORWAY, api_name="/ask"))
    assert answer["llm"]["used"] and answer["answer"] == assistant.ask(NORWAY).text


def test_an_error_after_the_question_left_the_box_puts_it_back(served, tmp_path):
    """The library refuses (here: no index at all) after the page has shown the draft's place:
    the question returns to the box, the draft leaves, and the error is one line."""
    import gradio as gr

    from careqa_ui.asking import AskEvents

    settings = served[2].settings.with_(index_root=tmp_path / "no-index")
    updates, handler = [], AskEvents(Assistant(settings)).ask(NORWAY, [], [], "", 5, True)
    with pytest.raises(gr.Error, match="index"):
        for update in handler:
            updates.append(update)
    assert [u[0] for u in updates] == ["", NORWAY]
    assert render.DRAFTING in updates[0][1] and '<section class="turn' not in updates[1][1]
    assert "conv empty" in updates[1][1], "the welcome with its examples is back"


def component(url: str, elem_id: str) -> dict:
    return next(c["props"] for c in Client(url, verbose=False).config["components"]
                if c.get("props", {}).get("elem_id") == elem_id)


def test_without_a_model_the_switch_is_hidden_and_no_address_can_be_typed(served, bundled_app):
    assert component(bundled_app, "use-llm")["visible"] is False
    _, url, _ = served
    switch = component(url, "use-llm")
    assert switch["visible"] is not False and switch["value"] is True
    fields = [c["props"] for c in Client(url, verbose=False).config["components"] if c["type"] == "textbox"]
    assert not any(re.search(r"url|address|server|endpoint", str(f.get("label", "")), re.I) for f in fields
                   if f.get("elem_id") != "question" and "Web address" not in str(f.get("label", "")))


# --- headless Chromium -------------------------------------------------------------------------

class Visit(test_ui_browser.Visit):
    """The workspace's browser visit (a screenshot and a width check a step), on an open page."""

    def __init__(self, url: str, size: tuple[int, int], folder):
        super().__init__(url, size, folder)
        browser.open_app(self.driver, url)

    def text(self, css: str) -> str:
        found = self.all(css)
        return found[0].text if found else ""

    def send(self, question: str) -> None:
        """Type a question and press Ask, without waiting for the answer."""
        box = self.find("#question textarea")
        box.clear()
        box.send_keys(question)
        browser.click(self.driver, "#ask")


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def visit(request, served, tmp_path):
    v = Visit(served[1], request.param, tmp_path)
    yield v
    v.close()


@test_ui_browser.needs_chromium
def test_the_page_shows_the_draft_while_it_streams_then_the_checked_answer(visit, served):
    v, (server, _, _) = visit, served
    server.script = paraphrase(pause=0.08)  # about 4 s of drafting
    v.send(NORWAY)
    label = browser.wait(v.driver, lambda d: v.all("#conversation .turn.drafting p.by"))[0]
    assert label.text == render.DRAFTING and browser.in_view(v.driver, label)
    assert v.all("#question textarea")[0].get_attribute("value") == "", "the question left the box at once"
    seen = [browser.wait(v.driver, lambda d: v.text("#conversation .turn.drafting p.draft").strip("…"))]
    v.step("drafting")
    seen.append(browser.wait(v.driver, lambda d: (t := v.text("#conversation .turn.drafting p.draft")) != seen[0]
                             and t))
    assert seen[1].startswith(seen[0]) and "[" not in seen[1] and not v.all("#conversation .drafting button")
    v.step("draft-grew")
    browser.answered(v.driver, 0)
    assert v.text("#conversation .turn .a p.by") == WRITTEN
    assert v.text("#conversation .turn .a p:not(.by)") == f"{SAYS[0]} [1] {SAYS[1]} [1]"
    v.step("checked-answer")
    clicked = browser.open_citation(v.driver, 1)
    assert clicked.text == SOURCE[1], "the [n] opens the document's own words for the model's sentence"
    assert browser.in_view(v.driver, clicked, v.all("#viewer .doc")[0])
    v.step("source-opened")


@test_ui_browser.needs_chromium
def test_the_fallback_reason_shows_above_careqas_own_answer(visit, served):
    v, (server, _, assistant) = visit, served
    server.script = out_of_range
    v.send(NORWAY)
    browser.answered(v.driver, 0)
    own = assistant.ask(NORWAY, use_llm=False).to_dict()
    parts = v.all("#conversation .turn .a > *")
    assert parts[0].text == NOT_USED and own["sentences"][0]["text"] in parts[1].text
    assert v.all("#conversation button.cite")
    v.step("fallback")


@test_ui_browser.needs_chromium
def test_settings_show_the_model_read_only_and_switch_it_off_and_on(served, tmp_path):
    server, url, _ = served
    server.script = paraphrase()
    v = Visit(url, (390, 844), tmp_path)
    try:
        browser.click(v.driver, "#filters button")
        info = browser.wait(v.driver, lambda d: [e for e in v.all("#model-info") if e.is_displayed()])[0]
        assert "scripted" in info.text and server.url in info.text
        assert "every sentence is checked against a source you can open" in v.text("#brand")
        v.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", info)
        values = [e.get_attribute("value") or "" for e in v.all("input, textarea")]
        assert not any("127.0.0.1" in x for x in values), "the address is shown, never in a field"
        v.step("settings")
        browser.click(v.driver, "#use-llm input")
        browser.wait(v.driver, lambda d: "Model off: quoted answers only" in v.text("#chips"))
        asked = len(server.requests)
        v.send(NORWAY)
        browser.answered(v.driver, 0)
        assert "Written by" not in v.text("#conversation") and len(server.requests) == asked
        v.step("model-off")
        browser.click(v.driver, "#chips button.x")
        browser.wait(v.driver, lambda d: "Searching all documents" in v.text("#chips"))
        assert v.all("#use-llm input")[0].is_selected()
        v.send(NORWAY)
        browser.answered(v.driver, 1)
        assert v.all("#conversation .turn")[-1].find_element("css selector", "p.by").text == WRITTEN
        v.step("model-on")
    finally:
        v.close()
