"""Composing an answer from scored sentences, by kind: a paragraph of the best sentences, a
paragraph per compared entity, a list of items, the entity a which-question asks for.

Every sentence stays a verbatim span of its passage. What is added around them is a lead (the
entity a sentence is about when only its section says so: "Portugal: ...") and plain notes
saying what the documents lack.
"""
from __future__ import annotations

import re

from .aliases import find_places, find_subplaces
from .evidence import Sentence, needs_antecedent
from .question import Analysis, Entity
from .records import AnswerSentence, Block
from .speaks import text_mentions

MAX_SENTENCES = 4  # a paragraph answer longer than this stops being read
MIN_SENTENCES = 2  # below this, a runner-up needs only a lower score to be added
MAX_WITH_ANTECEDENTS = 5  # room for the sentence a "They ..." sentence points back to
PER_ENTITY_SENTENCES = 3  # each side of a comparison: a short paragraph
FIRST_FLOOR = 0.7  # a second sentence within 70% of the best one's score is close enough ...
LATER_FLOOR = 0.8  # ... later ones must be within 80%
NOVELTY = 0.3  # bonus for a runner-up holding question terms the answer lacks so far
SAME_PARAGRAPH = 0.15  # a runner-up from a chosen sentence's paragraph continues its thought
MIN_RUNNER_UP = 0.35  # a runner-up must itself relate to the question (cosine + W_COVER x coverage),
# unless it continues a chosen sentence on the same line: it carries that sentence's specifics
MIN_CARRIED = 0.25  # ... but it must still relate a little: "In Sweden, condition-specific care pathways ..." after a
# pooled-budgets sentence does not (a list intro ending in ":" is exempt: its items carry it)
DUPLICATE = 0.9  # sentence vectors this similar say the same thing twice
PLACE_NOUNS = re.compile(r"countr|nation|state|province|region|cit|municipal|count|territor")
BODY_NOUNS = re.compile(r"bod|organi[sz]ation|agenc|board|council|authorit|department|ministr|institution|trust|"
                        r"government|municipalit|region|insurer|commission")  # "which body": a sentence naming one


def select(pool: list[Sentence], focus: set[str], limit: int = MAX_SENTENCES,
           result: bool = False) -> list[Sentence]:
    """The best sentence plus close runners-up, near-duplicates dropped; among runners-up, one
    covering question terms not covered yet goes first ("X versus Y" gets both). With `result`
    (the question asks for results), a sentence reporting one from a chosen sentence's passage
    takes the last place if none of the chosen reports one."""
    pool = [s for s in pool if s.quotable and (not needs_antecedent(s) or _antecedent(s))]
    if not pool:
        return []
    best = max(pool, key=lambda s: s.score)
    chosen, covered = [best], set(best.words)
    rest = [s for s in pool if s is not best]
    carried = lambda s: s.previous in chosen and (s.relevance >= MIN_CARRIED or s.text.endswith(":"))  # noqa: E731
    while rest and len(chosen) < limit:
        floor = (LATER_FLOOR if len(chosen) >= MIN_SENTENCES else FIRST_FLOOR) * best.score
        paragraphs = {c.paragraph for c in chosen}
        bonus = {id(s): SAME_PARAGRAPH if s.paragraph in paragraphs else 0.0 for s in rest}
        rest = [s for s in rest if s.score + bonus[id(s)] >= floor and (s.relevance >= MIN_RUNNER_UP or carried(s))
                and not any(float(s.vector @ c.vector) > DUPLICATE for c in chosen)]
        if not rest:
            break
        pick = max(rest, key=lambda s: s.score + bonus[id(s)]
                   + NOVELTY * len((focus & s.words) - covered) / max(len(focus), 1))
        chosen.append(pick)
        covered |= pick.words
        rest.remove(pick)
    if result:
        chosen = with_result(chosen, pool, limit)
    return with_antecedents(chosen)


def with_result(chosen: list[Sentence], pool: list[Sentence], limit: int) -> list[Sentence]:
    """The chosen sentences with the best result-reporting sentence of their passages in the last
    place, when none of them reports a result: sentences that only name a scheme say nothing of
    how it did."""
    if any(s.result for s in chosen):
        return chosen
    passages = {s.passage.chunk_id for s in chosen}
    found = [s for s in pool if s.result and s.passage.chunk_id in passages and s not in chosen]
    if not found:
        return chosen
    return chosen[:limit - 1] + [max(found, key=lambda s: s.score)]


def _antecedent(s: Sentence) -> Sentence | None:
    """The quotable sentence before an anaphoric one in the same passage: on its line, or the
    last of the paragraph before when it opens a paragraph ("This is easier said than done")."""
    prev = s.previous or s.before
    return prev if prev is not None and prev.quotable else None


def with_antecedents(chosen: list[Sentence]) -> list[Sentence]:
    """Each sentence opening with "It"/"They"/"These" brings the sentence before it, so the
    answer never talks about an unnamed thing; without room for it, the sentence goes."""
    out = list(chosen)
    for s in chosen:
        if not needs_antecedent(s):
            continue
        prev = _antecedent(s)
        if prev is None or (prev not in out and len(out) >= MAX_WITH_ANTECEDENTS):
            out.remove(s)
        elif prev not in out:
            out.append(prev)
    return out


def in_reading_order(chosen: list[Sentence]) -> list[Sentence]:
    """By cited passage (best first), then in text order within a passage."""
    best: dict[str, float] = {}
    for s in chosen:
        best[s.passage.chunk_id] = max(best.get(s.passage.chunk_id, -9.0), s.score)
    return sorted(chosen, key=lambda s: (-best[s.passage.chunk_id], s.passage.chunk_id, s.start))


def lead_for(s: Sentence, analysis: Analysis) -> str:
    """The entity the sentence is about when only its section says so: for "which country"
    questions the place its section names, else a place or name the question asks about."""
    own = {e.name for e in analysis.places}
    if analysis.kind == "which-entity" and PLACE_NOUNS.match(analysis.asked or "") and not _other_places(s.text, own):
        for heading in reversed(s.passage.section.split(" > ")):
            found = _other_places(heading, own)
            if found:
                return found[-1]
    for e in analysis.entities:
        if text_mentions(s.passage.section, e):
            return "" if text_mentions(s.text, e) else e.name
    return ""


def _other_places(text: str, own: set[str]) -> list[str]:
    return [p.name for _, _, p in find_places(text) + find_subplaces(text) if p.name not in own]


def place_of(text: str) -> str:
    """The last place a heading path or title names ('... > Portugal' -> 'Portugal'), or ''."""
    found = find_places(text)
    return found[-1][2].name if found else ""


def sentences_of(chosen: list[Sentence], analysis: Analysis, number, heading: str = "") -> list[AnswerSentence]:
    """Answer sentences with citation numbers, leads only where they change (and never the
    block's own heading)."""
    out, previous = [], heading
    for s in chosen:
        lead = lead_for(s, analysis)
        shown, previous = ("" if lead == previous else lead), lead
        out.append(AnswerSentence(s.text, number(s.passage), s.passage.doc_id, s.start, s.end, shown))
    return out


def paragraph(pool: list[Sentence], analysis: Analysis, number) -> Block | None:
    """The default answer: the best sentences, in reading order."""
    chosen = select(pool, set(analysis.focus), result=analysis.wants_results)
    if not chosen:
        return None
    return Block(sentences_of(in_reading_order(chosen), analysis, number))


def names_a_body(block: Block, analysis: Analysis) -> bool:
    """For "which body" questions: whether a quoted sentence names something (a capitalised word
    after its first, an acronym, or a word for a body: "the municipalities") that neither the
    question nor its entities' other names hold: a sentence about the thing asked of that names
    nobody does not say which body."""
    said = " ".join([analysis.question, *(a for e in analysis.entities for a in e.aliases)])
    asked = {w.lower().rstrip("s") for w in re.findall(r"[\w'’-]+", said)}
    for s in block.sentences:
        words = re.findall(r"[\w'’-]+", s.text)
        if any(w[0].isupper() and w.lower().rstrip("s") not in asked for w in words[1:]):
            return True
        if any(BODY_NOUNS.match(w.lower()) and w.lower().rstrip("s") not in asked for w in words):
            return True  # "The municipalities are responsible ...", "a levy on hospital trusts"
    return False


def names_the_asked_place(block: Block, analysis: Analysis) -> bool:
    """For "which country" questions: whether the answer names a place beyond those the
    question itself names, in a quoted sentence or in the lead its section gives."""
    own = {e.name for e in analysis.places}
    for s in block.sentences:
        if s.lead and s.lead not in own:
            return True
        if _other_places(s.text, own):
            return True
    return False


def comparison(by_entity: dict[Entity, list[Sentence]], analysis: Analysis, number, known) -> list[Block]:
    """A short paragraph per compared entity; a plain note for an entity the documents lack."""
    blocks, used = [], set()
    for entity, pool in by_entity.items():
        pool = [s for s in pool if id(s) not in used]
        chosen = select(pool, set(analysis.focus), PER_ENTITY_SENTENCES, analysis.wants_results)
        used.update(id(s) for s in chosen)
        if chosen:
            blocks.append(Block(sentences_of(in_reading_order(chosen), analysis, number, entity.name),
                                heading=entity.name))
        elif known(entity):
            blocks.append(Block([], heading=entity.name,
                                note=f"The documents say nothing about {entity.name} on this."))
        else:
            blocks.append(Block([], heading=entity.name, note=f"The documents never mention {entity.name}."))
    return blocks
