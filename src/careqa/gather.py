"""Retrieval planned from the question's analysis: which passages an answer may draw on.

The searcher fuses dense and BM25 scores over whole passages; a passage of 250 tokens can hold
the one sentence that answers a paraphrased question and still rank low. So a wider pool is
re-ranked by its best sentence's similarity to the question (sentence vectors are stored), the
lexical query also carries the canonical names behind adjectives and abbreviations ("German" ->
Germany, "CRT" -> Community Response Teams), and each entity a comparison names gets a search of
its own, so one side can never crowd out the other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

from .question import Analysis, Entity, side_focus
from .records import Passage
from .speaks import mentions

POOL = 50  # passages re-ranked per question: a paraphrase's passage can rank 30th-50th on words and fused scores
SENTENCE_WEIGHT = 0.6  # weight of the best sentence's similarity against the fused passage score
PER_ENTITY = 3  # passages kept per compared entity: enough for a short paragraph each
LIST_EXTRA = 4  # list questions draw items from a few more passages than k


@dataclass
class Gathered:
    """The ranked passages shown for a question, plus passages found per compared entity."""

    passages: list[Passage]
    by_entity: dict[str, list[Passage]] = field(default_factory=dict)
    extra: list[Passage] = field(default_factory=list)
    by_document: dict[str, list[Passage]] = field(default_factory=dict)


def lexical_query(question: str, analysis: Analysis) -> str:
    """The question plus the canonical names and expansions of what it names."""
    said = set(re.findall(r"\w+", question.lower()))
    new = lambda text: not set(re.findall(r"\w+", text.lower())) <= said  # noqa: E731
    extra = [e.name for e in analysis.entities if new(e.name)]
    extra += [a for e in analysis.entities if e.type != "place" for a in e.aliases if new(a)]
    return " ".join([question, *extra])


def rerank(stored, passages: list[Passage], q: np.ndarray) -> list[Passage]:
    """Passages ordered by fused score blended with their best sentence's similarity."""
    if not passages:
        return []
    fused = np.array([p.score for p in passages], dtype="float64")
    span = float(fused.max() - fused.min()) or 1.0
    scored = []
    for p, f in zip(passages, fused):
        _, vectors = stored.sentences(p.doc_id, p.start, p.end)
        best = float((vectors @ q).max()) if len(vectors) else p.dense
        scored.append(((1 - SENTENCE_WEIGHT) * (f - fused.min()) / span + SENTENCE_WEIGHT * best, p))
    scored.sort(key=lambda x: -x[0])
    return [replace(p, score=round(s, 4), rank=i + 1) for i, (s, p) in enumerate(scored)]


def gather(searcher, question: str, q: np.ndarray, analysis: Analysis, k: int,
           docs: list[str] | None, section: str | None) -> Gathered:
    """The top-k passages for the question within the filters, and per-entity passages."""
    stored = searcher.stored
    text = lexical_query(question, analysis)
    pool = searcher.search(q, text, max(POOL, k + LIST_EXTRA), docs, section)
    ranked = rerank(stored, pool, q)
    result = Gathered(ranked[:k], extra=ranked[k:k + LIST_EXTRA] if analysis.kind == "list" else [])
    for name in analysis.compared:
        entity = next(e for e in analysis.entities if e.name == name)
        result.by_entity[name] = entity_passages(searcher, entity, analysis, q, docs, section)
    if len(analysis.documents) > 1 and list(docs or []) == list(analysis.documents):
        for doc in analysis.documents:  # "what do the brief and the explainer say": each one's passages
            result.by_document[doc] = rerank(stored, searcher.search(q, text, POOL, [doc], section), q)[:PER_ENTITY]
    return result


def entity_passages(searcher, entity: Entity, analysis: Analysis, q: np.ndarray,
                    docs: list[str] | None, section: str | None) -> list[Passage]:
    """The passages that speak of one entity, best for the question's topic first."""
    text = " ".join([*entity.aliases, *side_focus(analysis, entity.name)])
    found = searcher.search(q, text, POOL, docs, section)
    speaking = [p for p in found if mentions(p, entity)]
    return rerank(searcher.stored, speaking, q)[:PER_ENTITY]


MENTION_POOL = 20  # passages searched for an entity's names: more than any one entity fills


def mentioned(searcher, q: np.ndarray, entity: Entity, docs: list[str] | None, section: str | None,
              cache: dict) -> list[Passage]:
    """Passages (within the filters given) that name the entity, found by its names."""
    key = (entity.name, tuple(docs or ()), section)
    if key not in cache:
        found = searcher.search(q, " ".join(entity.aliases), MENTION_POOL, docs, section)
        cache[key] = [p for p in found if mentions(p, entity)]
    return cache[key]
