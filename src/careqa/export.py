"""An answer as a briefing-note excerpt, in Markdown or .docx, with numbered references.

Both forms hold the same parts: the question (and the question as answered when a follow-up
was rewritten), the answer's blocks with their [n] markers, and one reference per citation
giving title, section, publisher, date and URL. Both read `Answer.to_dict()`, the JSON that
`careqa ask --json` prints, so the CLI and the app export the same thing.
"""
from __future__ import annotations

import io
import re

from .records import section_parts

ABSTAINED = "The documents do not cover this question."
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_MD_LINE_START = re.compile(r"^([#>+-]|\d+[.)])")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_WEB = re.compile(r"https?://\S+")


def md_escape(text: str) -> str:
    """Text that Markdown shows as written: its special characters backslash-escaped."""
    text = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    return _MD_LINE_START.sub(r"\\\1", text)


def web_address(url: str) -> str:
    """The URL when it is a plain http(s) address, else '' (never a script or file link)."""
    url = (url or "").strip()
    return url if _WEB.fullmatch(url) else ""


def section_label(section: str, title: str) -> str:
    """'Eastland' for 'What each country does? > Eastland': the section path below a top heading
    that the title already says, joined with ' › '."""
    parts = section_parts(section)
    if len(parts) > 1 and parts[0] in title:
        parts = parts[1:]
    return " › ".join(parts)


def reference(c: dict) -> str:
    """One reference line: 'Title — Section. Publisher, date. URL' (absent parts left out)."""
    where = section_label(c.get("section", ""), c["title"])
    head = f"{c['title']} — {where}" if where and where != c["title"] else c["title"]
    source = ", ".join(x for x in (c.get("publisher", ""), c.get("date", "")) if x)
    ended = [x if x.endswith((".", "?", "!")) else f"{x}." for x in (head, source) if x]
    return " ".join(ended + [web_address(c.get("url", ""))]).strip()


def sentence_parts(block: dict) -> list[tuple[str, str, str]]:
    """(lead, text, markers) for each sentence of a block: markers "[1]", or "[1][3]" when a
    model's sentence is supported by more than one passage; a lead the block's heading already
    says is dropped."""
    return [("" if s.get("lead", "") == block.get("heading", "") else s.get("lead", ""), s["text"],
             "".join(f"[{n}]" for n in (s["n"], *s.get("also", ()))))
            for s in block["sentences"]]


def written_by(answer: dict) -> str:
    """'Written by <model>, checked against the sources.' for a model's answer, else ''."""
    llm = answer.get("llm") or {}
    return f"Written by {llm.get('model', 'a language model')}, checked against the sources." if llm.get("used") else ""


def to_markdown(answer: dict) -> str:
    """The answer as Markdown: question, blocks with [n], then the references."""
    out = [f"**{md_escape(answer['question'])}**"]
    if answer.get("rewritten"):
        out.append(f"*Answered as: {md_escape(answer['rewritten'])}*")
    if answer["abstained"]:
        out.append(" ".join(md_escape(x) for x in (ABSTAINED, answer.get("reason", "")) if x))
        return "\n\n".join(out) + "\n"
    for block in answer["blocks"]:
        if block.get("heading"):
            out.append(f"### {md_escape(block['heading'])}")
        lines = [(f"**{md_escape(lead)}:** " if lead else "") + f"{md_escape(text)} {markers}"
                 for lead, text, markers in sentence_parts(block)]
        if lines:
            out.append("\n".join(f"- {line}" for line in lines) if block.get("style") == "list" else " ".join(lines))
        if block.get("note"):
            out.append(f"*{md_escape(block['note'])}*")
    if written_by(answer):
        out.append(f"*{written_by(answer)}*")
    if answer["citations"]:
        out.append("**References**")
        out += [f"[{c['n']}] {md_escape(reference(c))}" for c in answer["citations"]]
    return "\n\n".join(out) + "\n"


def _xml(text: str) -> str:
    """Text Word accepts: characters XML forbids are dropped."""
    return _NOT_XML.sub("", " ".join(str(text).split()))


def to_docx(answer: dict) -> bytes:
    """The answer as a Word document (python-docx): the same parts as the Markdown."""
    from docx import Document

    doc = Document()
    doc.add_heading(_xml(answer["question"]), level=2)
    if answer.get("rewritten"):
        doc.add_paragraph().add_run(_xml(f"Answered as: {answer['rewritten']}")).italic = True
    if answer["abstained"]:
        doc.add_paragraph(_xml(" ".join(x for x in (ABSTAINED, answer.get("reason", "")) if x)))
    else:
        for block in answer["blocks"]:
            _docx_block(doc, block)
        if written_by(answer):
            doc.add_paragraph().add_run(_xml(written_by(answer))).italic = True
        if answer["citations"]:
            doc.add_heading("References", level=3)
            for c in answer["citations"]:
                doc.add_paragraph(_xml(f"[{c['n']}] {reference(c)}"))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _docx_block(doc, block: dict) -> None:
    """One block: its heading, its sentences as a paragraph or as bullets, then its note."""
    if block.get("heading"):
        doc.add_heading(_xml(block["heading"]), level=3)
    paragraph = None
    for lead, text, markers in sentence_parts(block):
        if block.get("style") == "list" or paragraph is None:
            paragraph = doc.add_paragraph(style="List Bullet" if block.get("style") == "list" else None)
        else:
            paragraph.add_run(" ")
        if lead:
            paragraph.add_run(_xml(f"{lead}: ")).bold = True
        paragraph.add_run(_xml(f"{text} {markers}"))
    if block.get("note"):
        doc.add_paragraph().add_run(_xml(block["note"])).italic = True
