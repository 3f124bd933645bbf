"""Sentence spans: where chunks may break and what an answer quotes verbatim."""
from __future__ import annotations

import re

_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "cf", "al", "dr", "mr", "mrs", "ms", "prof", "st", "no", "nos",
    "fig", "figs", "vol", "p", "pp", "ed", "eds", "approx", "inc", "ltd", "co", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "ca",
}
# a sentence opening by pointing back ("It found that ..."): it needs the sentence before it
ANAPHOR = re.compile(r"(?:They|It|Its|Their|Theirs|These|This|Those|Such|He|She|His|Her|Under this|The latter|"
                     r"The former|Both|Neither)\b")
_LIST_LINE = re.compile(r"[ \t]*(?:\n|[-\u2022\u25aa\u25e6\u00b7*\u2013\uf0b7][ \t]|\d{1,2}[.)][ \t]|$)")  # blank or a new item
_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)|\n")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at `dot` ends an abbreviation or an initial rather than a sentence."""
    m = re.search(r"([A-Za-z][A-Za-z.]*)$", text[max(0, dot - 12):dot])
    if not m:
        return False
    word = m.group(1).lower().rstrip(".")
    return word in _ABBREVIATIONS or (len(word) == 1 and m.group(1)[0].isupper())


def _ends_in_comma(text: str, start: int, at: int) -> bool:
    """True when the last character before `at` (and after `start`) but spaces and tabs is a comma."""
    i = at - 1
    while i >= start and text[i] in " \t":
        i -= 1
    return i >= start and text[i] == ","


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in text[start:end], trimmed of surrounding space.

    A sentence ends at . ! ? followed by space and a capital, digit or quote (not after an
    abbreviation or initial), and at every line break: cleaning has already joined the lines
    an extractor wrapped, so a line break left is a real one (list item, heading, metadata).
    Only a line ending in a comma goes on to the next (a list of names one per line).
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cur = start
    for m in _END.finditer(text, start, end):
        stop = m.end()
        if text[m.start()] == "\n" and _ends_in_comma(text, start, m.start()) and not _LIST_LINE.match(text, stop, end):
            continue  # "Verena Struckmann,\nNathan Shuftan,": a line ending in a comma goes on
        if text[m.start()] in ".!?\u2026":
            rest = text[stop:end].lstrip()
            if rest and not (rest[0].isupper() or rest[0].isdigit() or rest[0] in "\"'\u201c\u2018(["):
                continue
            if text[m.start()] == "." and _is_abbreviation(text, m.start()):
                continue
        spans.append((cur, stop))
        cur = stop
    spans.append((cur, end))
    out = []
    for a, b in spans:
        seg = text[a:b]
        a2 = a + len(seg) - len(seg.lstrip())
        b2 = b - (len(seg) - len(seg.rstrip()))
        if b2 > a2:
            out.append((a2, b2))
    return out
