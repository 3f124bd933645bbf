"""What a question names: places (with their adjectives), abbreviations the documents define
(and their long forms), codes and proper names, each with the forms to look for in passages.

Read once per index version into IndexTables (the documents' metadata words, the abbreviations
defined, each long form's abbreviation), so a question costs a few look-ups however large the
index. Nothing here knows a particular document, place list or question.
"""
from __future__ import annotations

import calendar
import re
import threading
import weakref
from dataclasses import dataclass

from .aliases import find_places, find_subplaces
from .lexical import stopwords, terms
from .references import ReferenceTable

FRAME = {"tell", "describe", "explain", "list", "name", "give", "say", "says", "said", "mean", "meant",
          "stand", "compare", "compared", "comparison", "versus", "vs", "difference", "differences", "differ",
          "please", "much", "many", "kind", "type", "sort", "whose", "according", "roughly", "approximately",
          "documents", "sources"}  # "what do the documents say about X": X is the topic
_CALENDAR = {w.lower() for w in (*calendar.month_name, *calendar.day_name) if w}


@dataclass(frozen=True)
class Entity:
    """Something a question names: a place, an abbreviation, or a proper name (a programme, body,
    fund, case study). `aliases` are the forms to look for in passages, `said` its words."""

    name: str
    aliases: tuple[str, ...]
    type: str
    said: str
    within: str = ""  # for a province or state, its country (a passage about the country may do)


def without(text: str, spans: list[tuple[int, int]], fill: str = " ") -> str:
    """The text with the spans blanked out (offsets kept)."""
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + fill * (b - a) + text[b:]
    return text


_CAPITALISED = re.compile(r"[A-Z][\w\u2019'&-]*")
_CODE = re.compile(r"(?<![\w-])(?:\d+(?:[-\u2013]\d+){2,}|[A-Za-z]+\d+\w*)(?![\w-])")  # "0-7-90-90", "Health2020"
_CONNECTOR = re.compile(r"^\s+(?:of|for|de|the|du|la|et|von|van)\s+$|^\s+$|^-$")
COMMON_NAME_SHARE = 0.08  # a one-word "name" in more passages than this is a topic word ("Health"), not a name
_ACRONYM = re.compile(r"\b[A-Z][A-Z&]{1,6}s?\b")


_TABLES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_TABLES_LOCK = threading.Lock()


@dataclass(frozen=True)
class IndexTables:
    """What analysis looks up in an index, built once per loaded version (not per question): the
    documents' metadata words, the abbreviations defined, and each long form's abbreviation."""

    references: ReferenceTable
    defined: frozenset[str]
    shorts: dict[str, str]
    long_forms: re.Pattern | None = None  # any long form the documents define, in lower or title case


def _either_spelling(form: str) -> str:
    """A pattern for the form in British or American spelling ("organisations"/"organizations")."""
    return re.sub(r"i[sz](?=e|ation|ing)", "i[sz]", re.escape(form))


def _long_form_pattern(shorts: dict[str, str]) -> re.Pattern | None:
    forms = sorted((f for f in shorts if len(f.split()) > 1), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(_either_spelling(f) for f in forms) + r")s?(?![\w-])", re.I) \
        if forms else None


def _spelled(text: str) -> str:
    return re.sub(r"is(?=e|ation|ing)", "iz", text.lower())


def tables(index) -> IndexTables:
    with _TABLES_LOCK:
        found = _TABLES.get(index)
        if found is None:
            abbreviations = index.abbreviations
            shorts = {_spelled(v): k for k, v in abbreviations.items()}
            found = _TABLES[index] = IndexTables(ReferenceTable(index.documents), frozenset(abbreviations), shorts,
                                                 _long_form_pattern(shorts))
        return found


def find_entities(question: str, index) -> tuple[list[Entity], list[tuple[int, int]]]:
    """Places (with their adjectives), abbreviations and proper names a question names, in the
    order it names them (each once), and the character spans they cover."""
    defined = tables(index).defined
    found: list[tuple[int, Entity]] = []
    spans: list[tuple[int, int]] = []
    for a, b, place in sorted(find_places(question, defined) + find_subplaces(question), key=lambda x: x[0]):
        if not any(a < y and x < b for x, y in spans):
            spans.append((a, b))
            found.append((a, Entity(place.name, tuple(dict.fromkeys((*place.forms, *place.codes))), "place",
                                    question[a:b], place.within)))
    for m in _CODE.finditer(question):
        if not any(m.start() < y and x < m.end() for x, y in spans):
            spans.append((m.start(), m.end()))
            found.append((m.start(), Entity(m.group(), (m.group(),), "name", m.group())))
    long_forms = tables(index).long_forms
    for m in long_forms.finditer(question) if long_forms else ():
        # "accountable care organizations": a long form the documents define is its abbreviation too
        if not any(m.start() < y and x < m.end() for x, y in spans):
            spans.append((m.start(), m.end()))
            found.append((m.start(), _named(m.group(), index)))
    common = COMMON_NAME_SHARE * max(index.num_chunks, 1)
    for a, b in _names(without(question, spans, "#")):
        said = question[a:b].strip()
        if " " in said or _ACRONYM.fullmatch(said) or any(index.doc_frequency(t) <= common for t in terms(said)):
            spans.append((a, b))
            found.append((a, _named(said, index)))
    found.sort(key=lambda x: x[0])
    unique: dict[str, Entity] = {}
    for _, e in found:
        unique.setdefault(e.name, e)
    return list(unique.values()), spans


def _named(said: str, index) -> Entity:
    """An abbreviation (with the long form the documents give it) or a proper name (with its
    abbreviation, or the spelling the documents use)."""
    abbreviations = index.abbreviations
    if _ACRONYM.fullmatch(said):
        long = abbreviations.get(said) or abbreviations.get(said.rstrip("s"))
        return Entity(long or said, tuple(dict.fromkeys((said, said.rstrip("s")) + ((long,) if long else ()))),
                      "abbreviation", said)
    shorts = tables(index).shorts
    short = shorts.get(_spelled(said)) or shorts.get(_spelled(said).rstrip("s"))
    variant = spelling_variant(said, index)
    return Entity(said, (said,) + ((short, f"{short}s") if short else ()) + ((variant,) if variant else ()), "name", said)


MIN_VARIANT_LENGTH = 5  # shorter words have too many one-letter neighbours to guess a misspelling ...
MIN_LONE_VARIANT_LENGTH = 8  # ... and a one-word name needs a longer word ("Rovereto", not "Martian")


def _edits(word: str) -> set[str]:
    """Words one deletion, insertion, substitution or transposition away (Norvig's edits1)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b} | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in letters} | {a + c + b for a, b in splits for c in letters})


def spelling_variant(name: str, index) -> str:
    """The name as the documents misspell it ("Vittorio Venteto" for Vittorio Veneto), when a
    word of it never occurs but exactly one word a letter away does; '' otherwise."""
    words = name.split()
    shortest = MIN_VARIANT_LENGTH if len(words) > 1 else MIN_LONE_VARIANT_LENGTH
    for i, word in enumerate(words):
        low = word.lower()
        if len(low) < shortest or not low.isalpha() or any(index.doc_frequency(t) for t in terms(low)):
            continue
        found = {e for e in _edits(low) if (t := terms(e)) and index.doc_frequency(t[0]) > 0}
        if len(found) == 1:
            variant = found.pop()
            return " ".join(words[:i] + [variant[:1].upper() + variant[1:] if word[:1].isupper() else variant]
                            + words[i + 1:])
    return ""


def _names(question: str) -> list[tuple[int, int]]:
    """Spans of proper names: runs of capitalised words joined by 'of', 'for', 'and' when a
    capitalised word follows; the question's first word only when it is possessive or an acronym."""
    stop = stopwords()
    words = [m for m in _CAPITALISED.finditer(question)
             if m.group().lower().rstrip("s") not in stop and m.group().lower() not in stop
             and m.group().lower() not in FRAME]
    words = [m for m in words if m.group().lower() not in _CALENDAR]
    if words and not question[:words[0].start()].strip():
        first = words[0].group()
        if not (re.fullmatch(r"[\w-]+['\u2019]s", first) or _ACRONYM.fullmatch(first)):
            words = words[1:]
    runs: list[list[int]] = []
    for m in words:
        previous = question[runs[-1][0]:runs[-1][1]] if runs else ""
        if runs and _CONNECTOR.match(question[runs[-1][1]:m.start()]) and not _ACRONYM.fullmatch(m.group()) \
                and not _ACRONYM.fullmatch(previous) and not re.search(r"['\u2019]s$", previous):
            runs[-1][1] = m.end()
        else:
            runs.append([m.start(), m.end()])
    out = []
    for a, b in runs:
        text = question[a:b]
        trimmed = re.sub(r"['\u2019]s$|['\u2019\u201d\"]+$", "", text)
        trimmed = re.sub(r"-(?:funded|led|based|run|backed|wide|style|owned|sponsored|supported|managed)$", "", trimmed)
        out.append((a, a + len(trimmed)))  # "NIHR-funded" names NIHR
    return out
