"""Extractive answers: the question's best sentences from the retrieved passages, cited.

Every answer sentence is a verbatim span of the passage it cites. When the evidence is weak,
or the question names something the corpus never mentions, the answer abstains and says so.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np

from .lexical import document_frequency, terms
from .retrieve import Passage

ABSTAIN_TEXT = "The documents do not cover this. The closest passages are listed below."
MAX_SENTENCES = 4
MIN_SENTENCES = 2


@dataclass
class AnswerSentence:
    """One sentence of an answer: its verbatim text, where it is, which citation it carries."""

    text: str
    n: int
    doc_id: str
    start: int
    end: int
    lead: str = ""


@dataclass
class Answer:
    question: str
    text: str
    abstained: bool
    citations: list[dict]
    passages: list[Passage]
    sentences: list[AnswerSentence] = field(default_factory=list)
    reason: str = ""
    filters: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"question": self.question, "answer": self.text, "abstained": self.abstained,
                "reason": self.reason, "filters": self.filters, "citations": self.citations,
                "passages": [p.to_dict() for p in self.passages],
                "sentences": [asdict(s) for s in self.sentences]}


@dataclass
class Candidate:
    passage: Passage
    start: int
    end: int
    vector: np.ndarray
    dense: float
    lexical: float
    score: float = 0.0


_LABEL_PREFIX = re.compile(r"^[A-Z][A-Z ]+\s*(?::|\u2013|\u2014| - )\s*")


def section_name(section: str) -> str:
    """The innermost heading as a short name ('CASE STUDY: Norrtälje' -> 'Norrtälje'), or ''."""
    last = section.rsplit(" > ", 1)[-1].strip()
    last = _LABEL_PREFIX.sub("", last)
    if not last or last.endswith("?") or len(last.split()) > 5:
        return ""
    return last.title() if last.isupper() else last


class Answerer:
    """Scores sentences of retrieved passages against the question, using index-time vectors."""

    def __init__(self, stored):
        self.stored = stored
        self.bm25 = stored.bm25
        self.num_chunks = len(stored.chunks)
        self.doc_order = {doc_id: i for i, doc_id in enumerate(stored.documents)}
        self.texts = [d["text"] for d in stored.documents.values()]
        spans = stored.sentence_spans if stored.sentence_spans is not None else np.zeros((0, 3), "int64")
        self.spans = spans
        self.keys = spans[:, 0] * (1 << 32) + spans[:, 1] if len(spans) else np.zeros(0, "int64")

    def idf(self, term: str) -> float:
        df = document_frequency(self.bm25, term)
        return math.log(1 + (self.num_chunks - df + 0.5) / (df + 0.5))

    def sentences_in(self, p: Passage) -> range:
        o = self.doc_order[p.doc_id] * (1 << 32)
        lo = int(np.searchsorted(self.keys, o + p.start))
        hi = int(np.searchsorted(self.keys, o + p.end + 1))
        return range(lo, hi)

    def query_weights(self, question: str) -> dict[str, float]:
        return {t: self.idf(t) for t in dict.fromkeys(terms(question))}

    def missing_names(self, question: str) -> list[str]:
        """Capitalised words of the question (names) that no passage of the corpus contains."""
        words = re.findall(r"\b[A-Z][\w'\u2019-]+", question)
        if words and question.startswith(words[0]):
            words = words[1:]
        missing = []
        for w in words:
            ts = terms(w)
            if ts and all(document_frequency(self.bm25, t) == 0 for t in ts):
                missing.append(w)
        return missing

    def answer(self, question: str, query_vector: np.ndarray, passages: list[Passage]) -> Answer:
        if not passages:
            return Answer(question, ABSTAIN_TEXT, True, [], passages, reason="no passages match the filters")
        missing = self.missing_names(question)
        if missing:
            return Answer(question, ABSTAIN_TEXT, True, [], passages,
                          reason=f"the documents never mention {', '.join(missing)}")
        weights = self.query_weights(question)
        total = sum(weights.values()) or 1.0
        candidates = self.candidates(passages, query_vector, weights, total)
        if not candidates:
            return Answer(question, ABSTAIN_TEXT, True, [], passages, reason="no sentence to quote")
        best = max(candidates, key=lambda c: c.score)
        coverage = self.coverage(passages[0], weights, total)
        if best.dense < 0.35 and (best.lexical < 0.5 or coverage < 0.6):
            return Answer(question, ABSTAIN_TEXT, True, [], passages,
                          reason=f"weak evidence (best sentence similarity {best.dense:.2f}, "
                                 f"question terms covered {coverage:.0%})")
        chosen = self.select(candidates, best)
        return self.compose(question, chosen, passages, weights)

    def coverage(self, p: Passage, weights: dict[str, float], total: float) -> float:
        have = set(terms(p.title + " " + p.section + " " + p.text))
        return sum(w for t, w in weights.items() if t in have) / total

    def candidates(self, passages: list[Passage], q: np.ndarray, weights: dict[str, float],
                   total: float) -> list[Candidate]:
        seen: set[tuple[str, int]] = set()
        out = []
        top = passages[0].score or 1.0
        for p in passages:
            context = set(terms(p.section))
            for i in self.sentences_in(p):
                _, a, b = (int(x) for x in self.spans[i])
                if (p.doc_id, a) in seen or b > p.end:
                    continue
                seen.add((p.doc_id, a))
                text = self.texts[self.doc_order[p.doc_id]][a:b]
                words = set(terms(text))
                if len(words) < 3:
                    continue
                vec = self.stored.sentence_vectors[i]
                dense = float(vec @ q)
                lexical = sum(w for t, w in weights.items() if t in words or t in context) / total
                prior = p.score / top
                out.append(Candidate(p, a, b, vec, dense, lexical, dense + 0.5 * lexical + 0.15 * prior))
        return out

    def select(self, candidates: list[Candidate], best: Candidate) -> list[Candidate]:
        """The best sentence plus close runners-up, near-duplicates dropped."""
        ranked = sorted(candidates, key=lambda c: -c.score)
        chosen = [best]
        for c in ranked:
            if len(chosen) >= MAX_SENTENCES:
                break
            if c is best:
                continue
            floor = 0.8 if len(chosen) >= MIN_SENTENCES else 0.7
            if c.score < floor * best.score:
                break
            if any(float(c.vector @ s.vector) > 0.9 for s in chosen):
                continue
            chosen.append(c)
        return chosen

    def compose(self, question: str, chosen: list[Candidate], passages: list[Passage],
                weights: dict[str, float]) -> Answer:
        """Order sentences readably (by cited passage, then text order) and number citations."""
        first_score: dict[str, float] = {}
        for c in chosen:
            first_score[c.passage.chunk_id] = max(first_score.get(c.passage.chunk_id, -9), c.score)
        chosen.sort(key=lambda c: (-first_score[c.passage.chunk_id], c.start))
        numbers: dict[str, int] = {}
        sentences, parts = [], []
        for c in chosen:
            n = numbers.setdefault(c.passage.chunk_id, len(numbers) + 1)
            text = self.texts[self.doc_order[c.passage.doc_id]][c.start:c.end]
            lead = self.lead(c.passage.section, text, weights)
            sentences.append(AnswerSentence(text, n, c.passage.doc_id, c.start, c.end, lead))
            parts.append(f"{lead + ': ' if lead else ''}{' '.join(text.split())} [{n}]")
        by_chunk = {p.chunk_id: p for p in passages}
        citations = []
        for chunk_id, n in numbers.items():
            spans = [[s.start, s.end] for s in sentences if s.n == n]
            citations.append({"n": n, **by_chunk[chunk_id].to_dict(), "highlights": spans})
        return Answer(question, " ".join(parts), False, citations, passages, sentences)

    @staticmethod
    def lead(section: str, sentence: str, weights: dict[str, float]) -> str:
        """The section's name, when the question asks about it and the sentence does not say it."""
        name = section_name(section)
        if not name:
            return ""
        name_terms = set(terms(name))
        if name_terms & set(weights) and not name_terms & set(terms(sentence)):
            return name
        return ""
