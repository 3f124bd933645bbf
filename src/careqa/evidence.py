"""Candidate sentences of the retrieved passages, each scored against the question and marked
with what it holds (a figure, a finding) and why it may never be quoted (a statement about the
document itself, a heading or title line, a bare reference, a fragment).

Scores come from the sentence vectors stored with the index (similarity to the question), the
share of the question's focus terms the sentence or its section holds, what its opening words
are about, and its passage's rank. A sentence right after a relevant one on the same line
inherits part of its score: it often carries the specifics.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from .lexical import shares_stem, stopwords, terms
from .question import Analysis
from .records import Passage
from .sentences import ANAPHOR
from .speaks import mentions, text_mentions
from .support import INSTRUCTION

W_COVER = 0.5  # focus terms found: as much as 0.5 of cosine similarity, measured on the question sets
W_PRIOR = 0.15  # the passage's rank: a tie-breaker between equally similar sentences
W_SUBJECT = 0.15  # focus terms in a sentence's first words: what the sentence is about
FIGURE_BONUS = 0.3  # a number question's sentence holding a figure of the asked kind
RESULT_BONUS = 0.15  # a sentence reporting a result, when the question asks for findings or results
CARRY = 0.85  # a sentence right after a relevant one on the same line often carries the specifics
CARRY_ANAPHOR = 0.95  # ... all the more when it opens by pointing back ("They", "This")
SUBJECT_WORDS = 4  # how many opening words say what a sentence is about
MIN_TERMS = 3  # fewer content words than this is a fragment, not a sentence
WHOLE_ENOUGH = 15  # words: a sentence cut off this late (a page's end) has still said what it says
PARAGRAPH_REACH = 3000  # characters looked back for a sentence's paragraph start; longer paragraphs are rare
MENTION_BONUS = 0.1  # a passage naming every entity the question names, over one that only may be about it
DEFINES_BONUS = 0.3  # "long form (SHORT)": the sentence that says what an abbreviation stands for

_EXPLETIVE = re.compile(r"It (?:is|was|has been|will be|would be|may be|can be|seems|appears) [\w-]+(?: \w+)? (?:that|to)\b")
_SELF = re.compile(r"^(?!(?:although|while|whereas|though|even though|if)\b)(?:[\w,]+\s+){0,3}?"
                   r"(?:this|the following|the present|the next|the previous|our)\s+"
                   r"(?:briefing|brief|paper|report|section|chapter|explainer|document|article|page|table|"
                   r"examples?|part|summary|review|note)(?:['\u2019]s)?(?:\s+\w+){0,2}?\s+(?:highlights?|discuss(?:es)?|"
                   r"describes?|provides?|outlines?|presents?|summari[sz]es?|sets? out|examines?|looks? at|"
                   r"focus(?:es)?|considers?|answers?|aims?|covers?|gives?|explores?|reviews?|introduces?|"
                   r"contains?|lists?|shows?|is|are)\b|^(?:below|above)\b|\b(?:is|are|was|were)\s+(?:\w+\s+)?"
                   r"(?:summari[sz]ed|set out|described|listed|shown|outlined|discussed|presented|detailed)\s+"
                   r"(?:below|above|in the following|later|next)\b", re.I)
_REFERENCE = re.compile(r"^(?:[A-Z][\w'\u2019-]+,\s(?:[A-Z]\.\s?)+,?\s*(?:&\s*)?)+|"
                        r"^(?:[A-Z][\w'\u2019-]+,?\s(?:[A-Z]\.?\s?){1,3},?\s*)+\(\d{4}[a-z]?\)|^[A-Z][^.()]{0,80}\(\d{4}[a-z]?"
                        r"(?:,[^)]*)?\)\.\s|Retrieved from|Accessed (?:on|\d)|Available at:|\bdoi:|https?://|^\(.*\)\W*$")
# a bibliography line: "DHSC. (2022). A Title. A Publisher. Retrieved from: ...": every sentence of it is a reference
_REFERENCE_LINE = re.compile(r"^[^\n]{0,80}?\(\d{4}[a-z]?\)[^\n]*?(?:Retrieved from|Accessed (?:on|\d)|Available (?:at|from)|"
                             r"\bdoi:|https?://)")
_YEAR = r"\b(?:1[89]|20)\d{2}\b"
_NUMBER_WORDS = (r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                 r"hundred|thousand|million|billion|dozen|half|quarter|third)\b")
FIGURES = {
    "money": re.compile(r"(?:[£$€¥]|\b(?:GBP|USD|EUR|CHF|DKK|SEK|NOK|AUD|CAD|NZD|JPY|ISK)\s?)\d|\d[\d,.]*\s?"
                        r"(?:million|billion|bn|m)?\s?(?:euros?|pounds?|dollars?|kronor|kroner|francs?|yen)\b", re.I),
    "percent": re.compile(r"\d+(?:[.,]\d+)?\s?(?:%|per ?cent\b|percent\b)|" + _NUMBER_WORDS + r"\s(?:per ?cent|percent)\b",
                          re.I),
    "year": re.compile(_YEAR + r"|\b(?:January|February|March|April|May|June|July|August|September|October|"
                       r"November|December)\b"),
    "duration": re.compile(r"(?:\d+|" + _NUMBER_WORDS + r")[\s-](?:days?|weeks?|months?|years?|hours?|minutes?)\b", re.I),
    "count": re.compile(r"(?<![\d.,])(?!" + _YEAR + r")\d[\d,.]*\b|" + _NUMBER_WORDS, re.I),
}
# "how much" without money: a share, a fraction or a large quantity, never a bare count
FIGURES["amount"] = re.compile("|".join([FIGURES["money"].pattern, FIGURES["percent"].pattern,
                                         r"\b(?:half|a third|a quarter|two thirds|\w+fold)\b",
                                         r"\d[\d,.]*\s?(?:million|billion|thousand)\b"]), re.I)
_RESULT = re.compile(r"\b(?:found|finds|showed|shown|(?:show|report|find|conclude|note|observe|suggest|indicate|"
                     r"argue|state|demonstrate)(?:s|ed)? that|concluded|concludes|reported|revealed|"
                     r"identified|noted|observed|commented|highlighted|estimated|measured|achievements?|"
                     r"(?:reduction|increase|improvement|decline|rise|fall|drop) in|"
                     r"demonstrated|resulted in|led to|reduced|increased|improved|decreased|fell|rose|declined|"
                     r"halved|doubled|lowered|achieved|(?:little|no|limited|some|strong|mixed) evidence|"
                     r"evidence (?:that|suggests)|"
                     r"suggests? that|indicates? that|(?:was|were) associated|no significant|limited success|"
                     r"savings|better outcomes|have had most success)\b", re.I)


@dataclass(eq=False)
class Sentence:
    """A candidate answer sentence: a verbatim span of its passage, with its scores and marks."""

    passage: Passage
    start: int
    end: int
    text: str
    vector: np.ndarray
    dense: float
    coverage: float
    score: float
    words: frozenset[str]
    previous: "Sentence | None" = None
    flags: frozenset[str] = field(default_factory=frozenset)
    figure: bool = False
    paragraph: tuple[str, int] = ("", 0)  # (document, offset where its paragraph starts)
    own: float = 0.0  # share of the focus terms in the sentence itself (not its section)
    result: bool = False  # reports a finding ("found", "reduced", "little evidence")
    before: "Sentence | None" = None  # the sentence before it in its passage, across a line or paragraph break

    @property
    def quotable(self) -> bool:
        return not self.flags

    @property
    def relevance(self) -> float:
        """How well the sentence answers the question: meaning plus the question's terms it holds."""
        return self.dense + W_COVER * self.coverage


def weights_for(stored, focus: tuple[str, ...]) -> dict[str, float]:
    """idf of each focus term over the index's passages: rare terms say more."""
    n = stored.num_chunks
    return {t: math.log(1 + (n - (df := stored.doc_frequency(t)) + 0.5) / (df + 0.5)) for t in focus}


def entity_weights(stored, analysis: Analysis) -> list[tuple[object, float]]:
    """Each entity the question names (beyond compared ones) with the idf of its rarest word."""
    out = []
    for e in analysis.entities:
        if e.name in analysis.compared:
            continue
        idf = max((w for a in e.aliases for w in weights_for(stored, tuple(terms(a))).values()), default=0.0)
        out.append((e, idf))
    return out


def named_share(text: str, section: str, entities: list[tuple[object, float]], total: float) -> float:
    """Weight of the question's entities the sentence names (a place may be named by its section)."""
    return sum(w for e, w in entities if text_mentions(text, e) or (e.type == "place" and text_mentions(section, e))) \
        / total if total else 0.0


def coverage(words: set[str], weights: dict[str, float]) -> float:
    """Share (idf-weighted) of the focus terms among the words, allowing for stemming gaps."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if shares_stem(t, words)) / total if total else 0.0


def flags(text: str, whole_line: bool, title: str) -> frozenset[str]:
    """Why a sentence may not be quoted as a sentence of an answer."""
    out = set()
    if _SELF.search(text):
        out.add("meta")
    plain = " ".join(text.split())
    label = re.match(r"[^:]{1,40}:\s+\S", plain) or any(c.isdigit() for c in plain)  # "ISBN: 1997-8073", "5-7 networks": values
    if whole_line and not label and (not plain.endswith((".", "!", ";", ":", ")", "\u201d", '"'))
                                     and len(plain.split()) <= 14 or plain.endswith("?")):
        out.add("heading")
    if len(plain) > 12 and plain.rstrip(".").lower() in " ".join(title.split()).lower():
        out.add("heading")
    if _REFERENCE.search(plain):
        out.add("reference")
    last = plain.rsplit(None, 1)[-1].lower() if plain else ""
    if last in stopwords() and not plain.endswith((".", "!", "?", ":", ";")) and len(plain.split()) < WHOLE_ENOUGH:
        out.add("fragment")  # "Darzi and Howitt (2012) believe that": cut off mid-sentence by the extraction
    if INSTRUCTION.search(plain):
        out.add("instruction")  # text addressed to a model, planted in a document: data, never an answer
    return frozenset(out)


COUNT_REACH = 3  # words allowed between a number and the noun it counts ("17 Integrated Care Partnerships")


def has_figure(text: str, analysis: Analysis) -> bool:
    """True when the text holds a figure of the kind the question asks for (a count of the
    counted thing, when the question says what is counted: "12 projects", not "12 regions
    which run projects")."""
    pattern = FIGURES.get(analysis.measure)
    if pattern is None:
        return False
    for m in pattern.finditer(text):
        if not analysis.counted:
            return True
        after = re.findall(r"[\w-]+", text[m.end():])[:COUNT_REACH + 1]
        if any(shares_stem(analysis.counted, set(terms(w))) for w in after):
            return True
    return False


_AUTHORSHIP = re.compile(r"\b(?:who (?:wrote|writes|authored|edited|compiled|published)|authors?|editors?|"
                         r"(?:title|name) of the .*\b(?:piece|article|paper|report|publication|blog)|"
                         r"how (?:should|do I|to) cite|citation)\b", re.I)


def candidates(stored, analysis: Analysis, q: np.ndarray, passages: list[Passage]) -> list[Sentence]:
    """Every sentence of the passages (each once), scored and marked. A bibliographic reference is
    quotable only when the question asks who wrote something (it is then the answer)."""
    cited_allowed = bool(_AUTHORSHIP.search(analysis.question))
    weights = weights_for(stored, analysis.focus)
    entities = entity_weights(stored, analysis)
    defines = [re.compile(re.escape(e.name) + r"\s*\(\s*" + re.escape(e.said.rstrip("s")), re.I)
               for e in analysis.entities if e.type == "abbreviation" and e.name != e.said]
    total = sum(weights.values()) + sum(w for _, w in entities)
    top = max((p.score for p in passages), default=1.0) or 1.0
    seen: set[tuple[str, int]] = set()
    out: list[Sentence] = []
    for p in passages:
        section = set(terms(p.section))
        named = MENTION_BONUS if entities and all(mentions(p, e) for e, _ in entities) else 0.0
        spans, vectors = stored.sentences(p.doc_id, p.start, p.end)
        # one read a passage: the text a sentence's paragraph may start in, then the passage itself
        head = max(0, p.start - PARAGRAPH_REACH)
        window = stored.text(p.doc_id, head, p.start) + p.text
        previous: Sentence | None = None
        previous_raw = 0.0
        for (a, b), vec in zip(spans.tolist(), vectors):
            text = window[a - head:b - head]
            before = window[max(p.start, a - 2) - head:a - head]
            after = window[b - head:min(p.end, b + 2) - head]
            gap = window[previous.end - head:a - head] if previous is not None else "\n"
            words = set(terms(text))
            if (p.doc_id, a) in seen or len(words) < MIN_TERMS and not text.endswith(":"):
                previous = None
                continue
            seen.add((p.doc_id, a))
            whole_line = (a == p.start or "\n" in before) and (b == p.end or "\n" in after)
            dense = float(vec @ q)
            found = coverage(words | section, weights) * sum(weights.values())
            cover = (found + named_share(text, p.section, entities, 1.0)) / total if total else 0.0
            subject = coverage(set(terms(" ".join(text.split()[:SUBJECT_WORDS]))), weights)
            figure = has_figure(text, analysis)
            result = bool(_RESULT.search(text))
            raw = (dense + W_COVER * cover + W_PRIOR * p.score / top + W_SUBJECT * subject + named
                   + (FIGURE_BONUS if figure else 0.0) + (RESULT_BONUS if result and analysis.wants_results else 0.0)
                   + (DEFINES_BONUS if any(d.search(text) for d in defines) else 0.0))
            carry = 0.0 if "\n" in gap else (CARRY_ANAPHOR if ANAPHOR.match(text) else CARRY)
            inherited = carry * previous_raw if previous is not None else 0.0
            reach = max(0, a - PARAGRAPH_REACH)  # the paragraph may begin before the passage does
            before_text = window[reach - head:a - head]
            blank = max(before_text.rfind("\n\n"), before_text.rfind("\n \n"))
            line_end = window.find("\n", b - head)
            line = window[window.rfind("\n", 0, a - head) + 1:line_end if line_end >= 0 else len(window)]
            marks = (flags(text, whole_line, p.title) | ({"reference"} if _REFERENCE_LINE.match(line) else set())) \
                - ({"reference"} if cited_allowed else set())
            s = Sentence(p, a, b, text, vec, dense, cover, max(raw, inherited), frozenset(words | section),
                         previous if carry else None, marks, figure,
                         (p.doc_id, reach + blank + 1 if blank >= 0 else reach), coverage(words, weights), result,
                         out[-1] if out and out[-1].passage is p else None)
            out.append(s)
            previous, previous_raw = s, raw
    lift_list_intros(out)
    return out


def lift_list_intros(sentences: list[Sentence]) -> None:
    """A sentence ending in a colon ("The programme aims to:") scores as well as the best of the
    lines after it: those lines are its list's items (short lines that look like headings, or
    clauses ending in ";"), and an answer quoting the intro brings them along."""
    intro = None
    for s in sentences:
        item = s.flags == {"heading"} or s.previous is None and (
            s.text[:1].islower() or re.search(r"(?:;|;\s*(?:and|or))$", s.text.rstrip()))  # a line of a list
        if intro is not None and s.passage is intro.passage and item:
            intro.score = max(intro.score, s.score)
            continue
        intro = s if s.quotable and s.text.rstrip().endswith(":") else None


_ITSELF = re.compile(r"(?:This|These) (?:report|briefing|brief|paper|document|explainer|review|publication|article|"
                     r"page|website)s?\b")  # the cited document itself: its citation names it


def needs_antecedent(s: Sentence) -> bool:
    """True when the sentence opens by pointing back to something it does not name."""
    return bool(ANAPHOR.match(s.text)) and not _EXPLETIVE.match(s.text) and not _ITSELF.match(s.text)
