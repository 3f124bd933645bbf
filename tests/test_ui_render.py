"""What the Ask tab shows for answers of each shape, built by hand so every check is exact:
lists as lists, a heading per compared entity with the missing side said, the rewritten
follow-up, plain abstention reasons, relative scores, and document text shown exactly as written."""
from __future__ import annotations

import html
from html.parser import HTMLParser

import shapes

from careqa_ui import render, viewer
from careqa_ui.asking import pick, sentence_span


class Page(HTMLParser):
    """The visible text of some HTML and the tags it holds (script-free by construction)."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.text, self.tags = [], []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def shown(self) -> str:
        return " ".join(" ".join(self.text).split())


def turn(answer: dict) -> Page:
    return Page(render.turn_html(answer, 0, {shapes.DOC: shapes.TITLE}))


def test_list_answer_is_a_list_of_verbatim_items_each_cited():
    page = turn(shapes.list_answer())
    assert [t for t, _ in page.tags].count("li") == 2
    assert f"{shapes.SPLIT} [1]" in page.shown()
    assert f"{shapes.STAFF} [1]" in page.shown(), "document text must read exactly as written"
    assert not any(t in ("b", "a", "img") for t, _ in page.tags), "document markup must stay inert"
    cites = [a["data-ref"] for t, a in page.tags if a.get("class") == "cite"]
    assert cites == ["0-c-1-0", "0-c-1-1"], "each [n] names the sentence it follows"


def test_comparison_has_a_heading_per_entity_and_says_which_side_is_missing():
    page = turn(shapes.comparison_answer())
    headings = [t for t, a in page.tags if t == "h4"]
    assert len(headings) == 2
    text = page.shown()
    assert text.index("Eastland Eastland pays") < text.index("Westland The documents say nothing about Westland.")
    assert "Eastland: Eastland pays" not in text


def test_follow_up_shows_the_rewritten_question_above_its_answer():
    text = turn(shapes.follow_up_answer()).shown()
    assert text.index("How is it paid?") < text.index("Answered as: “How is Eastland home care paid?”") \
        < text.index("Eastland: Eastland pays")


def test_abstention_shows_the_plain_reason_and_never_the_diagnostics():
    markup = render.turn_html(shapes.abstained_answer(), 0, {})
    assert "No answer in the documents. The documents say nothing about Mars." in Page(markup).shown()
    assert "0.42" not in markup and "Copy as Markdown" not in markup
    sources = Page(render.sources_panel(shapes.abstained_answer(), 0)).shown()
    assert sources.startswith("Closest passages") and "#1" in sources and "#2" in sources


def test_answer_carries_its_markdown_for_copying_exactly():
    answer = shapes.list_answer()
    page = turn(answer)
    assert "Copy as Markdown" in page.shown()
    textarea = render.turn_html(answer, 0, {}).split('<textarea class="md" hidden readonly data-turn="0">')[1]
    from careqa.export import to_markdown

    assert html.unescape(textarea.split("</textarea>")[0]) == to_markdown(answer)


def test_scores_show_rank_and_a_bar_relative_to_the_best_passage():
    table = render.passages_table(shapes.list_answer(), 0)
    assert 'style="width:100%"' in table and 'style="width:50%"' in table
    panel = render.sources_panel(shapes.list_answer(), 0)
    assert "1 = best" not in table + panel and "confidence" in table  # the old rank legend, gone
    assert "score 0.9" not in Page(panel).shown()


def test_chips_show_each_active_filter_with_a_remove_button():
    markup = render.chips([shapes.DOC], "Review > Eastland", 8, 5, {shapes.DOC: shapes.TITLE})
    page = Page(markup)
    assert "Document: Zorbland care review" in page.shown() and "Section: Eastland" in page.shown()
    assert "8 passages" in page.shown()
    assert [a["data-ref"] for t, a in page.tags if a.get("data-act") == "unfilter"] == \
        [f"doc:{shapes.DOC}", "section:", "k:"]
    assert "Searching all documents" in render.chips([], "", 5, 5, {})


def open_full(answer: dict, sentence: int | None):
    passage, highlights = pick(answer, "c", 1)
    chosen = answer["sentences"][sentence] if sentence is not None else None
    current = (chosen["start"], chosen["end"]) if chosen else None
    return viewer.viewer(passage, highlights, current, shapes.document(), "Source 1", "0-c-1", full=True)


def test_full_document_holds_the_whole_text_and_marks_the_sentence_clicked():
    markup = open_full(shapes.list_answer(), 1)
    page = Page(markup)
    assert "The last sentence of the review is here." in page.shown()
    assert page.shown().count("Zorbland care review") >= 2, "title and the document's first line"
    current = markup.split('<mark class="current" id="hl">')[1].split("</mark>")[0]
    assert html.unescape(current) == shapes.STAFF
    assert markup.count('id="hl"') == 1


def test_viewer_links_the_original_file_by_id_and_only_web_urls():
    page = Page(open_full(shapes.list_answer(), None))
    hrefs = {a.get("href") for t, a in page.tags if t == "a"}
    assert f"careqa/original/{shapes.DOC}" in hrefs
    assert shapes.BARRIERS["url"] in hrefs
    link = next(a for t, a in page.tags if a.get("href") == shapes.BARRIERS["url"])
    assert link["target"] == "_blank" and "noopener" in link["rel"]
    bad = {**shapes.list_answer()}
    bad["citations"] = [{**c, "url": "javascript:alert(1)"} for c in bad["citations"]]
    passage, highlights = pick(bad, "c", 1)
    assert "javascript" not in viewer.viewer(passage, highlights, None, shapes.document(), "S", "0-c-1")


def test_passage_window_opens_at_the_first_highlight_when_no_sentence_was_clicked():
    markup = open_full(shapes.list_answer(), None)
    first = markup.split('<mark class="current" id="hl">')[1].split("</mark>")[0]
    assert html.unescape(first) == shapes.SPLIT


# --- answers a language model wrote (checked), its draft, and careqa's own answer in its place ----

MODEL_SAYS = "Councils and hospitals keep separate budgets, and councils earn a bonus for home care."


def model_answer(used: bool = True) -> dict:
    """A model's sentence checked against two passages: shown with [1][2], each span where the
    check found support; or, when not used, careqa's own list answer with the reason."""
    if not used:
        return {**shapes.list_answer(), "llm": {"model": "tiny-model", "used": False, "fallback": (
            "The model's answer was not used: none of its sentences is supported by a passage it cites. "
            "careqa's own answer is shown.")}}
    split, bonus = shapes.span(shapes.SPLIT), shapes.span(shapes.BONUS)
    said = {**shapes.sentence(shapes.SPLIT, 1), "text": MODEL_SAYS, "also": [2]}
    block = {"heading": "", "style": "paragraph", "note": "", "sentences": [said]}
    citations = [{**shapes.citation(1, shapes.BARRIERS, []), "highlights": [list(split)]},
                 {**shapes.citation(2, shapes.EASTLAND, []), "highlights": [list(bonus)]}]
    verdict = {"text": MODEL_SAYS, "cited": [4, 2], "kept": [4, 2], "shown": [1, 2], "verdict": "supported",
               "support": [{"n": 4, "start": split[0], "end": split[1]}, {"n": 2, "start": bonus[0], "end": bonus[1]}]}
    result = shapes.answer("Who pays for what?", [block], [shapes.BARRIERS, shapes.EASTLAND], citations, "finding")
    result["llm"] = {"model": "tiny-model", "used": True, "sentences": [verdict],
                     "note": "careqa removed 1 sentence of the model's answer that the passages do not support."}
    return result


def test_a_models_answer_says_who_wrote_it_and_cites_every_passage_it_was_checked_against():
    page = turn(model_answer())
    text = page.shown()
    assert text.index("Written by tiny-model, checked against the sources.") < text.index(MODEL_SAYS)
    assert "careqa removed 1 sentence" in text and f"{MODEL_SAYS} [1] [2]" in text
    cites = [a["data-ref"] for t, a in page.tags if a.get("class") == "cite"]
    assert cites == ["0-c-1-0", "0-c-2-0"], "both [n] name the sentence they follow"


def test_a_models_sources_quote_the_documents_words_not_the_models():
    cards = Page(render.sources_panel(model_answer(), 0)).shown()
    assert shapes.SPLIT in cards and shapes.BONUS in cards and MODEL_SAYS not in cards


def test_each_citation_of_a_models_sentence_opens_at_the_span_that_supports_it():
    answer = model_answer()
    assert sentence_span(answer, 0, 1) == shapes.span(shapes.SPLIT)
    assert sentence_span(answer, 0, 2) == shapes.span(shapes.BONUS)
    passage, highlights = pick(answer, "c", 2)
    markup = viewer.viewer(passage, highlights, sentence_span(answer, 0, 2), shapes.document(), "Source 2", "0-c-2-0")
    assert html.unescape(markup.split('id="hl">')[1].split("</mark>")[0]) == shapes.BONUS


def test_when_the_models_answer_is_set_aside_the_reason_comes_above_careqas_own():
    text = turn(model_answer(used=False)).shown()
    assert text.index("The model's answer was not used: none of its sentences is supported") < \
        text.index(f"{shapes.SPLIT} [1]")
    assert "Written by" not in text


def test_a_draft_is_plain_text_under_its_label_and_never_live_markup():
    draft = 'Councils <img src=x onerror="alert(1)"> keep <a href="javascript:x">separate</a> budgets'
    page = Page(render.conversation([], [], {}, ("Who pays?", draft)))
    assert page.shown() == f"Who pays? {render.DRAFTING} {' '.join(draft.split())}"
    assert not any(t in ("img", "a", "button") for t, _ in page.tags)


def test_switching_the_model_off_shows_as_a_chip_that_switches_it_back_on():
    page = Page(render.chips([], "", 5, 5, {}, model_off=True))
    assert "Model off: quoted answers only" in page.shown()
    assert [a["data-ref"] for t, a in page.tags if a.get("data-act") == "unfilter"] == ["model:"]
