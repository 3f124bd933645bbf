"""Extractive answers: from the question's analysis, the passages it calls for, to cited sentences.

Every answer sentence is a verbatim span of the passage it cites. When the documents do not
answer the question, the answer abstains and says why in plain words (abstain.py); the figures
behind that decision go to `diagnostics`, never into the reason.
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from .abstain import judge, titles
from .compose import (BODY_NOUNS, PER_ENTITY_SENTENCES, PLACE_NOUNS, comparison, in_reading_order, names_a_body,
                      names_the_asked_place, paragraph, select, sentences_of)
from .evidence import Sentence, candidates, weights_for
from .gather import Gathered, gather, mentioned
from .lists import MAX_ITEMS, best_run, enumerated, list_sentences, runs_in, siblings
from .question import Analysis, side_focus
from .records import Answer, Block, Citation, Passage
from .speaks import grounds, mentions, text_mentions

ABSTAIN_TEXT = "The documents do not cover this. The closest passages are listed below."
LIST_GAP = 12  # characters of blank lines and markers between a colon and its list's first item
SECTION_POOL = 12  # passages of one section searched for a list's sibling tables
MIN_PER_TABLE = 3  # items shown per table when several like tables answer together


class Numbering:
    """Citation numbers in order of first use, one per passage."""

    def __init__(self):
        self.passages: dict[str, Passage] = {}

    def __call__(self, p: Passage) -> int:
        self.passages.setdefault(p.chunk_id, p)
        return list(self.passages).index(p.chunk_id) + 1


_MARKER = re.compile(r"^\s*(?:[-\u2022\u25aa\u25e6\u00b7*\u2013]|\d{1,2}[.)])\s+")


def render(blocks: list[Block], stated: str = "") -> str:
    """The answer as plain text with [n] markers: paragraphs, "- item" lines, a heading per entity.
    A quoted bullet line keeps a line of its own, as in its document."""
    parts = []
    for b in blocks:
        if b.style == "list":
            lines = [f"The document lists {stated}:"] if stated else []
            lines += [f"{b.heading}:"] if b.heading else []
            lines += [f"- {' '.join(s.text.split())} [{s.n}]" for s in b.sentences] + ([b.note] if b.note else [])
            parts.append("\n".join(lines))
            continue
        text = ""
        for s in b.sentences:
            quoted = f"{s.lead + ': ' if s.lead else ''}{' '.join(s.text.split())} [{s.n}]"
            text += (f"\n- {_MARKER.sub('', quoted)}" if _MARKER.match(s.text) else f" {quoted}")
        text = " ".join(x for x in (text.strip(" "), b.note) if x).lstrip("\n")
        parts.append((f"{b.heading}:\n" if text.startswith("- ") else f"{b.heading}: ") + text if b.heading else text)
    return "\n\n".join(parts)


def citations(blocks: list[Block], numbering: Numbering) -> list[Citation]:
    out = []
    for n, (chunk_id, p) in enumerate(numbering.passages.items(), 1):
        spans = tuple((s.start, s.end) for b in blocks for s in b.sentences if s.n == n)
        out.append(Citation(n, p, spans))
    return out


def scope_of(analysis: Analysis, docs: list[str] | None) -> list[str] | None:
    """The documents searched: the user's filter, else those the question names, else all (None)."""
    return list(docs or []) or list(analysis.documents) or None


def find(searcher, question: str, q: np.ndarray, analysis: Analysis, k: int, docs: list[str] | None,
         section: str | None) -> Gathered:
    """The passages an analysed question calls for, within the filters."""
    return gather(searcher, question, q, analysis, k, scope_of(analysis, docs), section)


def respond(searcher, question: str, q: np.ndarray, analysis: Analysis, k: int,
            docs: list[str] | None, section: str | None, found: Gathered | None = None) -> Answer:
    """The answer to an analysed question within the filters (documents the question names
    narrow them when the user set none); `found`: its passages, when the caller has them (find)."""
    stored = searcher.stored
    scope = scope_of(analysis, docs)
    found = found if found is not None else gather(searcher, question, q, analysis, k, scope, section)
    cache: dict = {}
    where = lambda e: mentioned(searcher, q, e, None, None, cache)  # noqa: E731
    within = lambda e: bool(mentioned(searcher, q, e, scope, section, cache))  # noqa: E731
    pool = candidates(stored, analysis, q, found.passages + found.extra)
    places = [e for e in analysis.places if e.name not in analysis.compared]
    grounded = [s for s in pool if all(grounds(s.passage, e) for e in places)]
    described = titles(analysis.documents, stored.documents) if analysis.documents and not docs else \
        "no passage within the filters"
    verdict = judge(analysis, found.passages, grounded, where, within, described)
    filters = {"docs_named": list(analysis.documents) if analysis.documents and not docs else []}
    if verdict.reason:
        return Answer(question, ABSTAIN_TEXT, True, [], found.passages, reason=verdict.reason, kind=analysis.kind,
                      analysis=analysis.to_dict(), filters=filters, diagnostics=verdict.figures or {})
    numbering = Numbering()

    def section_passages(p: Passage) -> list[Passage]:  # the passages of a list's section, for like tables
        return searcher.search(q, question, SECTION_POOL, [p.doc_id], p.section) if p.section else [p]

    blocks, stated = compose(stored, analysis, q, grounded, found, numbering, section_passages)
    if analysis.kind == "which-entity" and blocks and (
            PLACE_NOUNS.match(analysis.asked) and not names_the_asked_place(blocks[0], analysis)
            or BODY_NOUNS.match(analysis.asked) and not names_a_body(blocks[0], analysis)):
        blocks = [Block([], note=f"The documents do not say which {analysis.asked} this is.")]
    if not any(b.sentences for b in blocks):
        reason = " ".join(b.note for b in blocks if b.note) or "No passage answers this question."
        return Answer(question, ABSTAIN_TEXT, True, [], found.passages, reason=reason, kind=analysis.kind,
                      analysis=analysis.to_dict(), filters=filters, diagnostics=verdict.figures or {})
    return Answer(question, render(blocks, stated), False, citations(blocks, numbering), found.passages, blocks,
                  kind=analysis.kind, analysis=analysis.to_dict(), filters=filters,
                  diagnostics=verdict.figures or {})


def compose(stored, analysis: Analysis, q: np.ndarray, grounded: list[Sentence], found,
            numbering: Numbering, section_passages) -> tuple[list[Block], str]:
    """The answer's blocks by the question's kind (and the count a listed document states)."""
    if analysis.compared:
        per = {}
        for name in analysis.compared:
            entity = next(e for e in analysis.entities if e.name == name)
            side = replace(analysis, focus=side_focus(analysis, name))
            pool = candidates(stored, side, q, found.by_entity.get(name, []))
            per[entity] = [s for s in pool if text_mentions(s.text, entity) or text_mentions(s.passage.section, entity)]
        blocks = comparison(per, analysis, numbering, lambda e: bool(found.by_entity.get(e.name)))
        pool = [s for sentences in per.values() for s in sentences]
        return [part for b in blocks for part in introduced_lists(b, pool, analysis, numbering)], ""
    if found.by_document:
        return per_document(stored, analysis, q, found.by_document, numbering), ""
    if analysis.kind == "list":
        sources = list({s.passage.chunk_id: s.passage for s in grounded}.values())
        named = {p.chunk_id: sum(mentions(p, e) for e in analysis.entities) for p in sources}
        most = max(named.values(), default=0)  # the passages naming most of what the question names
        naming = [p for p in sources if most and named[p.chunk_id] == most]
        run = best_run(stored, naming or sources, analysis, q, weights_for(stored, analysis.focus))
        if run is not None:
            blocks = list_blocks(run, section_passages(run.passage), analysis, numbering)
            picked = analysis.criterion and sum(len(b.sentences) for b in blocks) < len(run.items)
            return blocks, f"{run.stated}, among them these" if run.stated and picked else run.stated
        stated, items = enumerated([s for s in grounded if s.quotable], set(analysis.focus))
        if items:
            sentences = sentences_of(items, analysis, numbering)
            return [Block(sentences, style="list")], stated
    block = paragraph(grounded, analysis, numbering)
    if block is None:
        return [], ""
    return introduced_lists(block, grounded, analysis, numbering), ""


def per_document(stored, analysis: Analysis, q: np.ndarray, by_document: dict[str, list[Passage]],
                 numbering: Numbering) -> list[Block]:
    """A short paragraph from each document the question names, under its short title."""
    blocks = []
    for doc_id, passages in by_document.items():
        title = re.split(r"[:?(]", stored.documents[doc_id]["title"])[0].strip()
        chosen = select(candidates(stored, analysis, q, passages), set(analysis.focus), PER_ENTITY_SENTENCES,
                        analysis.wants_results)
        if chosen:
            blocks.append(Block(sentences_of(in_reading_order(chosen), analysis, numbering), heading=title))
        else:
            blocks.append(Block([], heading=title, note="This document says nothing on this."))
    return blocks


def list_blocks(run, passages: list[Passage], analysis: Analysis, numbering: Numbering) -> list[Block]:
    """The best list's items; for a question asked of several like tables, each table's, under
    its label, up to MAX_ITEMS in all."""
    focus = set(analysis.focus)
    runs = siblings(run, passages, focus)
    quota = max(MIN_PER_TABLE, MAX_ITEMS // len(runs))
    blocks = []
    for r in runs:
        items = list_sentences(r, focus, numbering, analysis.criterion)
        if items:
            more = len(items) - quota
            note = f"({more} more in the source.)" if more > 0 else ""
            blocks.append(Block(items[:quota], heading=r.label if len(runs) > 1 else "", style="list", note=note))
    return blocks


def introduced_lists(block: Block, pool: list[Sentence], analysis: Analysis, numbering: Numbering) -> list[Block]:
    """A quoted sentence ending in a colon ("... used to refer to:") says its list comes next:
    the list's items follow it, right after it, or the sentence would promise what the answer
    never gives. The paragraph is split around each such list."""
    passages = {(s.passage.doc_id, s.start): s.passage for s in pool}
    out, current, listed = [], [], []
    for sentence in block.sentences:
        if any(d == sentence.doc_id and a <= sentence.start < b for d, a, b in listed):
            continue  # an item the list below gives already
        current.append(sentence)
        if not sentence.text.rstrip().endswith(":"):
            continue
        p = passages.get((sentence.doc_id, sentence.start))
        run = next((r for r in runs_in(p) if r.items and 0 <= r.items[0][0] - sentence.end <= LIST_GAP), None) \
            if p is not None else None
        if run is not None:
            out += [replace(block, sentences=current, heading=block.heading if not out else ""),
                    Block(list_sentences(run, set(analysis.focus), numbering), style="list")]
            listed.append((run.passage.doc_id, run.items[0][0], run.items[-1][1]))
            current = []
    rest = replace(block, sentences=current, heading=block.heading if not out else "")
    return out + [rest] if current or not out else out


def combine(whole: Answer, parts: list[Answer]) -> Answer:
    """One answer to a compound question from the answers to its parts: each answered part's
    blocks in turn, citations renumbered across them, the whole question's passages shown. The
    whole question's own answer stands when no part is answered."""
    answered = [a for a in parts if not a.abstained]
    if not answered:
        return whole
    numbering, blocks = Numbering(), []
    for a in answered:
        cited = {c.n: c.passage for c in a.citations}
        seen = {(s.doc_id, s.start) for b in blocks for s in b.sentences}
        for b in a.blocks:
            kept = [replace(s, n=numbering(cited[s.n])) for s in b.sentences if (s.doc_id, s.start) not in seen]
            if kept or b.note:
                blocks.append(replace(b, sentences=kept))
    named = list(dict.fromkeys(d for a in answered for d in a.filters.get("docs_named", [])))
    return replace(whole, text=render(blocks), abstained=False, reason="", blocks=blocks,
                   citations=citations(blocks, numbering), filters={**whole.filters, "docs_named": named},
                   diagnostics={**whole.diagnostics, "parts": [a.question for a in parts]})
