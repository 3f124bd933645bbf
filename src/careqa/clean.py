"""Cleaning extracted text and finding its headings, keeping offsets exact.

Real extractions carry noise: icon-font junk, bare URL lines, footnote markers glued to words,
PDF hard line breaks mid-sentence (across a page or footnote break too), and control characters
(terminal escape sequences among them) that would act on a reader's terminal. `clean_text`
removes it through a list of edits on the raw text, so every character of the cleaned text maps
back to a position in the raw one.
`find_headings` then finds headings in the cleaned text by their shape, for any document.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property

from .sentences import sentence_spans


@dataclass(frozen=True)
class Heading:
    """A heading: its text, nesting level (1 is outermost) and character span in the text."""

    title: str
    level: float
    start: int
    end: int


@dataclass(frozen=True)
class Cleaned:
    """Cleaned text plus `segments`: (clean_start, raw_start) pairs of runs copied verbatim."""

    text: str
    segments: list[tuple[int, int]]

    def raw_offset(self, pos: int) -> int:
        """Position in the raw text of the cleaned text's character at `pos`."""
        i = bisect.bisect_right(self.segments, (pos, float("inf"))) - 1
        clean_start, raw_start = self.segments[max(i, 0)]
        return raw_start + (pos - clean_start)

    @cached_property
    def _raw_starts(self) -> list[int]:
        return [raw for _, raw in self.segments]

    def clean_offset(self, raw_pos: int) -> int:
        """Position in the cleaned text of the raw text's position `raw_pos` (the start of what
        follows it when that part of the raw text was removed)."""
        i = max(bisect.bisect_right(self._raw_starts, raw_pos) - 1, 0)
        clean_start, raw_start = self.segments[i]
        end = self.segments[i + 1][0] if i + 1 < len(self.segments) else len(self.text)
        return min(clean_start + max(raw_pos - raw_start, 0), end)


# Terminal escape sequences whole (CSI "ESC [ ... m"; OSC "ESC ] ... BEL or ESC \\", up to the end
# of its line at most; two-byte "ESC x"), then any other control character but tab and newline:
# C0, DEL and C1 (U+0080-U+009F, which some terminals obey as 8-bit escapes).
CONTROLS = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[ -~]?)"
                      r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BREAKS = "\x0b\x0c"  # vertical tab and form feed end a line or page: a newline keeps words apart


def without_controls(text: str) -> str:
    """`text` with control characters and escape sequences removed (breaks become newlines):
    what is safe to print on a terminal or to store as a title."""
    return CONTROLS.sub(lambda m: "\n" if m.group() in _BREAKS else "", text)


def shown_name(text: str) -> str:
    """`text` on one line as it can be shown anywhere: characters that are not printable (a
    newline in a file name, a terminal escape) written as escapes such as \\n or \\x1b, so a
    name can never start a report line of its own or act on a terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _control_edits(raw: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), "\n" if m.group() in _BREAKS else "") for m in CONTROLS.finditer(raw)]


def strip_controls(text: str, headings: list[Heading]) -> tuple[str, list[Heading]]:
    """Text extracted from markup (HTML, DOCX) without control characters, its headings moved to
    match; unchanged when it holds none."""
    edits = _control_edits(text)
    if not edits:
        return text, headings
    cleaned = _apply(text, edits)
    moved = [Heading(without_controls(h.title), h.level, cleaned.clean_offset(h.start), cleaned.clean_offset(h.end))
             for h in headings]
    return cleaned.text, [h for h in moved if h.title.strip() and h.end > h.start]


_URL_LINE = re.compile(r"^[ \t]*(?:https?://|www\.)\S+[ \t]*$")
_FOOTNOTE_NUMBER_LINE = re.compile(r"^[ \t]*\d{1,3}[ \t]*$")
_FOOTNOTE_MARK = re.compile(r"(?<=[a-z\u00c0-\u024f\)\u201d\"])\d{1,2}(?=[ \t]*(?:[,.;:)]|\s))")
_GLUED = re.compile(r"[a-z][A-Z]")
_TERMINAL = tuple(".!?:;")
_BULLET = re.compile(r"^[ \t]*(?:[\u2022\u25aa\u25e6\u00b7\uf0b7\u2013*-]|\d{1,2}[.)])[ \t]+")


MIN_JUNK_WORDS = 4  # a shorter line can be a real name in camel case ("NHSWestshire eHealth")
JUNK_SHARE = 0.4  # prose never glues this share of its words together; icon-font residue does


def _is_icon_junk(line: str) -> bool:
    """Icon-font and menu residue: a line whose words are mostly pairs glued without a space,
    a lower-case letter straight before a capital ("ArrowArrow IconLightbulbLightbulb")."""
    words = line.split()
    if len(words) < MIN_JUNK_WORDS:
        return False
    return sum(1 for w in words if _GLUED.search(w)) / len(words) >= JUNK_SHARE


def _wrap_width(lines: list[str]) -> int:
    """The width the extractor wrapped lines at: the 90th percentile of line lengths."""
    lengths = sorted(len(l.rstrip()) for l in lines if l.strip())
    return lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0


def _edits(raw: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) edits on `raw`, sorted and non-overlapping."""
    edits: list[tuple[int, int, str]] = []
    lines = raw.split("\n")
    width = _wrap_width(lines)
    pos = 0
    starts = []
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    dropped = set()
    for i, line in enumerate(lines):
        if _is_icon_junk(line) or _URL_LINE.match(line) or _FOOTNOTE_NUMBER_LINE.match(line):
            dropped.add(i)
            end = min(starts[i] + len(line) + 1, len(raw))
            edits.append((starts[i], end, "\n" if end == len(raw) and not raw.endswith("\n") else ""))
    for i, line in enumerate(lines[:-1]):
        if i in dropped or i + 1 in dropped:
            continue
        nxt = lines[i + 1]
        body = line.rstrip()
        if not body.strip() or not nxt.strip() or len(body) < max(40, 0.6 * width):
            continue
        if _BULLET.match(nxt) or looks_like_heading_line(nxt.strip()):
            continue
        ended_early = len(body) < 0.8 * width
        if body.endswith(_TERMINAL) and ended_early and not nxt.lstrip()[:1].islower():
            continue
        cut_start = starts[i] + len(body)
        cut_end = starts[i + 1] + (len(nxt) - len(nxt.lstrip()))
        joiner = "" if body.endswith("-") and nxt.lstrip()[:1].isalpha() else " "
        edits.append((cut_start, cut_end, joiner))
    edits += _broken_sentences(lines, starts, dropped, width)
    for m in _FOOTNOTE_MARK.finditer(raw):
        edits.append((m.start(), m.end(), ""))
    edits += _control_edits(raw)
    edits.sort(key=lambda e: (e[0], -e[1]))  # of two edits starting together, the wider wins
    merged: list[tuple[int, int, str]] = []
    for e in edits:
        if merged and e[0] < merged[-1][1]:
            continue
        merged.append(e)
    return merged


BREAK_REACH = 6  # lines looked across (blank, a footnote number, a URL) for a sentence's continuation


def _broken_sentences(lines: list[str], starts: list[int], dropped: set[int], width: int) -> list[tuple[int, int, str]]:
    """Joins a sentence a page or footnote break cut in two: a full-width line ending mid-clause
    ("... services in") whose next kept line, past blank lines, footnote numbers and URLs, opens
    in lower case ("each area including ..."). Prose never starts a paragraph in lower case; a
    line ending in ";", "; and" or "; or" is a list item, left alone."""
    edits = []
    for i, line in enumerate(lines):
        body = line.rstrip()
        if i in dropped or len(body) < max(40, 0.6 * width) or body.endswith(_TERMINAL) \
                or re.search(r";\s*(?:and|or)$", body):
            continue
        j = i + 1
        while j < min(len(lines), i + 1 + BREAK_REACH) and (j in dropped or not lines[j].strip()):
            j += 1
        if j == i + 1 or j >= len(lines) or j in dropped or not lines[j].strip():
            continue  # adjacent lines are joined above; nothing kept follows within reach
        nxt = lines[j].lstrip()
        if nxt[:1].islower() and not _BULLET.match(lines[j]) and not _URL_LINE.match(lines[j]):
            edits.append((starts[i] + len(body), starts[j] + len(lines[j]) - len(nxt), " "))
    return edits


def clean_text(raw: str) -> Cleaned:
    """Apply the noise edits to `raw`, recording where each kept run came from."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n") if "\r" in raw else raw
    return _apply(raw, _edits(raw))


def _apply(raw: str, edits: list[tuple[int, int, str]]) -> Cleaned:
    """`raw` with sorted, non-overlapping (start, end, replacement) edits made, and the map back."""
    parts: list[str] = []
    segments: list[tuple[int, int]] = []
    clean_pos = raw_pos = 0
    for start, end, repl in edits:
        if start > raw_pos:
            segments.append((clean_pos, raw_pos))
            parts.append(raw[raw_pos:start])
            clean_pos += start - raw_pos
        if repl:
            segments.append((clean_pos, start))
            parts.append(repl)
            clean_pos += len(repl)
        raw_pos = end
    segments.append((clean_pos, raw_pos))
    parts.append(raw[raw_pos:])
    return Cleaned("".join(parts), segments)


# --- headings -------------------------------------------------------------------------------

_MARKDOWN = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_BULLET_HEADING = re.compile(r"^[\u2022\u25aa\u25e6\u00b7*-][ \t]+([A-Z][^\d|:;.,!?]{1,50})$")
_LABEL = re.compile(r"^[A-Z][A-Z]+(?:[ \t][A-Z]+){0,3}[ \t]*(?::|\u2013|\u2014| - )[ \t]*\S.{0,80}$")


def _caps(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return (
        len(letters) >= 4
        and len(letters) >= 0.6 * len(line.replace(" ", ""))
        and len(line) <= 80
        and sum(c.isupper() for c in letters) / len(letters) >= 0.9
        and not line.endswith((".", ","))
    )


def _question(line: str) -> bool:
    return line.endswith("?") and len(line) <= 120 and len(line.split()) <= 16 and line[:1].isupper()


def heading_style(line: str) -> str | None:
    """The shape of a heading line ("markdown", "label", "caps", "question", "bullet") or None."""
    line = line.strip()
    if not line:
        return None
    if _MARKDOWN.match(line):
        return "markdown"
    if _LABEL.match(line) and not line.endswith(".") and re.search(r"[:\u2013\u2014-].*[A-Za-z]", line):
        return "label"
    if _caps(line):
        return "caps"
    if _question(line):
        return "question"
    if _BULLET_HEADING.match(line):
        return "bullet"
    return None


def looks_like_heading_line(line: str) -> bool:
    """Headings that stand out without blank lines around them (caps and labels)."""
    return heading_style(line) in ("markdown", "label", "caps")


def _heading_title(line: str, style: str) -> str:
    line = line.strip()
    if style == "markdown":
        return _MARKDOWN.match(line).group(2).strip()
    if style == "bullet":
        return _BULLET_HEADING.match(line).group(1).strip()
    return " ".join(line.split())


MAX_INTRO_SENTENCES = 2  # "INTERNATIONAL EXAMPLES" then a sentence saying what follows: an introducer
_FORWARD = re.compile(r"\b(?:following|below|next|this (?:section|part|chapter))\b", re.I)


def _introduces(body: str) -> bool:
    """A heading's body that only says what comes next ("The following section provides ...")."""
    return len(sentence_spans(body)) <= MAX_INTRO_SENTENCES and bool(_FORWARD.search(body))


def find_headings(text: str) -> list[Heading]:
    """Headings found by shape in plain text, with levels from the order styles first appear.

    Question and bullet lines count only when they stand alone between blank lines (lists of
    questions or bullets are content). A caps heading whose body is only a short introduction
    before the next caps heading ("INTERNATIONAL EXAMPLES") becomes the parent of the caps
    headings that follow, until the next such introducer.
    """
    lines = text.split("\n")
    found: list[tuple[str, str, int, int]] = []
    pos = 0
    for i, line in enumerate(lines):
        start = pos
        pos += len(line) + 1
        style = heading_style(line)
        if style is None:
            continue
        if style in ("question", "bullet"):
            before = lines[i - 1].strip() if i > 0 else ""
            after = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if before or after:
                continue
        if style == "markdown":
            level_hint = len(_MARKDOWN.match(line.strip()).group(1))
            style = f"markdown{level_hint}"
        lead = len(line) - len(line.lstrip())
        found.append((style, _heading_title(line, style.rstrip("0123456789")), start + lead, start + len(line.rstrip())))
    order: list[str] = []
    for style, *_ in found:
        if style not in order:
            order.append(style)
    markdown = sorted(s for s in order if s.startswith("markdown"))
    others = [s for s in order if not s.startswith("markdown")]
    rank = {s: i + 1 for i, s in enumerate(markdown + others)}
    headings: list[Heading] = []
    nested = False
    for j, (style, title, start, end) in enumerate(found):
        level = float(rank[style])
        if style == "caps":
            nxt = next((f for f in found[j + 1:] if f[0] == "caps"), None)
            intro = nxt is not None and _introduces(text[end:nxt[2]]) and not any(
                f[0] != "caps" for f in found[j + 1:] if f[2] < nxt[2])
            if intro:
                nested = True
            elif nested:
                level += 0.5
        headings.append(Heading(title, level, start, end))
    return headings


def section_paths(headings: list[Heading]) -> list[str]:
    """For each heading, its full path joined with " > " (outermost first)."""
    stack: list[Heading] = []
    paths = []
    for h in headings:
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        paths.append(" > ".join(x.title for x in stack))
    return paths
