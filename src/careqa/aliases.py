"""Other names for the same thing: place names with their adjectives, and abbreviations.

Places come from a maintained data package (countryinfo: names, demonyms, other spellings,
ISO codes), plus `data/places.toml` for the few places it lacks. Abbreviations are the ones a
document defines itself, "Primary Health Networks (PHNs)", found at index time with the
algorithm of Schwartz and Hearst (2003) and stored with the index.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_EXTRA_PLACES = Path(__file__).with_name("data") / "places.toml"
_PAREN = re.compile(r"\(([^()]{1,12})\)")
_SHORT = re.compile(r"[A-Za-z][A-Za-z0-9&.-]{1,9}")
_WORD = re.compile(r"[\w\u2019'&.-]+")
MAX_LONG_WORDS = 10  # no definition in the corpus runs longer; Schwartz-Hearst cap min(|A|+5, 2|A|)


@dataclass(frozen=True)
class Place:
    """A country or nation: its name and the other ways text refers to it."""

    name: str
    forms: tuple[str, ...]  # matched case-insensitively: name, demonyms, other names
    codes: tuple[str, ...]  # matched only as written in capitals: UK, USA
    within: str = ""  # for a province or state, the country it is part of


def _letters(text: str) -> bool:
    return any(c.isalpha() for c in text)


@lru_cache(maxsize=1)
def _extra_places() -> dict:
    return tomllib.loads(_EXTRA_PLACES.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    """Every place of countryinfo and data/places.toml, with its forms and codes."""
    from countryinfo import all_countries

    out: dict[str, Place] = {}
    # most populous first: a form two places share ("American") names the larger one
    for c in sorted(all_countries(), key=lambda c: -(c.population() or 0)):
        name = c.name()
        if not name:
            continue
        demonyms = [d.strip() for d in (c.demonym() or "").split(",") if d.strip()]
        demonyms += [d + "s" for d in demonyms if not re.search(r"(?:s|sh|ch|ese|x|z)$", d)]  # "Israelis", "Germans"
        alts = [a for a in c.alt_spellings() or [] if _letters(a)]
        codes = tuple(a for a in alts if a.isupper() and len(a) <= 3)
        forms = [name] + demonyms + [re.sub(r"^The ", "", a) for a in alts if a not in codes and a.isascii()]
        out[name] = Place(name, tuple(dict.fromkeys(forms)), codes)
    for name, entry in _extra_places().items():
        known = out.get(name)
        forms = tuple(dict.fromkeys((*(known.forms if known else (name,)), *entry.get("forms", []))))
        out[name] = Place(name, forms, tuple(dict.fromkeys((*(known.codes if known else ()), *entry.get("codes", [])))))
    return tuple(out.values())


@lru_cache(maxsize=1)
def _place_pattern() -> tuple[re.Pattern, dict[str, Place]]:
    by_form: dict[str, Place] = {}
    for p in places():
        for f in p.forms:
            by_form.setdefault(f.lower(), p)
        for code in p.codes:
            by_form.setdefault(code, p)
    forms = sorted(by_form, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(f) for f in forms) + r")(?![\w-])", re.I)
    return pattern, by_form


NOT_AFTER_REACH = 40  # characters looked back for the word before a form: longer than any not_after word


@lru_cache(maxsize=1)
def _not_after() -> dict[str, frozenset[str]]:
    """Words that, straight before a place's added form, make it part of another name ("Latin America")."""
    return {f.lower(): frozenset(e["not_after"]) for e in _extra_places().values() if e.get("not_after")
            for f in e.get("forms", [])}


@lru_cache(maxsize=8192)
def find_places(text: str, defined: frozenset[str] = frozenset()) -> list[tuple[int, int, Place]]:
    """(start, end, place) of each place named in text. A code counts only in capitals and
    when the documents do not define it as something else ("IT" for information technology);
    in mixed-case text a name counts only when capitalised ("turkey" is not Turkey)."""
    pattern, by_form = _place_pattern()
    lowercase_text = text == text.lower()
    found = []
    for m in pattern.finditer(text):
        word = m.group(1)
        if word in by_form and word.isupper() and len(word) <= 3:
            if word in defined:
                continue
            found.append((m.start(), m.end(), by_form[word]))
        elif word.lower() in by_form and (lowercase_text or word[0].isupper()):
            after = _not_after().get(word.lower())
            before = text[max(0, m.start() - NOT_AFTER_REACH):m.start()].split()[-1:] if after else []
            if not (before and before[0] in after):
                found.append((m.start(), m.end(), by_form[word.lower()]))
    return found


MAX_SUBPLACE_WORDS = 4  # "Prince Edward Island", "Friuli-Venezia Giulia": no province name is longer


@lru_cache(maxsize=1)
def _subplaces() -> dict[str, Place]:
    """Provinces and states of countryinfo's countries by name, as written (capitalised)."""
    from countryinfo import all_countries

    by_name = {}
    for c in sorted(all_countries(), key=lambda c: c.population() or 0):
        for n in c.provinces() or []:
            if len(n) > 3 and n[:1].isupper():
                by_name[n] = Place(n, (n,), (), c.name())
    return by_name


_WORDS = re.compile(r"[A-Za-z][\w'.-]*")


def _in_longer_name(words: list, first: int, last: int, text: str) -> bool:
    """True when a capitalised word (not a little word such as "In") runs straight into the
    span on either side: "Vittorio Veneto" names a town, not the region of Veneto."""
    from .lexical import stopwords

    def name_word(j: int) -> bool:
        return 0 <= j < len(words) and words[j].group()[:1].isupper() and words[j].group().lower() not in stopwords()

    before = first > 0 and text[words[first - 1].end():words[first].start()] == " " and name_word(first - 1)
    after = last + 1 < len(words) and text[words[last].end():words[last + 1].start()] == " " and name_word(last + 1)
    return before or after


@lru_cache(maxsize=8192)
def find_subplaces(text: str) -> list[tuple[int, int, Place]]:
    """(start, end, place) of each province or state named in text ("Ontario" in Canada), unless
    it is part of a longer name ("Vittorio Veneto" is a town, not the region of Veneto)."""
    by_name = _subplaces()
    words = list(_WORDS.finditer(text))
    found, i = [], 0
    while i < len(words):
        for n in range(min(MAX_SUBPLACE_WORDS, len(words) - i), 0, -1):
            a, b = words[i].start(), words[i + n - 1].end()
            place = by_name.get(text[a:b])
            if place and not _in_longer_name(words, i, i + n - 1, text):
                found.append((a, b, place))
                i += n - 1
                break
        i += 1
    return found


def place_named(name: str) -> Place | None:
    """The place a name, adjective or code refers to, or None."""
    hits = find_places(name)
    return hits[0][2] if len(hits) == 1 and hits[0][1] - hits[0][0] == len(name.strip()) else None


def harvest_abbreviations(text: str) -> dict[str, str]:
    """Abbreviations a text defines, short form -> long form: "disease management programs (DMPs)"
    gives DMPs and DMP -> disease management programs."""
    found: dict[str, str] = {}
    for m in _PAREN.finditer(text):
        short = m.group(1).strip()
        if not _SHORT.fullmatch(short) or not any(c.isupper() for c in short):
            continue
        words = _WORD.findall(text[max(0, m.start() - 160):m.start()])
        long = _long_form(short, words[-min(len(short) + 5, 2 * len(short), MAX_LONG_WORDS):])
        if long:
            found.setdefault(short, long)
            singular = short[:-1] if short.endswith("s") and short[:-1].isupper() else ""
            if singular:
                found.setdefault(singular, long)
    return found


def _initials(letters: list[str], words: list[str]) -> str:
    """The run of words ending before the parenthesis whose initials, minor words aside, are
    the short form's letters ("Organisation for Economic Co-operation and Development")."""
    for n in range(len(letters), min(len(words), 2 * len(letters) + 2) + 1):
        run = words[-n:]
        initials = [w[0].lower() for w in run if not (w.islower() and len(w) <= 3)]
        if initials == letters and not (run[0].islower() and len(run[0]) <= 3):
            return " ".join(run)
    return ""


def _long_form(short: str, words: list[str]) -> str:
    """The long form before "(short)": the words whose initials spell it, else the shortest run
    whose letters spell it in order, the first starting a word (Schwartz and Hearst's rule)."""
    letters = [c.lower() for c in short if c.isalnum()]
    if short.endswith("s") and short[:-1].isupper():
        letters = letters[:-1]
    initials = _initials(letters, words)
    if initials:
        return initials
    text = " ".join(words)
    s, t = len(letters) - 1, len(text) - 1
    while s >= 0:
        c = letters[s]
        while t >= 0 and (text[t].lower() != c or (s == 0 and t > 0 and text[t - 1].isalnum())):
            t -= 1
        if t < 0:
            return ""
        s -= 1
        t -= 1
    start = text.rfind(" ", 0, t + 1) + 1
    long = text[start:].strip(" ,;:-")
    if len(long.split()) < 2 or long.lower() == short.lower():
        return ""
    return long
