"""HTML and Markdown for the app: answers, source cards, the document viewer, tables.

Pure functions over the library's plain dicts, so the app module only wires events. Every piece
of document text is escaped here: the corpus is data, never markup.
"""
from __future__ import annotations

import html
import re

CITE_PREFIX = "#cite-"
VIEW_RADIUS = 15000
_MD_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+\-!|~>]")


def esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def md_text(text: str) -> str:
    """Text safe inside Markdown: HTML-escaped, Markdown characters as entities, one line."""
    text = html.escape(" ".join(str(text).split()), quote=False)
    return _MD_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", text)


def ref(turn: int, kind: str, n: int) -> str:
    """A link target the page script turns into a 'show this source' event: #cite-3-c-1."""
    return f"{CITE_PREFIX}{turn}-{kind}-{n}"


def parse_ref(value: str) -> tuple[int, str, int] | None:
    m = re.fullmatch(r"(\d+)-([cp])-(\d+)", value or "")
    return (int(m[1]), m[2], int(m[3])) if m else None


def where(p: dict) -> str:
    """'Norway' from 'What is being done ... > Norway': the innermost heading, if any."""
    return p["section"].rsplit(" > ", 1)[-1].strip() if p.get("section") else ""


def filters_line(filters: dict, titles: dict[str, str]) -> str:
    parts = []
    docs = filters.get("docs") or []
    parts.append("only " + "; ".join(md_text(titles.get(d, d)) for d in docs) if docs else "all documents")
    if filters.get("section"):
        parts.append(f"section contains “{md_text(filters['section'])}”")
    parts.append(f"k = {filters.get('k', '')}")
    return '<span class="filters">Searched ' + " · ".join(parts) + "</span>"


def answer_message(answer: dict, turn: int, titles: dict[str, str]) -> str:
    """The chat message for an answer: sentences with clickable [n] markers, then the filters."""
    if answer["abstained"]:
        why = f" ({md_text(answer['reason'])})" if answer.get("reason") else ""
        body = (f'<span class="abstained">The documents do not cover this.</span>{why}\n\n'
                "The closest passages are listed under Sources; open one to check.")
    else:
        by_n = {c["n"]: c for c in answer["citations"]}
        parts = []
        for s in answer["sentences"]:
            c = by_n[s["n"]]
            lead = f"**{md_text(s['lead'])}:** " if s.get("lead") else ""
            tip = esc(f"{c['title']} — {where(c)}" if where(c) else c["title"])
            parts.append(f'{lead}{md_text(s["text"])} <a class="cite" href="{ref(turn, "c", s["n"])}" '
                         f'title="{tip}">[{s["n"]}]</a>')
        body = " ".join(parts)
    return f"{body}\n\n{filters_line(answer['filters'], titles)}"


def _card(p: dict, href: str, label: str, quote: str, selected: bool) -> str:
    meta = " · ".join(esc(x) for x in (where(p), p["publisher"], p["date"]) if x)
    return (f'<a class="card{" selected" if selected else ""}" href="{href}">'
            f'<span class="n">{esc(label)}</span><span class="body">'
            f'<span class="title">{esc(p["title"])}</span>'
            f'<span class="meta">{meta}</span>'
            f'<span class="quote">{esc(quote)}</span></span>'
            f'<span class="score" title="fused retrieval score (1 = best of this question)">score {p["score"]:.2f}</span></a>')


def snippet(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def sources_panel(answer: dict | None, turn: int, selected: str = "") -> str:
    """Cards for the cited passages, or for the closest passages when the answer abstained."""
    if answer is None:
        return ('<div class="sources empty"><p>Sources appear here with each answer.</p>'
                "<p>Every sentence of an answer is quoted from a passage; click a "
                '<span class="cite">[n]</span> marker or a source to read it in its document.</p></div>')
    if answer["abstained"] or not answer["citations"]:
        cards = [_card(p, ref(turn, "p", p["rank"]), str(p["rank"]), snippet(p["text"]),
                       selected == ref(turn, "p", p["rank"])) for p in answer["passages"]]
        head = "Closest passages"
        note = '<p class="note">None of these answers the question; they are what came nearest.</p>'
    else:
        by_n: dict[int, list[str]] = {}
        for s in answer["sentences"]:
            by_n.setdefault(s["n"], []).append(s["text"])
        cards = [_card(c, ref(turn, "c", c["n"]), str(c["n"]), snippet(" ".join(by_n.get(c["n"], []))),
                       selected == ref(turn, "c", c["n"])) for c in answer["citations"]]
        head, note = "Sources", ""
    if not cards:
        note = '<p class="note">No passage matched the filters.</p>'
    return f'<div class="sources"><h4>{head}</h4>{note}{"".join(cards)}</div>'


def passages_table(answer: dict | None, turn: int) -> str:
    """All top-k passages with dense, lexical and fused scores, each opening in the viewer."""
    if answer is None or not answer["passages"]:
        return '<p class="note">The retrieved passages and their scores appear here after a question.</p>'
    cited = {c["chunk_id"]: c["n"] for c in answer["citations"]}
    rows = []
    for p in answer["passages"]:
        n = cited.get(p["chunk_id"])
        rows.append(f'<tr><td>{p["rank"]}</td><td><a href="{ref(turn, "p", p["rank"])}">{esc(snippet(p["title"], 70))}'
                    f'</a><div class="meta">{esc(where(p))}</div></td><td>{p["dense"]:.3f}</td>'
                    f'<td>{p["lexical"]:.2f}</td><td>{p["score"]:.3f}</td><td>{f"[{n}]" if n else ""}</td></tr>')
    return ('<table class="scores"><thead><tr><th>#</th><th>Passage</th><th title="cosine similarity">dense</th>'
            '<th title="BM25">lexical</th><th title="weighted fusion">fused</th><th>cited</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def pick(answer: dict, kind: str, n: int) -> tuple[dict, list[list[int]]] | None:
    """The cited passage n (with its highlighted sentences) or the retrieved passage of rank n."""
    if kind == "c":
        for c in answer["citations"]:
            if c["n"] == n:
                return c, c["highlights"]
    for p in answer["passages"]:
        if p["rank"] == n:
            cited = next((c for c in answer["citations"] if c["chunk_id"] == p["chunk_id"]), None)
            return p, cited["highlights"] if cited else []
    return None


def marked_text(text: str, passage: tuple[int, int], highlights: list[list[int]],
                headings: list[list]) -> str:
    """Document text with the passage tinted, cited sentences in <mark>, headings in bold.

    The text is cut at every range boundary and each piece wrapped in the tags of the ranges
    covering it, so overlapping ranges can never produce broken nesting. The first mark gets
    id 'hl' for scrolling.
    """
    ranges = [("passage", *passage)] + [("mark", a, b) for a, b in highlights] + \
             [("heading", int(h[2]), int(h[3])) for h in headings]
    lo = max(0, passage[0] - VIEW_RADIUS)
    hi = min(len(text), passage[1] + VIEW_RADIUS)
    if lo > 0:
        lo = text.find("\n\n", lo) + 2 if text.find("\n\n", lo, passage[0]) >= 0 else lo
    if hi < len(text):
        cut = text.rfind("\n\n", passage[1], hi)
        hi = cut if cut >= 0 else hi
    cuts = sorted({lo, hi} | {x for _, a, b in ranges for x in (a, b) if lo < x < hi})
    out, first_mark = [], True
    for a, b in zip(cuts, cuts[1:]):
        piece = esc(text[a:b])
        for kind, s, e in ranges:
            if s <= a and b <= e:
                if kind == "mark":
                    piece = f'<mark{" id=hl" if first_mark else ""}>{piece}</mark>'
                    first_mark = False
                elif kind == "heading":
                    piece = f"<strong>{piece}</strong>"
        if passage[0] <= a and b <= passage[1]:
            piece = f'<span class="passage">{piece}</span>'
        out.append(piece)
    before = '<p class="gap">… earlier text not shown …</p>' if lo > 0 else ""
    after = '<p class="gap">… later text not shown …</p>' if hi < len(text) else ""
    return before + "".join(out) + after


def viewer(p: dict, highlights: list[list[int]], doc: dict | None, label: str) -> str:
    """The passage in its document, metadata on top; falls back to the passage alone."""
    meta = " · ".join(esc(x) for x in (p["publisher"], p["date"], doc.get("kind") if doc else "") if x)
    trail = p["section"].rsplit(" > ", 1)[0] if " > " in p["section"] else ""
    section = (f'<b>{esc(where(p))}</b>{" in " + esc(trail.replace(" > ", " › ")) if trail else ""}'
               if p["section"] else "no section heading")
    head = (f'<header><div class="kicker">{esc(label)}</div><h3 title="{esc(p["title"])}">{esc(p["title"])}</h3>'
            f'<div class="meta">{meta}</div><div class="meta" title="{esc(p["section"])} ({esc(p["path"])})">'
            f'{section} · <code>{esc(p["path"])}</code></div></header>')
    if doc is not None and doc["text"][p["start"]:p["end"]] == p["text"]:
        body = marked_text(doc["text"], (p["start"], p["end"]), highlights, doc.get("headings", []))
        return f'<div class="viewer">{head}<div class="doc">{body}</div></div>'
    local = [[a - p["start"], b - p["start"]] for a, b in highlights]
    note = ('<p class="note">This document has changed or left the index since the answer; '
            "showing the passage as it was quoted.</p>")
    body = marked_text(p["text"], (0, len(p["text"])), local, [])
    return f'<div class="viewer">{head}{note}<div class="doc">{body}</div></div>'


def viewer_placeholder(message: str = "") -> str:
    message = message or ("Click a <span class=\"cite\">[n]</span> marker in an answer, or a source, "
                          "to read the passage in its document with the quoted sentences highlighted.")
    return f'<div class="viewer empty"><p>{message}</p></div>'


def status_markdown(status: dict | None, error: str = "") -> str:
    if status is None:
        return f"**No index yet.** {esc(error)} Open the Corpus tab and rebuild."
    chunker = status["chunker"]
    rows = [("Index", f"`{status['index']}`"), ("Version", f"`{status['version']}`"),
            ("Built", status["built_at"]), ("Embedding model", f"{status['embedding_model']} ({status['dimension']} dimensions)"),
            ("Documents", status["documents"]), ("Passages (chunks)", status["chunks"]),
            ("Chunking", f"{chunker['target_tokens']} tokens, {chunker['overlap_tokens']} overlap ({chunker['encoding']})")]
    rows += [("Skipped", f"`{esc(s['path'])}`: {esc(s['reason'])}") for s in status.get("skipped", [])]
    return "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def corpus_summary(docs: list[dict], pending: list[str], gone: list[str]) -> str:
    chunks = sum(d["chunks"] for d in docs)
    when = docs[0]["indexed_at"] if docs else "never"
    lines = [f"**{len(docs)} documents, {chunks} passages** in the index (built {when})."]
    if pending:
        lines.append(f"Not in the index yet: {', '.join(f'`{esc(p)}`' for p in pending)}. Rebuild to include them.")
    if gone:
        lines.append(f"Removed from the folder but still indexed: {', '.join(f'`{esc(p)}`' for p in gone)}. "
                     "Rebuild to drop them.")
    return "\n\n".join(lines)
