"""Extractive answers: the question's best sentences from the retrieved passages, cited.

Every answer sentence is a verbatim span of the passage it cites. When the evidence is weak,
or the question names something the corpus never mentions, the answer abstains and says so.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .lexical import document_frequency, shares_stem, stopwords, terms
from .records import Answer, AnswerSentence, Block, Citation, Passage, innermost

ABSTAIN_TEXT = "The documents do not cover this. The closest passages are listed below."
MAX_SENTENCES = 4
MIN_SENTENCES = 2
MAX_WITH_ANTECEDENTS = 5
CARRY = 0.85  # a sentence right after a relevant one often carries the specifics
CARRY_ANAPHOR = 0.95
SUBJECT_WORDS = 4
NOVELTY = 0.3  # bonus for a sentence covering question terms the answer lacks so far
_ASIDE = re.compile(r"^\(.*\)\W*$", re.S)  # a bare reference like "(Canterbury Clinical Network, 2009)"
_ANAPHOR = re.compile(r"(?:They|It|Its|Their|These|This|Those|Such|He|She|Under this|The latter)\b")


@dataclass(eq=False)
class Candidate:
    passage: Passage
    start: int
    end: int
    text: str
    vector: np.ndarray
    dense: float
    lexical: float
    score: float
    words: frozenset[str]
    previous: "Candidate | None"  # the sentence before, same line and passage, when it carries over


_LABEL_PREFIX = re.compile(r"^[A-Z][A-Z ]+\s*(?::|\u2013|\u2014| - )\s*")


def section_name(section: str) -> str:
    """The innermost heading as a short name ('CASE STUDY: Norrtälje' -> 'Norrtälje'), or ''."""
    last = _LABEL_PREFIX.sub("", innermost(section))
    if not last or last.endswith("?") or len(last.split()) > 5:
        return ""
    return last.title() if last.isupper() else last


_CAPITALISED = re.compile(r"\b[A-Z][\w\u2019'-]*")
_ALTERNATIVE_GAP = re.compile(r"^\s*(?:,|,?\s*(?:and|or|versus|vs\.?|&|compared (?:with|to)))\s*$")


def question_names(question: str) -> list[list[str]]:
    """Names (runs of capitalised words) in a question, grouped where the question offers
    alternatives ("Norway and Denmark"): an answer must speak of one name of every group.

    The first word counts only when possessive ("Norway's ..."); stop words never count.
    """
    found = [m for m in _CAPITALISED.finditer(question) if m.group().lower() not in stopwords()]
    if found and not question[:found[0].start()].strip() and not re.match(r"[\w-]+['\u2019]s\b", found[0].group()):
        found = found[1:]
    names: list[tuple[int, int]] = []
    for m in found:
        if names and not question[names[-1][1]:m.start()].strip():
            names[-1] = (names[-1][0], m.end())
        else:
            names.append((m.start(), m.end()))
    groups: list[list[str]] = []
    for i, (a, b) in enumerate(names):
        if groups and _ALTERNATIVE_GAP.match(question[names[i - 1][1]:a]):
            groups[-1].append(question[a:b])
        else:
            groups.append([question[a:b]])
    return groups


class Answerer:
    """Scores sentences of retrieved passages against the question, using index-time vectors."""

    def __init__(self, stored):
        self.stored = stored

    def idf(self, term: str) -> float:
        df = self.stored.doc_frequency(term)
        n = self.stored.num_chunks
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def query_weights(self, question: str) -> dict[str, float]:
        return {t: self.idf(t) for t in dict.fromkeys(terms(question))}

    def missing_names(self, names: list[str]) -> list[str]:
        """The names that no passage of the corpus contains."""
        return [w for w in names if (ts := terms(w)) and all(self.stored.doc_frequency(t) == 0 for t in ts)]

    def answer(self, question: str, query_vector: np.ndarray, passages: list[Passage]) -> Answer:
        """Cited sentences answering the question, or an abstention saying why."""
        weights = self.query_weights(question)
        chosen, reason = self.evidence(question, query_vector, passages, weights)
        if reason:
            return Answer(question, ABSTAIN_TEXT, True, [], passages, reason=reason)
        return self.compose(question, chosen, passages, weights)

    def evidence(self, question: str, query_vector: np.ndarray, passages: list[Passage],
                 weights: dict[str, float]) -> tuple[list[Candidate], str]:
        """The sentences to quote, or the reason the documents do not answer the question."""
        if not passages:
            return [], "no passages match the filters"
        groups = question_names(question)
        missing = self.missing_names([n for g in groups for n in g if len(g) == 1])
        if missing:
            return [], f"the documents never mention {', '.join(missing)}"
        candidates = self.candidates(passages, query_vector, weights, sum(weights.values()) or 1.0)
        speaking = {p.chunk_id for p in passages if self.speaks_of(p, groups)}
        grounded = [c for c in candidates if c.passage.chunk_id in speaking]
        if not grounded:
            names = " and ".join("/".join(g) for g in groups)
            return [], f"no passage speaks of {names}" if candidates else "no sentence to quote"
        best = max(grounded, key=lambda c: c.score)
        chosen = self.select(grounded, best, weights)
        focus = self.focus_coverage(chosen, weights, groups)
        if best.dense < 0.5 and focus < 0.5:
            return [], (f"the best sentences miss what the question asks about (similarity "
                        f"{best.dense:.2f}, asked-about terms found {focus:.0%})")
        return chosen, ""

    def focus_coverage(self, chosen: list[Candidate], weights: dict[str, float],
                       groups: list[list[str]]) -> float:
        """Share (idf-weighted) of the question's terms other than its names that the chosen
        sentences, their sections or titles contain: 'population' in "population of Denmark"."""
        names = {t for g in groups for n in g for t in terms(n)}
        focus = {t: w for t, w in weights.items() if t not in names}
        if not focus:
            return 1.0
        have: set[str] = set()
        for c in chosen:
            have |= set(terms(" ".join((c.text, c.passage.section, c.passage.title))))
        return sum(w for t, w in focus.items() if shares_stem(t, have)) / sum(focus.values())

    @staticmethod
    def context_terms(p: Passage) -> set[str]:
        """Terms a passage is about: its text, section path, document title and publisher."""
        return set(terms(" ".join((p.text, p.section, p.title, p.publisher))))

    def speaks_of(self, p: Passage, groups: list[list[str]]) -> bool:
        """True when the passage's context names one name of every group."""
        have = self.context_terms(p)
        return all(any(set(terms(n)) <= have for n in g) for g in groups)

    def candidates(self, passages: list[Passage], q: np.ndarray, weights: dict[str, float],
                   total: float) -> list[Candidate]:
        """Every sentence of the passages, scored: similarity to the question, question terms in
        the sentence or its section, question terms in its opening words (what it is about),
        and its passage's rank."""
        seen: set[tuple[str, int]] = set()
        out = []
        top = passages[0].score or 1.0
        for p in passages:
            context = set(terms(p.section))
            spans, vectors = self.stored.sentences(p.doc_id, p.start, p.end)
            previous: Candidate | None = None
            previous_raw = 0.0
            for (a, b), vec in zip(spans.tolist(), vectors):
                text = self.stored.text(p.doc_id, a, b)
                gap = self.stored.text(p.doc_id, previous.end, a) if previous is not None else "\n"
                carry = self.carry(text, gap)
                if (p.doc_id, a) in seen:
                    previous, previous_raw = None, 0.0
                    continue
                seen.add((p.doc_id, a))
                words = set(terms(text))
                if len(words) < 3 or _ASIDE.match(text):
                    previous, previous_raw = None, 0.0
                    continue
                dense = float(vec @ q)
                lexical = sum(w for t, w in weights.items() if t in words or t in context) / total
                opening = set(terms(" ".join(text.split()[:SUBJECT_WORDS])))
                subject = sum(w for t, w in weights.items() if t in opening) / total
                prior = p.score / top
                raw = dense + 0.5 * lexical + 0.15 * prior + 0.15 * subject
                cand = Candidate(p, a, b, text, vec, dense, lexical, max(raw, carry * previous_raw),
                                 frozenset(words | context), previous if carry else None)
                out.append(cand)
                previous, previous_raw = cand, raw
        return out

    @staticmethod
    def carry(text: str, gap: str) -> float:
        """How much of the previous sentence's relevance this one inherits: some when it follows
        on the same line (cleaning joined wrapped lines), more when it opens with a word pointing back ("They", "This")."""
        if "\n" in gap:
            return 0.0
        return CARRY_ANAPHOR if _ANAPHOR.match(text) else CARRY

    def select(self, candidates: list[Candidate], best: Candidate, weights: dict[str, float]) -> list[Candidate]:
        """The best sentence plus close runners-up, near-duplicates dropped; among runners-up,
        one that covers a question term not covered yet goes first ("X versus Y" gets both)."""
        total = sum(weights.values()) or 1.0
        covered = set(best.words)
        chosen = [best]
        pool = [c for c in candidates if c is not best]
        while pool and len(chosen) < MAX_SENTENCES:
            floor = (0.8 if len(chosen) >= MIN_SENTENCES else 0.7) * best.score
            pool = [c for c in pool if c.score >= floor
                    and not any(float(c.vector @ s.vector) > 0.9 for s in chosen)]
            if not pool:
                break
            gain = {id(c): sum(w for t, w in weights.items() if t in c.words and t not in covered) / total
                    for c in pool}
            pick = max(pool, key=lambda c: c.score + NOVELTY * gain[id(c)])
            chosen.append(pick)
            covered |= pick.words
            pool.remove(pick)
        return self.with_antecedents(chosen, candidates)

    @staticmethod
    def with_antecedents(chosen: list[Candidate], candidates: list[Candidate]) -> list[Candidate]:
        """A chosen sentence opening with "It"/"They"/"These" brings the sentence before it
        (same passage, same line), so the answer never starts talking about an unnamed thing."""
        out = list(chosen)
        for c in chosen:
            prev = c.previous
            if prev is not None and prev not in out and len(out) < MAX_WITH_ANTECEDENTS and _ANAPHOR.match(c.text):
                out.append(prev)
        return out

    def compose(self, question: str, chosen: list[Candidate], passages: list[Passage],
                weights: dict[str, float]) -> Answer:
        """Order sentences readably (by cited passage, then text order) and number citations."""
        best_in_passage: dict[str, float] = {}
        for c in chosen:
            best_in_passage[c.passage.chunk_id] = max(best_in_passage.get(c.passage.chunk_id, -9), c.score)
        chosen.sort(key=lambda c: (-best_in_passage[c.passage.chunk_id], c.start))
        numbers: dict[str, int] = {}
        sentences, parts = [], []
        previous_lead = ""
        for c in chosen:
            n = numbers.setdefault(c.passage.chunk_id, len(numbers) + 1)
            lead = self.lead(c.passage.section, c.text, weights)
            lead, previous_lead = ("" if lead == previous_lead else lead), lead
            sentences.append(AnswerSentence(c.text, n, c.passage.doc_id, c.start, c.end, lead))
            parts.append(f"{lead + ': ' if lead else ''}{' '.join(c.text.split())} [{n}]")
        by_chunk = {p.chunk_id: p for p in passages}
        citations = [Citation(n, by_chunk[chunk_id], tuple((s.start, s.end) for s in sentences if s.n == n))
                     for chunk_id, n in numbers.items()]
        return Answer(question, " ".join(parts), False, citations, passages, [Block(sentences)])

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
