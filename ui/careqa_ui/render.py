"""HTML for the Ask tab: the conversation, answers of every shape, source cards, scores, chips.

Pure functions over the library's plain dicts (`Answer.to_dict()`), so the event modules only
wire. Every piece of document or user text goes through `esc`: the corpus is data, never
markup. Clickable parts carry `data-act` and `data-ref`; one page script (style.BRIDGE_JS)
turns a click on them into an event of the conversation component.
"""
from __future__ import annotations

import html
import re

from careqa.export import section_label, to_markdown
from careqa.records import innermost

SNIPPET_CHARS = 220  # about two lines of a source card
DRAFTING = "Drafting; citations are checked when it finishes"
_REF = re.compile(r"(\d+)-([cp])-(\d+)(?:-(\d+))?")


def esc(text: object) -> str:
    """Text shown exactly as written and never live: every markup character escaped."""
    return html.escape(str(text), quote=True)


def ref(turn: int, kind: str, n: int, sentence: int | None = None) -> str:
    """What a click names: '3-c-1' (citation 1 of answer 3), '3-c-1-4' (its sentence 4),
    '3-p-2' (the passage ranked 2)."""
    return f"{turn}-{kind}-{n}" + ("" if sentence is None else f"-{sentence}")


def parse_ref(value: str) -> tuple[int, str, int, int | None] | None:
    m = _REF.fullmatch(value or "")
    return (int(m[1]), m[2], int(m[3]), None if m[4] is None else int(m[4])) if m else None


def act(action: str, target: str, label: str, cls: str = "", title: str = "") -> str:
    """A button the page script turns into the `action` event with `target` as its ref."""
    tip = f' title="{esc(title)}"' if title else ""
    return (f'<button type="button" class="{cls or action}" data-act="{action}" data-ref="{esc(target)}"{tip}>'
            f"{label}</button>")


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


# --- the conversation ------------------------------------------------------------------------

def conversation(turns: list[dict], examples: list[str], titles: dict[str, str],
                 draft: tuple[str, str] | None = None) -> str:
    """Every turn of the conversation, or a welcome with example questions when it is empty;
    `draft` (question, text so far) is an answer a model is still writing, shown last."""
    if not turns and draft is None:
        items = "".join(act("example", q, esc(q), "example") for q in examples)
        tries = f'<div class="examples"><span>Try</span>{items}</div>' if items else ""
        return ('<div class="conv empty"><p>Ask about the documents listed above, in your own words; '
                "follow-up questions can refer to earlier answers.</p>" + tries + "</div>")
    writing = draft_html(*draft) if draft is not None else ""
    return '<div class="conv">' + "".join(turn_html(a, i, titles) for i, a in enumerate(turns)) + writing + "</div>"


def draft_html(question: str, text: str) -> str:
    """A model's answer as it is written: plain escaped text, no citations until it is checked."""
    shown = esc(text) if text.strip() else '<span class="waiting">…</span>'
    return (f'<section class="turn drafting"><p class="q">{esc(question)}</p><div class="a">'
            f'<p class="by drafting">{DRAFTING}</p><p class="draft">{shown}</p></div></section>')


def turn_html(answer: dict, turn: int, titles: dict[str, str]) -> str:
    """One question and its answer, the filters it was searched with, and its export buttons."""
    rewritten = (f'<p class="rewritten">Answered as: “{esc(answer["rewritten"])}”</p>'
                 if answer.get("rewritten") else "")
    actions = ""
    if not answer["abstained"]:
        actions = ('<div class="actions">' + act("copy", str(turn), "Copy as Markdown")
                   + act("export", f"{turn}-md", "Download .md", "export")
                   + act("export", f"{turn}-docx", "Download .docx", "export") + "</div>"
                   f'<textarea class="md" hidden readonly data-turn="{turn}">{esc(to_markdown(answer))}</textarea>')
    return (f'<section class="turn" data-turn="{turn}"><p class="q">{esc(answer["question"])}</p>{rewritten}'
            f'<div class="a">{answer_body(answer, turn)}</div>{filters_line(answer["filters"], titles)}'
            f"{actions}</section>")


def written_by(llm: dict) -> str:
    """Who wrote the answer: the model, checked (and what the check removed), or why the model's
    answer is not the one shown ('' when no model is configured or it was switched off)."""
    if llm.get("used"):
        note = f' <span class="note">{esc(llm["note"])}</span>' if llm.get("note") else ""
        return f'<p class="by model">Written by {esc(llm["model"])}, checked against the sources.{note}</p>'
    return f'<p class="by fallback">{esc(llm["fallback"])}</p>' if llm.get("fallback") else ""


def answer_body(answer: dict, turn: int) -> str:
    """The answer's blocks: paragraphs, lists, a heading per compared entity, plain notes."""
    by = written_by(answer.get("llm") or {})
    if answer["abstained"]:
        reason = f" {esc(answer['reason'])}" if answer.get("reason") else ""
        return (f'{by}<p class="abstained"><strong>No answer in the documents.</strong>{reason}</p>'
                '<p class="hint">The closest passages are under Sources; open one to check.</p>')
    out, index = [by], 0
    by_n = {c["n"]: c for c in answer["citations"]}
    for block in answer["blocks"]:
        if block.get("heading"):
            out.append(f'<h4 class="entity">{esc(block["heading"])}</h4>')
        pieces = []
        for s in block["sentences"]:
            pieces.append(sentence_html(s, by_n, turn, index, block.get("heading", "")))
            index += 1
        if pieces and block.get("style") == "list":
            out.append('<ul class="items">' + "".join(f"<li>{p}</li>" for p in pieces) + "</ul>")
        elif pieces:
            out.append("<p>" + " ".join(pieces) + "</p>")
        if block.get("note"):
            out.append(f'<p class="note">{esc(block["note"])}</p>')
    return "".join(out)


def sentence_html(s: dict, by_n: dict[int, dict], turn: int, index: int, heading: str) -> str:
    """A sentence with its lead (unless the heading says it) and its [n] buttons: one for a
    quoted sentence, and one more for each further passage a model's sentence is checked against."""
    lead = f"<b>{esc(s['lead'])}:</b> " if s.get("lead") and s["lead"] != heading else ""
    marks = []
    for n in (s["n"], *s.get("also", ())):
        c = by_n[n]
        where = section_label(c["section"], c["title"])
        tip = f"{c['title']} — {where}" if where else c["title"]
        marks.append(act("cite", ref(turn, "c", n, index), f"[{n}]", "cite", tip))
    return lead + esc(s["text"]) + " " + "".join(marks)


def quoted(c: dict) -> str:
    """The document text a citation supports the answer with (its highlights, in document
    order): the quoted sentences of an extractive answer, the passage's own words for a model's."""
    spans = sorted((a - c["start"], b - c["start"]) for a, b in c["highlights"])
    return " ".join(c["text"][max(0, a):b] for a, b in spans)


def filters_line(filters: dict, titles: dict[str, str]) -> str:
    """What the answer searched: the documents, the section and how many passages."""
    docs = filters.get("docs") or []
    parts = ["only " + "; ".join(esc(titles.get(d, d)) for d in docs) if docs else "all documents"]
    if filters.get("section"):
        parts.append(f"section “{esc(innermost(filters['section']) or filters['section'])}”")
    parts.append(f"{filters.get('k', '')} passages")
    return '<p class="filters">Searched ' + " · ".join(parts) + "</p>"


# --- sources and scores ----------------------------------------------------------------------

def _card(p: dict, target: str, badge: str, quote: str, selected: bool) -> str:
    meta = " · ".join(esc(x) for x in (innermost(p["section"]), p["publisher"], p["date"]) if x)
    return (f'<button type="button" class="card{" selected" if selected else ""}" data-act="cite" '
            f'data-ref="{target}"><span class="n">{esc(badge)}</span><span class="body">'
            f'<span class="title">{esc(p["title"])}</span><span class="meta">{meta}</span>'
            f'<span class="quote">{esc(quote)}</span></span></button>')


def sources_panel(answer: dict | None, turn: int, selected: str = "") -> str:
    """Cards for the cited passages, or for the closest passages when the answer abstained."""
    if answer is None:
        return ('<div class="sources empty"><h4>Sources</h4><p>The passages an answer quotes are listed here. '
                'Click one, or a <span class="cite">[n]</span> in the answer, to read it in its document '
                "with the quoted sentences highlighted.</p></div>")
    if answer["abstained"] or not answer["citations"]:
        cards = [_card(p, ref(turn, "p", p["rank"]), f"#{p['rank']}", snippet(p["text"]),
                       selected == ref(turn, "p", p["rank"])) for p in answer["passages"]]
        head = "Closest passages"
        note = '<p class="note">None of these answers the question; they are what came nearest.</p>'
    else:
        cards = [_card(c, ref(turn, "c", c["n"]), str(c["n"]), snippet(quoted(c)),
                       selected.startswith(ref(turn, "c", c["n"]) + "-") or selected == ref(turn, "c", c["n"]))
                 for c in answer["citations"]]
        head, note = "Sources", ""
    if not cards:
        note = '<p class="note">No passage matched the filters.</p>'
    return f'<div class="sources"><h4>{head}</h4>{note}{"".join(cards)}</div>'


def passages_table(answer: dict | None, turn: int) -> str:
    """Every retrieved passage by rank, with a bar of its score relative to the best one."""
    if answer is None or not answer["passages"]:
        return '<p class="note">The passages retrieved for a question appear here, ranked.</p>'
    cited = {c["chunk_id"]: c["n"] for c in answer["citations"]}
    best = max(p["score"] for p in answer["passages"]) or 1.0
    rows = []
    for p in answer["passages"]:
        n = cited.get(p["chunk_id"])
        share = max(0.0, min(1.0, p["score"] / best))
        tip = f"fused {p['score']:.3f} (meaning {p['dense']:.2f}, keywords {p['lexical']:.2f})"
        rows.append(f'<tr><td class="rank">{p["rank"]}</td><td>'
                    + act("cite", ref(turn, "p", p["rank"]), esc(snippet(p["title"], 70)), "link")
                    + f'<div class="meta">{esc(innermost(p["section"]))}</div></td>'
                    f'<td><span class="bar" title="{esc(tip)}"><span style="width:{share * 100:.0f}%"></span>'
                    f'</span></td><td>{f"[{n}]" if n else ""}</td></tr>')
    return ('<p class="note">Ranked by meaning and keyword match together; each bar is relative to the '
            "top passage for this question, not a measure of confidence.</p>"
            '<table class="scores"><thead><tr><th>Rank</th><th>Passage</th><th>Relative score</th>'
            f'<th>Cited</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def chips(docs: list[str], section: str, k: int, default_k: int, titles: dict[str, str],
          model_off: bool = False) -> str:
    """The active filters as chips, each with a button that removes it; `model_off` when a model
    is configured but answers are set to be careqa's own, quoted ones."""
    items = [(f"Document: {titles.get(d, d)}", f"doc:{d}") for d in docs or []]
    if section:
        items.append((f"Section: {innermost(section) or section}", "section:"))
    if k != default_k:
        items.append((f"{k} passages", "k:"))
    if model_off:
        items.append(("Model off: quoted answers only", "model:"))
    if not items:
        return '<div class="chips"><span class="none">Searching all documents</span></div>'
    return '<div class="chips">' + "".join(
        f'<span class="chip"><span class="label" title="{esc(label)}">{esc(label)}</span>'
        + act("unfilter", target, "×", "x", "Remove this filter") + "</span>" for label, target in items) + "</div>"
