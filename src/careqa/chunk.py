"""Token-aware chunking at sentence boundaries, never across a heading."""
from __future__ import annotations

import re

from .clean import section_paths
from .load import Document
from .records import Chunk
from .sentences import ANAPHOR, sentence_spans
from .tokens import count_tokens


def embedded_text(title: str, chunk: Chunk) -> str:
    """What is embedded and indexed by BM25 for a passage: its document's title and section path
    (a contextual header, never shown as passage text) before its text. Written once: building,
    updating and verifying all call this."""
    header = f"{title}\n{chunk.section}\n" if chunk.section else f"{title}\n"
    return header + chunk.text


def sections(doc: Document) -> list[tuple[str, int, int]]:
    """(section path, body start, body end) for the text before and under each heading."""
    out = []
    paths = section_paths(doc.headings)
    first = doc.headings[0].start if doc.headings else len(doc.text)
    out.append(("", 0, first))
    for i, (h, path) in enumerate(zip(doc.headings, paths)):
        nxt = doc.headings[i + 1].start if i + 1 < len(doc.headings) else len(doc.text)
        out.append((path, h.end, nxt))
    return [(p, a, b) for p, a, b in out if doc.text[a:b].strip()]


def _split_long(text: str, a: int, b: int, limit: int) -> list[tuple[int, int, int]]:
    """A sentence over the limit cut at word boundaries into pieces of at most `limit` tokens."""
    pieces, start, count = [], a, 0
    for m in re.finditer(r"\S+\s*", text[a:b]):
        n = count_tokens(m.group())
        if count + n > limit and count:
            pieces.append((start, a + m.start(), count))
            start, count = a + m.start(), 0
        count += n
    pieces.append((start, b, count))
    return [(x, y - (len(text[x:y]) - len(text[x:y].rstrip())), n) for x, y, n in pieces]


POINTING_BACK = 3  # sentences a chunk's start may move back past "It ..."/"This ..." openers, at most


def chunk_document(doc: Document, target: int, overlap: int) -> list[Chunk]:
    """Chunks of about `target` tokens, consecutive chunks sharing up to `overlap` tokens."""
    chunks: list[Chunk] = []
    for path, a, b in sections(doc):
        units: list[tuple[int, int, int]] = []
        for s, e in sentence_spans(doc.text, a, b):
            n = count_tokens(doc.text[s:e])
            units.extend(_split_long(doc.text, s, e, target) if n > target else [(s, e, n)])
        groups: list[list[tuple[int, int, int]]] = []
        i = 0
        while i < len(units):
            group, size = [], 0
            j = i
            while j < len(units) and (not group or size + units[j][2] <= target):
                group.append(units[j])
                size += units[j][2]
                j += 1
            groups.append(group)
            if j >= len(units):
                break
            back, kept = j, 0
            while back - 1 > i and kept + units[back - 1][2] <= overlap:
                back -= 1
                kept += units[back][2]
            while back - 1 > i and j - back < POINTING_BACK and ANAPHOR.match(doc.text, units[back][0]):
                back -= 1  # "It found that ..." starts no chunk: the sentence it points back to comes with it
            i = back
        if len(groups) > 1 and sum(u[2] for u in groups[-1]) < target // 4:
            tail = [u for u in groups.pop() if u not in groups[-1]]
            groups[-1].extend(tail)
        for group in groups:
            start, end = group[0][0], group[-1][1]
            chunks.append(Chunk(f"{doc.doc_id}#{len(chunks)}", doc.doc_id, path, start, end,
                                doc.text[start:end], sum(u[2] for u in group)))
    return chunks
