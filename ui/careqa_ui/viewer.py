"""The document viewer: a cited passage in its document, or the whole document, with the quoted
sentences highlighted and the one clicked scrolled to; links to the original file and web page.

All document text is escaped; highlights are applied by cutting the text at range boundaries,
so overlapping ranges can never produce broken nesting.
"""
from __future__ import annotations

from urllib.parse import quote

from careqa.export import section_label, web_address

from .render import act, esc

WINDOW_CHARS = 6000  # text shown either side of a passage before "Open full document"
ORIGINAL_ROUTE = "careqa/original/"  # relative to the page, so it works behind a path prefix


def original_href(doc_id: str) -> str:
    """Where the page downloads a document's original file (served by document id only)."""
    return ORIGINAL_ROUTE + quote(doc_id, safe="")


def _window(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """The part of the text shown around a passage: whole paragraphs within WINDOW_CHARS."""
    lo = max(0, span[0] - WINDOW_CHARS)
    hi = min(len(text), span[1] + WINDOW_CHARS)
    if lo > 0:
        cut = text.find("\n\n", lo, span[0])
        lo = cut + 2 if cut >= 0 else lo
    if hi < len(text):
        cut = text.rfind("\n\n", span[1], hi)
        hi = cut if cut >= 0 else hi
    return lo, hi


def marked_text(text: str, span: tuple[int, int], highlights: list[list[int]], current: tuple[int, int] | None,
                headings: list[list], full: bool) -> str:
    """Document text with the passage tinted, quoted sentences in <mark>, headings in bold.

    The mark of `current` (the sentence clicked; else the first one) gets id 'hl', which the
    page script scrolls to."""
    current = current or (tuple(highlights[0]) if highlights else None)
    ranges = [("mark", a, b) for a, b in highlights] + [("heading", int(h[2]), int(h[3])) for h in headings]
    lo, hi = (0, len(text)) if full else _window(text, span)
    bounds = [*span, *(x for _, a, b in ranges for x in (a, b))]
    cuts = sorted({lo, hi} | {x for x in bounds if lo < x < hi})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = esc(text[a:b])
        for kind, s, e in ranges:
            if s <= a and b <= e:
                is_current = kind == "mark" and current is not None and current[0] <= a and b <= current[1]
                piece = (f'<mark{" class=current" if is_current else ""}>{piece}</mark>' if kind == "mark"
                         else f"<strong>{piece}</strong>")
        if span[0] <= a and b <= span[1]:
            piece = f'<span class="passage">{piece}</span>'
        out.append(piece)
    body = "".join(out).replace("<mark class=current>", '<mark class="current" id="hl">', 1)
    before = '<p class="gap">… earlier text: open the full document to read it …</p>' if lo > 0 else ""
    after = '<p class="gap">… later text: open the full document to read it …</p>' if hi < len(text) else ""
    return before + body + after


def header(p: dict, doc: dict | None, label: str, target: str, full: bool) -> str:
    """Title, publisher, date and section of the passage, then what the reader can do next."""
    meta = " · ".join(esc(x) for x in (p["publisher"], p["date"], doc.get("kind", "") if doc else "") if x)
    where = section_label(p["section"], p["title"])
    links = [act("cite", target, "Back to the passage", "link") if full
             else act("full", target, "Open full document", "link")]
    if doc is not None:
        links.append(f'<a class="link" href="{esc(original_href(p["doc_id"]))}" download>Original file</a>')
    url = web_address(p.get("url", ""))
    if url:
        links.append(f'<a class="link" href="{esc(url)}" target="_blank" rel="noopener noreferrer">'
                     "Source web page ↗</a>")
    return (f'<header><div class="kicker">{esc(label)}</div><h3 title="{esc(p["title"])}">{esc(p["title"])}</h3>'
            f'<div class="meta">{meta}</div><div class="meta">{esc(where) or "No section heading"} · '
            f'<code>{esc(p["path"])}</code></div><div class="links">{"".join(links)}</div></header>')


def viewer(p: dict, highlights: list[list[int]], current: tuple[int, int] | None, doc: dict | None,
           label: str, target: str, full: bool = False) -> str:
    """The passage in its document (or the whole document when `full`); the passage alone,
    with a note, when the indexed document no longer holds it."""
    head = header(p, doc, label, target, full)
    if doc is not None and doc["text"][p["start"]:p["end"]] == p["text"]:
        body = marked_text(doc["text"], (p["start"], p["end"]), highlights, current, doc.get("headings", []), full)
        return f'<div class="viewer{" full" if full else ""}">{head}<div class="doc">{body}</div></div>'
    shift = p["start"]
    local = [[a - shift, b - shift] for a, b in highlights]
    mark = (current[0] - shift, current[1] - shift) if current else None
    note = ('<p class="note">This document has changed or left the index since the answer; '
            "showing the passage as it was quoted.</p>")
    body = marked_text(p["text"], (0, len(p["text"])), local, mark, [], True)
    return f'<div class="viewer">{head}{note}<div class="doc">{body}</div></div>'


def placeholder() -> str:
    """Nothing to read yet: the sources panel above says how to open a passage."""
    return '<div class="viewer empty"></div>'

