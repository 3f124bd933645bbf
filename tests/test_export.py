"""Export of an answer for a briefing note: Markdown (what a renderer shows) and .docx (what Word
opens), from answers of each shape, and `careqa ask --format md` on a real answer."""
from __future__ import annotations

import html
import io
import re

import pytest
import shapes
from docx import Document
from markdown_it import MarkdownIt

from careqa.cli import main
from careqa.export import reference, to_docx, to_markdown

NORWAY = "How does Norway incentivise discharge coordination?"


def shown(markdown: str) -> str:
    """The text a Markdown renderer shows: rendered, tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", MarkdownIt("commonmark").render(markdown)))


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def test_markdown_list_shows_each_item_verbatim_with_its_marker():
    md = to_markdown(shapes.list_answer())
    page = rendered(md)
    assert page.count("<li>") == 2 and "<b>" not in page and "<a " not in page
    text = shown(md)
    assert f"{shapes.SPLIT} [1]" in text and f"{shapes.STAFF} [1]" in text
    assert text.startswith("What are the barriers?")


def test_markdown_references_give_title_section_publisher_date_and_url():
    text = shown(to_markdown(shapes.list_answer()))
    assert ("[1] Zorbland care review — Barriers. Zorbland Institute, 2031. "
            "https://example.org/zorbland?page=2&part=barriers") in text
    assert text.count("[1] Zorbland care review") == 1


def test_markdown_comparison_has_a_heading_per_entity_and_the_missing_side_said():
    md = to_markdown(shapes.comparison_answer())
    page = rendered(md)
    assert "<h3>Eastland</h3>" in page and "<h3>Westland</h3>" in page
    text = shown(md)
    assert "The documents say nothing about Westland." in text
    assert "Eastland: Eastland pays" not in text, "the heading already names the entity"


def test_markdown_follow_up_shows_the_question_as_answered():
    text = shown(to_markdown(shapes.follow_up_answer()))
    assert "How is it paid?" in text and "Answered as: How is Eastland home care paid?" in text


def test_abstention_exports_its_plain_reason_and_no_internal_figures():
    md = to_markdown(shapes.abstained_answer())
    assert "The documents say nothing about Mars." in shown(md)
    assert "0.42" not in md and "References" not in md


def test_reference_never_carries_a_non_web_link():
    bad = {**shapes.BARRIERS, "url": "javascript:alert(1)"}
    assert "javascript" not in reference(bad) and reference(bad).endswith("Zorbland Institute, 2031.")


@pytest.mark.parametrize("make", [shapes.list_answer, shapes.comparison_answer, shapes.follow_up_answer])
def test_docx_opens_and_holds_the_sentences_and_one_reference_per_citation(make):
    answer = make()
    doc = Document(io.BytesIO(to_docx(answer)))
    paragraphs = [p.text for p in doc.paragraphs]
    body = "\n".join(paragraphs)
    for s in answer["sentences"]:
        assert f"{s['text']} [{s['n']}]" in body
    references = [p for p in paragraphs if re.match(r"\[\d+\] ", p)]
    assert references == [f"[{c['n']}] {reference(c)}" for c in answer["citations"]]
    assert paragraphs[0] == answer["question"]


def test_docx_list_items_are_bullets_and_comparison_parts_are_headings():
    items = [p for p in Document(io.BytesIO(to_docx(shapes.list_answer()))).paragraphs
             if p.style.name == "List Bullet"]
    assert [p.text for p in items] == [f"{shapes.SPLIT} [1]", f"{shapes.STAFF} [1]"]
    doc = Document(io.BytesIO(to_docx(shapes.comparison_answer())))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[1:] == ["Eastland", "Westland", "References"]


def test_cli_format_md_prints_the_markdown_export(bundled, assistant, capsys):
    code = main(["ask", "--corpus", str(bundled.corpus_dir), "--index-dir", str(bundled.index_root),
                 "--format", "md", NORWAY])
    assert code == 0
    out = capsys.readouterr().out
    assert out == to_markdown(assistant.ask(NORWAY).to_dict())
    assert "**References**" in out and "The Commonwealth Fund, 2017." in out


def test_a_model_answer_exports_every_marker_and_says_who_wrote_it():
    from careqa.export import to_docx, to_markdown

    answer = dict(shapes.list_answer(), llm={"used": True, "model": "llama3.2"})
    answer["blocks"] = [dict(b, sentences=[dict(s, also=[2]) for s in b["sentences"]]) for b in answer["blocks"]]
    md = to_markdown(answer)
    for s in answer["blocks"][0]["sentences"]:
        assert f"[{s['n']}][2]" in md
    assert "Written by llama3.2, checked against the sources." in md
    text = "\n".join(p.text for p in Document(io.BytesIO(to_docx(answer))).paragraphs)
    assert "Written by llama3.2" in text and "][2]" in text
