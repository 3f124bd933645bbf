"""Follow-up questions rewritten with what they point back to: "How is it funded?" after
"What is the Better Care Fund?" becomes "How is the Better Care Fund funded?", and "What about
Portugal?" after a question on Germany asks that question of Portugal."""
from __future__ import annotations

import re

from .question import analyse

_POINTER = re.compile(r"\b(it|its|they|them|their|theirs)\b", re.I)
_DEFINITE = re.compile(r"\bthe (evaluation|study|review|pilot|programme|program|scheme|project|reform|plan|fund|"
                       r"initiative|model|policy|act|bill|strategy|agreement|framework|report|consultation)\b"
                       r"(?!\s+(?:of|for|on|in|by)\b)", re.I)
_ABOUT = re.compile(r"^\s*(?:and|but|so)?\s*(?:what|how)\s+about\s+(.+?)\s*\??\s*$|^\s*and\s+(?:in\s+|for\s+)?(.+?)\s*\?\s*$",
                    re.I)
_DEFINITION = re.compile(r"^\s*(?:what|who)\s+(?:is|are|was|were)\s+(.+?)\s*\??\s*$", re.I)
_SAY_ABOUT = re.compile(r"^.*\b(?:say|says|said|tell us|report|write|note)\s+(?:about|on|of)\s+(.+?)\s*\??\s*$", re.I)
# "What was the white paper meant to set out?": the subject is the noun phrase, not what it was meant to do
_VERB_TAIL = re.compile(r"\s+(?:meant|intended|supposed|designed|expected|planned|aimed|used|set up|created|"
                        r"established|introduced|launched|published|proposed)\b.*$", re.I)
_ONES = re.compile(r"\bones\b", re.I)  # "the leading ones": the things the earlier question was about
_NAME = re.compile(r"(?:[A-Z][\w\u2019'&-]*\s+)*(?:[A-Z][\w\u2019'&-]*)(?:\s+\d+)?")


def subject_of(question: str, index) -> str:
    """What an earlier question was about: the thing a definition question asks about, else
    the longest name it holds, else its first place."""
    m = _DEFINITION.match(question) or _SAY_ABOUT.match(question)
    if m and len(m.group(1).split()) <= 10:
        return _VERB_TAIL.sub("", m.group(1))
    analysis = analyse(question, index)
    names = sorted((e.said for e in analysis.entities if e.type != "place"), key=len, reverse=True)
    if names:
        return names[0] if not names[0][:1].islower() else f"the {names[0]}"
    if analysis.entities:
        return analysis.entities[0].said
    first_word = question.split(None, 1)[0] if question.split() else ""
    runs = [r for r in _NAME.findall(question) if r.strip() and r.strip() != first_word]
    return max(runs, key=len).strip() if runs else ""


def rewrite(question: str, history: list[str] | None, index) -> str:
    """The question with what it points back to filled in from the last earlier question; the
    question itself when it stands alone."""
    if not history:
        return question
    previous = history[-1]
    about = _ABOUT.match(question)
    if about:
        new = (about.group(1) or about.group(2)).strip()
        old = analyse(previous, index)
        swap = next((e for e in old.entities if e.type == "place"), None) or next(iter(old.entities), None)
        if swap is not None and swap.said in previous:
            return previous.replace(swap.said, new, 1)
        return f"{previous.rstrip(' ?')} for {new}?"
    if analyse(question, index).entities:
        return question
    subject = subject_of(previous, index)
    if not subject:
        return question
    if _ONES.search(question) and not _POINTER.search(question):
        return _ONES.sub(f"ones of {subject}", question, count=1)
    if not _POINTER.search(question):
        # "What did the evaluation find?" after a question on a programme: the evaluation of it
        definite = _DEFINITE.search(question)
        return question[:definite.end()] + f" of {subject}" + question[definite.end():] if definite else question

    def fill(m: re.Match) -> str:
        word = m.group(1).lower()
        return f"{subject}'s" if word in ("its", "their", "theirs") else subject

    return _POINTER.sub(fill, question, count=1)


def in_context(part: str, first: str, index) -> str:
    """A later part of a compound question ("..., and how far did Hennan think integration had
    got?") read with the first part: its pointers filled in, and when it names someone or
    something but no place, the places the first part names ("... in Northern Ireland?"). A part
    naming nothing ("how common is it elsewhere?") stays as general as it was asked."""
    rewritten = rewrite(part, [first], index)
    own = analyse(rewritten, index).entities
    if not own or any(e.type == "place" for e in own):
        return rewritten
    places = [e.name for e in analyse(first, index).places]
    return f"{rewritten.rstrip(' ?')} in {' and '.join(places)}?" if places else rewritten
