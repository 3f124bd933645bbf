"""Typed records passed from the store to the answer to `--json`: what each stage hands the next.

Every record is a plain dataclass with `to_dict()` giving the JSON the CLI prints and the app
renders; nothing downstream reaches into dicts built by hand.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

Progress = Callable[[str, int, int], None]  # (stage, done, total): how builds report progress


def silent(stage: str, done: int, total: int) -> None:
    """A progress callback that shows nothing."""


@dataclass(frozen=True)
class Chunk:
    """A passage as stored: a verbatim span text[start:end] of its document, inside one section."""

    chunk_id: str
    doc_id: str
    section: str
    start: int
    end: int
    text: str
    tokens: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class DocumentFields:
    """What every record about a document carries: its id, file, title and where it came from."""

    doc_id: str
    path: str
    title: str
    publisher: str = ""
    date: str = ""
    url: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class DocumentInfo(DocumentFields):
    """An indexed document's metadata (no text): what lists, filters and citations show."""

    kind: str = ""
    short: str = ""
    chunks: int = 0
    indexed_at: str = ""


@dataclass(frozen=True, kw_only=True)
class Passage(DocumentFields):
    """A retrieved chunk with its document's metadata and its dense, lexical and fused scores."""

    chunk_id: str
    section: str
    text: str
    start: int
    end: int
    score: float
    dense: float
    lexical: float
    rank: int


def section_parts(section: str) -> list[str]:
    """A section path's headings, outermost first ('A > B' -> ['A', 'B'])."""
    return [p.strip() for p in section.split(" > ")] if section else []


def innermost(section: str) -> str:
    """The innermost heading of a section path, or ''."""
    parts = section_parts(section)
    return parts[-1] if parts else ""


@dataclass(frozen=True)
class Citation:
    """A passage an answer cites as [n], with the spans of the sentences quoted from it."""

    n: int
    passage: Passage
    highlights: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict:
        return {"n": self.n, **self.passage.to_dict(), "highlights": [list(h) for h in self.highlights]}


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer: its verbatim text, where it is, which citation it carries, and
    the name it is led by when the sentence itself does not say it ("Portugal").

    In an answer a language model wrote (Answer.llm["used"]), `text` is the model's sentence,
    start/end the span of passage n that supports it most closely, and `also` further
    citations that support it as well."""

    text: str
    n: int
    doc_id: str
    start: int
    end: int
    lead: str = ""
    also: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        out = asdict(self)
        if not self.also:
            del out["also"]  # extractive answers carry one citation a sentence, as before
        return out


@dataclass
class Block:
    """A part of an answer: a paragraph or a list, under a heading for one entity of a
    comparison; `note` says plainly what the documents lack ("... say nothing about Portugal")."""

    sentences: list[AnswerSentence]
    heading: str = ""
    style: str = "paragraph"
    note: str = ""

    def to_dict(self) -> dict:
        return {"heading": self.heading, "style": self.style, "note": self.note,
                "sentences": [s.to_dict() for s in self.sentences]}


@dataclass
class Answer:
    """What `ask` returns: the answer text with [n] markers, its parts, citations and passages.

    `reason` is a plain-language sentence when the answer abstains; internal figures stay in
    `diagnostics`. `rewritten` is the question as answered when a follow-up was rewritten.
    `llm` is set when a model server is configured: the model's reply, the check's verdict on
    each sentence, and whether the answer shown is the model's or, with the reason, careqa's own.
    """

    question: str
    text: str
    abstained: bool
    citations: list[Citation]
    passages: list[Passage]
    blocks: list[Block] = field(default_factory=list)
    reason: str = ""
    kind: str = ""
    rewritten: str = ""
    analysis: dict = field(default_factory=dict)
    filters: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)
    llm: dict = field(default_factory=dict)

    @property
    def sentences(self) -> list[AnswerSentence]:
        return [s for b in self.blocks for s in b.sentences]

    def to_dict(self) -> dict:
        return {"question": self.question, "rewritten": self.rewritten, "answer": self.text,
                "abstained": self.abstained, "reason": self.reason, "kind": self.kind,
                "filters": self.filters, "analysis": self.analysis,
                "blocks": [b.to_dict() for b in self.blocks],
                "sentences": [s.to_dict() for s in self.sentences],
                "citations": [c.to_dict() for c in self.citations],
                "passages": [p.to_dict() for p in self.passages],
                "diagnostics": self.diagnostics, **({"llm": self.llm} if self.llm else {})}
