"""Whether a text speaks of an entity, by any of its names ("Portuguese" and "Portugal" alike)."""
from __future__ import annotations

import re
from functools import lru_cache

from .question import Entity
from .records import Passage


def _alias_pattern(alias: str) -> str:
    """A name as a pattern: words joined by any space or hyphen, a final plural 's' optional."""
    words = re.split(r"[\s\u2010-\u2015-]+", alias.strip())
    if len(words[-1]) > 3 and words[-1].endswith("s") and not words[-1].isupper():
        words[-1] = re.escape(words[-1][:-1]) + "s?"
    else:
        words[-1] = re.escape(words[-1]) + ("s?" if words[-1].isupper() else "")
    return r"[\s\u2010-\u2015-]+".join([re.escape(w) for w in words[:-1]] + [words[-1]])


@lru_cache(maxsize=4096)
def _matcher(aliases: tuple[str, ...]) -> tuple[re.Pattern | None, re.Pattern | None]:
    """(case-insensitive pattern for names, case-sensitive pattern for acronyms and codes)."""
    names = [_alias_pattern(a) for a in aliases if not (a.isupper() and len(a) <= 6)]
    codes = [_alias_pattern(a) for a in aliases if a.isupper() and len(a) <= 6]
    bound = r"(?<![\w-])(?:%s)(?![\w])"
    return (re.compile(bound % "|".join(names), re.I) if names else None,
            re.compile(bound % "|".join(codes)) if codes else None)


def text_mentions(text: str, entity: Entity) -> bool:
    """True when the text names the entity by one of its aliases."""
    return _mentions_text(text, entity.aliases)


@lru_cache(maxsize=65536)
def _mentions_text(text: str, aliases: tuple[str, ...]) -> bool:
    names, codes = _matcher(aliases)
    return bool((names and names.search(text)) or (codes and codes.search(text)))


def mentions(p: Passage, entity: Entity) -> bool:
    """True when the passage, its section path or its document's title names the entity."""
    return any(text_mentions(t, entity) for t in (p.section, p.title, p.text))


def about_other_place(p: Passage, place: Entity) -> bool:
    """True when the passage's section path or title is about some place other than this one
    (a country profile's "> Canada" section): such a passage cannot stand for this place."""
    from .aliases import find_places

    for text in (p.section, p.title):
        named = [found.name for _, _, found in find_places(text)]
        if named and place.name not in named and place.within not in named and not text_mentions(text, place):
            return True
    return False


def grounds(p: Passage, entity: Entity) -> bool:
    """Whether a passage may answer for an entity: it names it, or (for a place) it is not
    about another place (documents about one country seldom repeat its name)."""
    if mentions(p, entity):
        return True
    return entity.type == "place" and not about_other_place(p, entity)
