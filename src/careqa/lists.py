"""Lists in passages, found by their shape: bulleted or numbered lines, and runs of short
paragraphs (list items or table cells that text extraction left one per paragraph).

A run is introduced by the unit before it ("These include:", "Financial / Enablers  Barriers").
In a two-column table (a header row of two short cells), cells are assigned to columns in
reading order: a row split by a wide gap gives both, a cell starting with a space follows an
empty first cell, otherwise cells alternate. A question naming one column's header ("barriers")
gets that column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .evidence import coverage, flags
from .lexical import shares_stem, terms
from .records import Passage

_MARKER = re.compile(r"[ \t]*(?:[-\u2022\u25aa\u25e6\u00b7*\u2013\uf0b7]|\d{1,2}[.)]|\(?[a-z]\))[ \t]+")
_GAP = re.compile(r"\S(?: {2,}|\t+)(?=\S)")
_COUNT = re.compile(r"\b(\d{1,3}|a dozen|dozen|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                    r"thirteen|fourteen|fifteen|twenty)\s+(?:[\w-]+\s+){0,3}?([a-z-]+s)\b", re.I)
_NUMBERS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBERS.update({"a dozen": 12, "dozen": 12})
MAX_ITEM_WORDS = 40  # a unit longer than this is a paragraph of prose, not a list item
MIN_RUN = 3  # fewer items than this is not a list
MAX_ITEMS = 12  # "up to about ten": a dozen keeps lists the documents number at 12 whole
LABEL_WORDS = 5  # a table's label ("People and relationships") is a few words


@dataclass
class Unit:
    """A bulleted line or a paragraph of a passage: its span in the document and its text."""

    start: int
    end: int
    text: str
    bullet: bool = False
    indented: bool = False
    cells: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Run:
    """A list: its items (document spans), what introduces it, and a count it states."""

    passage: Passage
    items: list[tuple[int, int]]
    intro: str
    columns: list[str] = field(default_factory=list)
    column_of: list[int] = field(default_factory=list)
    stated: str = ""
    label: str = ""  # a table's own label ("Financial") above its header row


def _span(p: Passage, a: int, b: int) -> str:
    """Text of the passage between document offsets a and b (runs and their items lie inside it)."""
    return p.text[a - p.start:b - p.start]


def units(text: str, offset: int) -> list[Unit]:
    """Bulleted lines and blank-line-separated paragraphs of a passage, with document offsets.
    A paragraph's wrapped lines stay one unit; a bullet always starts a new one."""
    out: list[Unit] = []
    pos = 0
    open_unit: Unit | None = None
    for line in text.split("\n"):
        a, pos = pos, pos + len(line) + 1
        if not line.strip():
            open_unit = None
            continue
        marker = _MARKER.match(line)
        ended = open_unit is not None and open_unit.bullet and open_unit.text.endswith((".", "!", "?")) \
            and not line[:1].isspace()  # a finished item is not continued by an unindented line ("WHO Team")
        if open_unit is not None and not marker and not ended:
            open_unit.end = offset + a + len(line.rstrip())
            open_unit.text = text[open_unit.start - offset:open_unit.end - offset]
            continue
        lead = marker.end() if marker else len(line) - len(line.lstrip())
        start = offset + a + lead
        open_unit = Unit(start, offset + a + len(line.rstrip()), line[lead:].rstrip(), bool(marker), lead > 0)
        out.append(open_unit)
    for u in out:
        u.cells = [] if "\n" in u.text else _cells(u.text, u.start)
    return out


def _cells(body: str, start: int) -> list[tuple[int, int]]:
    """The cells of a table row split by a wide gap (each at least two words), else []."""
    cuts = [m.start() + 1 for m in _GAP.finditer(body)]
    if len(cuts) != 1:
        return []
    left, right = body[:cuts[0]].rstrip(), body[cuts[0]:].strip()
    if len(left.split()) < 1 or len(right.split()) < 1:
        return []
    r0 = cuts[0] + (len(body[cuts[0]:]) - len(body[cuts[0]:].lstrip()))
    return [(start, start + len(left)), (start + r0, start + r0 + len(right))]


def _is_header(us: list[Unit], i: int) -> bool:
    """A table's header row: two short cells, right after a short label or at the start."""
    u = us[i]
    if not (len(u.cells) == 2 and all(len(u.text[a - u.start:b - u.start].split()) <= 3 for a, b in u.cells)):
        return False
    return i == 0 or (not us[i - 1].cells and len(us[i - 1].text.split()) <= LABEL_WORDS)


def _short(u: Unit) -> bool:
    return u.bullet or len(u.text.split()) <= MAX_ITEM_WORDS


def runs_in(p: Passage) -> list[Run]:
    """The lists of one passage."""
    us = units(p.text, p.start)
    found: list[Run] = []
    i = 0
    while i < len(us):
        intro_parts: list[str] = []
        header: Unit | None = None
        label = ""
        if i + 1 < len(us) and _is_header(us, i + 1):
            intro_parts, header, label, i = [us[i].text], us[i + 1], us[i].text, i + 2
        elif _is_header(us, i):
            header, i = us[i], i + 1
        elif us[i].text.rstrip().endswith(":") or not _short(us[i]):
            intro_parts, i = [us[i].text], i + 1
        else:
            intro_parts = [_span(p, max(p.start, us[i].start - 200), us[i].start)]
        j = i
        bullets = i < len(us) and us[i].bullet  # a bulleted list ends at its first unbulleted unit
        while j < len(us) and _short(us[j]) and not us[j].text.rstrip().endswith(":") and not (
                j + 1 < len(us) and _is_header(us, j + 1)) and not _is_header(us, j) and us[j].bullet >= bullets:
            j += 1
        if j - i >= MIN_RUN or (header is not None and j > i):
            run = _run(p, us[i:j], " ".join(intro_parts + ([header.text] if header else [])), header)
            run.label = label.strip().splitlines()[-1].strip() if label.strip() else ""
            kept = [k for k, (a, b) in enumerate(run.items) if "reference" not in flags(_span(p, a, b), False, "")]
            run.items = [run.items[k] for k in kept]
            run.column_of = [run.column_of[k] for k in kept] if run.column_of else []
            found.append(run)
        i = max(j, i + 1) if j > i else i + 1
    return found


def _run(p: Passage, items: list[Unit], intro: str, header: Unit | None) -> Run:
    run = Run(p, [], intro)
    m = _COUNT.search(intro)
    if m:
        run.stated = m.group(0)
    if header is None:
        run.items = [(u.start, u.end) for u in items]
        return run
    run.columns = [header.text[a - header.start:b - header.start] for a, b in header.cells]
    last = 1
    for u in items:
        if u.cells:
            run.items += u.cells
            run.column_of += [0, 1]
            last = 1
            continue
        column = 1 if u.indented else (1 if last == 0 else 0)
        run.items.append((u.start, u.end))
        run.column_of.append(column)
        last = column
    return run


def column_asked(run: Run, focus: set[str]) -> int | None:
    """The column whose header the question names ("barriers"), if exactly one is named."""
    named = [i for i, c in enumerate(run.columns) if any(shares_stem(t, focus) for t in terms(c))]
    return named[0] if len(named) == 1 else None


def items_of(run: Run, focus: set[str], pick: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    """The run's items, only the asked column's when the question names one, and only those
    holding a `pick` term when some do ("which of the strategies concern training?")."""
    column = column_asked(run, focus) if run.columns else None
    items = run.items if column is None else [span for span, c in zip(run.items, run.column_of) if c == column]
    picked = [(a, b) for a, b in items if pick and any(shares_stem(t, set(terms(_span(run.passage, a, b)))) for t in pick)]
    return (picked or items)[:MAX_ITEMS]


GENERIC_NOUNS = {"examples", "things", "ways", "types", "forms", "kinds"}  # "what examples of X": X's words decide
LIST_NOUN_BONUS = 0.3  # the run's intro or section names what the question asks a list of
W_INTRO = 0.5  # focus terms in the intro and section weigh as in sentence scoring (W_COVER)
MIN_INTRO = 0.3  # without the asked noun, a list's intro and section must hold this share of the focus


def best_run(stored, passages: list[Passage], analysis, q, weights: dict[str, float]) -> Run | None:
    """The list among the passages that best answers a list question, or None when no list's
    intro, section or items speak of what the question asks for."""
    seen: set[tuple[str, int]] = set()
    best, best_score = None, 0.0
    asked = set(terms(analysis.asked)) if analysis.asked and analysis.asked not in GENERIC_NOUNS else set()
    for p in passages:
        for run in runs_in(p):
            if len(run.items) < MIN_RUN or (p.doc_id, run.items[0][0]) in seen:
                continue
            seen.add((p.doc_id, run.items[0][0]))
            intro_terms, section = set(terms(run.intro)), set(terms(p.section))
            items = set(terms(" ".join(_span(p, a, b) for a, b in run.items)))
            introduced = bool(asked) and any(shares_stem(t, intro_terms) for t in asked)
            named = introduced or bool(asked) and any(shares_stem(t, section | items) for t in asked)
            intro = coverage(intro_terms | section, weights)
            if not named and (asked or intro < MIN_INTRO):
                continue
            _, vectors = stored.sentences(p.doc_id, run.items[0][0], run.items[-1][1])
            sim = float((vectors @ q).max()) if len(vectors) else 0.0
            score = (sim + W_INTRO * (intro + coverage(intro_terms, weights)) / 2
                     + LIST_NOUN_BONUS * (1.0 if introduced else 0.5 if named else 0.0))
            if score > best_score:
                best, best_score = run, score
    return best


def siblings(best: Run, passages: list[Passage], focus: set[str]) -> list[Run]:
    """The tables of the same section shaped like the best one ("Organisational", "Financial",
    ...) when the question asks of them all: its focus names none of their labels. In document
    order; just the best table otherwise."""
    if not best.columns or not best.label:
        return [best]
    plain = focus - set(terms(" ".join(best.columns))) - set(terms(best.passage.section))
    if any(shares_stem(t, set(terms(best.label))) for t in plain):
        return [best]
    found: dict[int, Run] = {}
    for p in passages:
        if p.doc_id == best.passage.doc_id and p.section == best.passage.section:
            for run in runs_in(p):
                if run.columns == best.columns and run.label and run.items:
                    found.setdefault(run.items[0][0], run)
    return [found[k] for k in sorted(found)] or [best]


def list_sentences(run: Run, focus: set[str], number, pick: tuple[str, ...] = ()):
    """The run's items (the asked column's, for a table; the picked ones) as answer sentences of its passage."""
    from .records import AnswerSentence

    p = run.passage
    return [AnswerSentence(_span(p, a, b), number(p), p.doc_id, a, b)
            for a, b in items_of(run, focus, pick)]


def stated_count(text: str) -> tuple[str, int]:
    """A count a sentence states of something plural ("three main medical alliance models"), or ('', 0)."""
    m = _COUNT.search(text)
    if not m:
        return "", 0
    word = m.group(1).lower()
    return m.group(0), int(word) if word.isdigit() else _NUMBERS.get(word, 0)


def enumerated(pool, focus: set[str]):
    """A sentence stating a count of what the question asks about, and the sentences after it
    that name the counted things one each ("There are three models. Hospitals in the X model...
    Those in the Y model..."): (stated count, the item sentences), or ('', [])."""
    for s in sorted(pool, key=lambda s: -s.score):
        stated, n = stated_count(s.text)
        if not 2 <= n <= MAX_ITEMS or not any(shares_stem(t, set(terms(stated))) for t in focus):
            continue
        if re.search(r":\s*\S", s.text[s.text.find(stated) + len(stated):]):
            return "", []  # "three options: a; b; and c": the sentence itself is the list
        following = [x for x in pool if x.passage is s.passage and x.start > s.start and x.paragraph == s.paragraph]
        following.sort(key=lambda x: x.start)
        if len(following) >= n:
            return stated, following[:n]
    return "", []
