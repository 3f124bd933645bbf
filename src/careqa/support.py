"""Reading a model's reply sentence by sentence, and measuring whether a cited passage supports
a sentence: the passage must hold the sentence's figures and places, share most of its terms,
and hold a sentence (or two adjacent ones) close to it in meaning.

Sentences of a passage that address an AI or tell the reader to ignore instructions are kept
apart: they never count as support, and a reply sentence closer to one of them than to any
other passage text has obeyed a document rather than the question.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np

from .aliases import find_places, find_subplaces
from .lexical import shares_stem, terms
from .question import Entity
from .records import Passage
from .sentences import sentence_spans
from .speaks import text_mentions

# Calibrated by benchmarks/llm_support.py: 71 claims written by hand about passages of the bundled
# corpus (paraphrased, merged, condensed; invented, figure or place swapped) and 932 pairs of a claim
# with another passage. These accept every supported claim, 1% of other-passage pairs, 19% of invented.
MIN_SIMILARITY = 0.6  # cosine of the sentence and its closest passage sentence (or adjacent pair)
MIN_LEXICAL = 0.3  # share of its content terms the passage holds: a floor (no supported claim was under 0.6)
MIN_SUPPORT = 1.25  # similarity + lexical: one may be lower only if the other makes up for it

MAX_RANGE = 20  # "[2-4]" is a range of citations; "[2-40]" is not one a reply means
CITATION = re.compile(r"\s*\[\s*(?:passages?\s*)?(\d{1,3}(?:\s*(?:,|;|&|and|-|\u2013)\s*(?:passages?\s*)?\d{1,3})*)\s*\]", re.I)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SOURCES = r"(?:passages?|documents?|sources?|texts?|(?:given|provided|supplied) (?:information|text))"
_MISSING = re.compile(
    r"\b" + _SOURCES + r"\b[^.]{0,60}?\b(?:do(?:es)? not|don't|doesn't|never|says? nothing|contains? no|gives? no|"
    r"provides? no|offers? no|not (?:say|state|mention|cover|describe|discuss|specify|provide|give|include|address))\b"
    r"|\b(?:no|nothing in the|none of the) " + _SOURCES + r"\b"
    r"|\bno (?:information|details?|mention|figures?|data)\b[^.]{0,60}?\b(?:in|from) the " + _SOURCES + r"\b"
    r"|\bnot (?:mentioned|covered|described|discussed|addressed|stated|given) in the " + _SOURCES + r"\b", re.I)
MAX_MISSING_WORDS = 30  # a statement of what the passages lack is short; a longer one carries claims
# "one" is left out: it is far more often a pronoun ("enrolled in one") than a figure
_WORD_NUMBERS = {w: i for i, w in enumerate(
    "_ _ two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty".split()) if i > 1} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
                                                      "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12}
_CONTRAST = re.compile(r"\b(?:but|however|although|though|while|whereas|yet)\b", re.I)
_MACHINE = r"(?:AI|artificial intelligence|language model|chatbot|LLM|GPT)s?(?: assistants?)?"
# Text addressed to a model rather than to a reader: overriding its instructions, telling it what
# it is, or what to put in its answer. A false alarm costs a model's answer, never a wrong one.
INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.\n]{0,60}\b(?:instructions?|rules?|prompts?|guidelines|"
    r"directions|above|previous|prior|earlier|everything)\b"
    r"|\b(?:you are|you're)\s+(?:now\s+)?(?:an?\s+|the\s+)?(?:" + _MACHINE + r"|assistant)\b"
    r"|\b(?:pretend (?:to be|you are)|role-?play as)\b"
    r"|\b(?:system|developer)\s+(?:prompt|message|instructions?)\b"
    r"|\b" + _MACHINE + r"\b[^.\n]{0,80}\b(?:must|should|shall|will|need to|are to)\b"
    r"|\btell (?:the |your )?(?:users?|readers?)\b|\b(?:in|to|into) your (?:answer|reply|response|output)s?\b", re.I)


@dataclass(frozen=True)
class Said:
    """One sentence of a reply: its text without citation markers or Markdown, the passage
    numbers it cites, and where it stands (a new paragraph, a list item, a heading line)."""

    text: str
    cited: tuple[int, ...]
    paragraph: int
    line_start: bool
    item: bool
    heading: bool

    @property
    def missing(self) -> bool:
        """A plain statement that the passages lack something: it needs no citation."""
        return bool(_MISSING.search(self.text)) and not self.cited and not _NUMBER.search(self.text) \
            and not _CONTRAST.search(self.text) and len(self.text.split()) <= MAX_MISSING_WORDS


def cited_numbers(group: str) -> tuple[int, ...]:
    """'1, 3' -> (1, 3); '2-4' -> (2, 3, 4)."""
    out: list[int] = []
    for a, b in re.findall(r"(\d+)(?:\s*[-\u2013]\s*(\d+))?", group):
        low, high = int(a), int(b or a)
        out.extend(range(low, high + 1) if 0 <= high - low < MAX_RANGE else (low, high))
    return tuple(dict.fromkeys(out))


def _plain(text: str) -> str:
    """Text without Markdown emphasis, heading hashes or a list marker."""
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"^\s*#{1,6}\s*", "", text)
    return _BULLET.sub("", text).strip()


def split_reply(reply: str) -> list[Said]:
    """The reply's sentences with their citations; a marker written after the full stop ("... fine. [2]")
    belongs to the sentence before it."""
    spans = sentence_spans(reply)
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and re.fullmatch(r"\d{1,2}[.)]", reply[merged[-1][0]:merged[-1][1]]) \
                and "\n" not in reply[merged[-1][1]:a]:
            merged[-1][1] = b  # "1." split from its item's text
            continue
        lead = re.match(r"(?:" + CITATION.pattern + r")+[.,;]?", reply[a:b])
        if lead and merged and "\n" not in reply[merged[-1][1]:a]:
            merged[-1][1] = a + lead.end()
            a += lead.end()
        if reply[a:b].strip():
            merged.append([a, b])
    out = []
    for a, b in merged:
        raw = reply[a:b]
        before = reply[:a]
        line = before[before.rfind("\n") + 1:]
        cited = tuple(n for m in CITATION.finditer(raw) for n in cited_numbers(m.group(1)))
        text = " ".join(_plain(CITATION.sub("", raw)).split())
        text = re.sub(r"\s+([.,;:!?])", r"\1", text)
        if not re.search(r"\w", text):
            continue
        whole_line = not line.strip() and (b == len(reply) or reply[b:].startswith("\n") or not reply[b:].strip())
        heading = whole_line and not cited and (raw.lstrip().startswith("#") or (
            len(text.split()) <= 6 and (text.endswith(":") or not text.endswith((".", "!", "?")))))
        out.append(Said(text, tuple(dict.fromkeys(cited)), len(re.findall(r"\n\s*\n", before)), not line.strip(),
                        bool(_BULLET.match(line + raw)), heading))
    return out


def numbers_in(text: str) -> set[str]:
    """The figures of a text as digits, thousands separators dropped ("3,900" -> "3900", "3.9"
    stays, "sixteen" -> "16")."""
    out = set()
    for m in _NUMBER.finditer(text):
        value = re.sub(r",(?=\d{3}\b)", "", m.group()).rstrip(".,")
        out.add(value.replace(",", "."))
    out.update(str(_WORD_NUMBERS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in _WORD_NUMBERS)
    return out


def places_in(text: str) -> list[Entity]:
    """Countries and provinces a text names by name or adjective, as entities with every name they
    go by. Codes are left out: "GP" or "IT" in a sentence is seldom Guadeloupe or Italy."""
    found = [(a, b, p) for a, b, p in find_places(text) + find_subplaces(text)
             if not (text[a:b].isupper() and b - a <= 3)]
    return [Entity(p.name, tuple(dict.fromkeys((*p.forms, *p.codes))), "place", text[a:b], p.within)
            for a, b, p in found]


@dataclass
class Source:
    """A passage prepared for checking: units of its own text (sentences and adjacent pairs,
    as document offsets) with their vectors, its terms and figures, and its instruction-like
    sentences kept apart."""

    passage: Passage
    units: list[tuple[int, int]]
    vectors: np.ndarray
    terms: frozenset[str]
    numbers: frozenset[str]
    context: str
    orders: list[tuple[int, int]]
    order_vectors: np.ndarray


def prepare(passages: list[Passage], encode, cited: set[int]) -> list[Source]:
    """Sources for the passages (numbered from 1), all units embedded in one call of `encode`:
    every unit of a cited passage, and the instruction-like sentences of every passage."""
    plans, texts = [], []
    for n, p in enumerate(passages, 1):
        spans = sentence_spans(p.text)
        orders = [s for s in spans if INSTRUCTION.search(p.text[s[0]:s[1]])]
        own = [s for s in spans if s not in orders] if n in cited else []
        units = own + [(a[0], b[1]) for a, b in zip(own, own[1:]) if "\n\n" not in p.text[a[1]:b[0]]]
        plans.append((p, units, orders))
        texts += [p.text[a:b] for a, b in units + orders]
    vectors = encode(texts) if texts else np.zeros((0, 1), dtype="float32")
    out, i = [], 0
    for p, units, orders in plans:
        own_text = " ".join(p.text[a:b] for a, b in units)
        context = " ".join((p.title, p.section))
        out.append(Source(p, [(p.start + a, p.start + b) for a, b in units], vectors[i:i + len(units)],
                          frozenset(terms(own_text + " " + context)), frozenset(numbers_in(own_text)), context,
                          [(p.start + a, p.start + b) for a, b in orders],
                          vectors[i + len(units):i + len(units) + len(orders)]))
        i += len(units) + len(orders)
    return out


@dataclass(frozen=True)
class Support:
    """How far passage n supports a sentence, and the passage span closest to it."""

    n: int
    lexical: float
    similarity: float
    numbers: bool
    places: bool
    start: int
    end: int

    @property
    def ok(self) -> bool:
        return (self.numbers and self.places and self.similarity >= MIN_SIMILARITY and self.lexical >= MIN_LEXICAL
                and self.similarity + self.lexical >= MIN_SUPPORT)

    def to_dict(self) -> dict:
        return {**asdict(self), "lexical": round(self.lexical, 3), "similarity": round(self.similarity, 3),
                "supports": self.ok}


def lexical_share(sentence_terms: list[str], have: frozenset[str]) -> float:
    """Share of the sentence's content terms the passage holds (stemming gaps allowed)."""
    if not sentence_terms:
        return 0.0
    return sum(shares_stem(t, set(have)) for t in sentence_terms) / len(sentence_terms)


def support(text: str, vector: np.ndarray, n: int, source: Source) -> Support:
    """Passage n's support for a sentence (its vector normalised like the passage units')."""
    sims = source.vectors @ vector if len(source.units) else np.zeros(0)
    best = int(np.argmax(sims)) if len(sims) else -1
    whole = source.passage.text + " " + source.context
    numbers = numbers_in(text) <= (source.numbers | numbers_in(source.context))
    places = all(text_mentions(whole, e) for e in places_in(text))
    start, end = source.units[best] if best >= 0 else (source.passage.start, source.passage.start)
    return Support(n, lexical_share(terms(text), source.terms), float(sims[best]) if best >= 0 else 0.0,
                   numbers, places, start, end)


def obeyed(text: str, vector: np.ndarray, sources: list[Source]) -> tuple[int, float] | None:
    """(passage number, similarity) of an instruction-like passage sentence the sentence is closer
    to than to any text of the cited passages, when it is close enough to count as support; else None."""
    best_order, best_n = 0.0, 0
    for n, s in enumerate(sources, 1):
        if len(s.orders):
            top = float((s.order_vectors @ vector).max())
            if top > best_order:
                best_order, best_n = top, n
    if not best_n:
        return None
    legit = max((float((s.vectors @ vector).max()) for s in sources if len(s.units)), default=0.0)
    return (best_n, best_order) if best_order >= MIN_SIMILARITY and best_order > legit else None
