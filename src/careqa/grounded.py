"""Answers written by a language model from careqa's passages, checked before anyone reads them.

careqa never takes the model's word about its sources. Each sentence of the reply must cite a
passage it was given and be supported by it (support.py); sentences that are not are removed,
and citations to passages that do not support a sentence are dropped. The whole reply is set
aside for careqa's own extractive answer, with the reason, when too little of it is supported,
when it leaves out an entity the question names without saying the passages lack it, when it
follows an instruction written in a document, or when the server fails. While the model writes,
its text streams with citation markers held back: they appear only once checked.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from itertools import zip_longest
from typing import Callable, Iterator

from .gather import Gathered
from .llm import Endpoint, LLMError, chat_stream
from .prompt import build
from .question import Analysis
from .records import Answer, AnswerSentence, Block, Citation, Passage
from .speaks import mentions, text_mentions
from .support import CITATION, Said, Source, Support, obeyed, prepare, split_reply, support

MIN_ACCEPTED = 0.5  # a reply with fewer than half its claims supported is not worth showing, even trimmed
_HELD = re.compile(r"\s*(?:\[[^\]\n]{0,24})?$")
_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.S)  # reasoning models' notes to themselves: not the answer


@dataclass
class Verdict:
    """The check's finding on one sentence of the reply: `verdict` is supported, unsupported,
    uncited, bad-citation, missing (says the passages lack something), heading, or obeyed
    (it follows an instruction a document holds)."""

    said: Said
    verdict: str
    why: str = ""
    kept: tuple[int, ...] = ()
    support: list[Support] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"text": self.said.text, "cited": list(self.said.cited), "kept": list(self.kept),
                "verdict": self.verdict, "why": self.why, "support": [s.to_dict() for s in self.support]}


class HeldMarkers:
    """The reply's text as it streams, with [n] markers (and a tail that may begin one) held back."""

    def __init__(self):
        self.pending = ""

    def feed(self, piece: str) -> str:
        text = self.pending + piece
        tail = _HELD.search(text)
        self.pending, text = text[tail.start():], text[:tail.start()]
        return CITATION.sub("", text)

    def flush(self) -> str:
        text, self.pending = CITATION.sub("", self.pending), ""
        return text


def passages_for(found: Gathered, analysis: Analysis, extractive: Answer) -> tuple[list[Passage], list[str]]:
    """Passages for the prompt in order of priority (each compared entity's in turn, then those the
    extractive answer cites, then the ranked ones), and the compared entities none was found for."""
    per = [found.by_entity.get(name, []) for name in analysis.compared]
    ordered = [p for row in zip_longest(*per) for p in row if p is not None]
    ordered += [c.passage for c in extractive.citations] + found.passages + found.extra
    unique = list({p.chunk_id: p for p in reversed(ordered)}.values())[::-1]
    return unique, [name for name, got in zip(analysis.compared, per) if not got]


def check(said: list[Said], sources: list[Source], encode: Callable) -> list[Verdict]:
    """A verdict for each sentence of the reply."""
    vectors = encode([s.text for s in said]) if said else []
    out = []
    for s, vector in zip(said, vectors):
        if s.heading:
            out.append(Verdict(s, "heading"))
            continue
        order = obeyed(s.text, vector, sources)
        if order is not None:
            out.append(Verdict(s, "obeyed", f"repeats an instruction written in passage {order[0]}"))
        elif s.missing:
            out.append(Verdict(s, "missing"))
        elif not s.cited:
            out.append(Verdict(s, "uncited", "cites no passage"))
        else:
            out.append(_cited(s, vector, sources))
    return out


def _cited(s: Said, vector, sources: list[Source]) -> Verdict:
    valid = [n for n in s.cited if 1 <= n <= len(sources)]
    found = [support(s.text, vector, n, sources[n - 1]) for n in valid]
    kept = tuple(f.n for f in found if f.ok)
    if kept:
        return Verdict(s, "supported", "", kept, found)
    if not valid:
        return Verdict(s, "bad-citation", f"cites passage {', '.join(map(str, s.cited))}, which was not given "
                                          f"(passages 1-{len(sources)} were)", (), found)
    lacks = "a figure" if not any(f.numbers for f in found) else "a place" if not any(f.places for f in found) \
        else "what it says"
    return Verdict(s, "unsupported", f"the passage it cites does not state {lacks} of it", (), found)


def judge(verdicts: list[Verdict], analysis: Analysis, sources: list[Source]) -> str:
    """Why the reply may not be shown, in plain words; '' when it may."""
    obeying = next((v for v in verdicts if v.verdict == "obeyed"), None)
    if obeying is not None:
        return f"it followed an instruction written in a document ({obeying.why})"
    claims = [v for v in verdicts if v.verdict not in ("heading", "missing")]
    good = [v for v in claims if v.verdict == "supported"]
    if not claims:
        return "it said the passages do not answer the question" if verdicts else "it was empty"
    if not good:
        return "none of its sentences is supported by a passage it cites"
    if len(good) < MIN_ACCEPTED * len(claims):
        return f"only {len(good)} of its {len(claims)} sentences are supported by the passages they cite"
    for entity in analysis.entities:
        if not _covered(entity, good, sources, entity.name in analysis.compared) and not any(
                v.verdict == "missing" and text_mentions(v.said.text, entity) for v in verdicts):
            return f"it says nothing about {entity.said or entity.name}, which the question names, " \
                   f"nor that the passages lack it"
    return ""


def _covered(entity, good: list[Verdict], sources: list[Source], compared: bool) -> bool:
    """A supported sentence names the entity, or cites a passage about it (for a compared
    entity, by its section or title: a passage on one side may mention the other in passing)."""
    for v in good:
        if text_mentions(v.said.text, entity):
            return True
        for n in v.kept:
            p = sources[n - 1].passage
            if (text_mentions(p.section, entity) or text_mentions(p.title, entity)) if compared else mentions(p, entity):
                return True
    return False


def model_answer(endpoint: Endpoint, encode: Callable, question: str, analysis: Analysis, found: Gathered,
                 extractive: Answer, budget: int) -> Iterator[str | Answer]:
    """The model's answer to an analysed question (`found`: the passages careqa's own answer was
    drawn from), streamed then checked; when careqa itself abstains the model is not asked: it
    would have nothing to stand on."""
    if extractive.abstained:
        yield fallback(extractive, {"model": endpoint.model, "url": endpoint.address},
                       "The documents do not answer this, so the model was not asked.")
        return
    passages, missing = passages_for(found, analysis, extractive)
    yield from written(endpoint, encode, question, analysis, passages, missing, extractive, budget)


def written(endpoint: Endpoint, encode: Callable, question: str, analysis: Analysis, passages: list[Passage],
            missing: list[str], extractive: Answer, budget: int) -> Iterator[str | Answer]:
    """The model's draft text as it streams (markers held back), then the checked Answer, or the
    extractive answer with the reason the model's was not used."""
    prompt = build(question, analysis, passages, budget, missing)
    info = {"model": endpoint.model, "url": endpoint.address, "prompt_tokens": prompt.tokens,
            "passages": [{"n": n, "chunk_id": p.chunk_id, "title": p.title, "section": p.section}
                         for n, p in enumerate(prompt.passages, 1)]}
    held, reply, started = HeldMarkers(), [], time.monotonic()
    try:
        for piece in chat_stream(endpoint, prompt.messages):
            reply.append(piece)
            shown = held.feed(piece)
            if shown:
                yield shown
    except LLMError as exc:
        info["seconds"] = round(time.monotonic() - started, 2)
        yield fallback(extractive, info, f"The model was not used: {exc}. careqa's own answer is shown.")
        return
    tail = held.flush()
    if tail:
        yield tail
    info.update(seconds=round(time.monotonic() - started, 2), reply="".join(reply))
    said = split_reply(_THINKING.sub("", info["reply"]))
    sources = prepare(prompt.passages, encode, {n for s in said for n in s.cited})
    verdicts = check(said, sources, encode)
    claims = [v for v in verdicts if v.verdict not in ("heading", "missing")]
    info.update(sentences=[v.to_dict() for v in verdicts],
                accepted=sum(v.verdict == "supported" for v in claims), claims=len(claims))
    reason = judge(verdicts, analysis, sources)
    yield fallback(extractive, info, not_used(reason)) if reason else checked(extractive, info, verdicts, sources)


def fallback(extractive: Answer, info: dict, why: str) -> Answer:
    """careqa's own answer, with the sentence saying why the model's is not shown."""
    return replace(extractive, llm={**info, "used": False, "fallback": why})


def not_used(reason: str) -> str:
    return f"The model's answer was not used: {reason}. careqa's own answer is shown."


def checked(extractive: Answer, info: dict, verdicts: list[Verdict], sources: list[Source]) -> Answer:
    """The reply as shown: supported sentences with the citations that support them, renumbered
    in order of use; statements of what the passages lack; headings over what is kept."""
    shown = [v for v in verdicts if v.verdict in ("supported", "missing", "heading")]
    kept = [v for i, v in enumerate(shown)  # a heading stays only over something kept
            if v.verdict != "heading" or (i + 1 < len(shown) and shown[i + 1].verdict != "heading")]
    numbers: dict[int, int] = {}
    for v in kept:
        for n in v.kept:
            numbers.setdefault(n, len(numbers) + 1)
    text, blocks = _render(kept, numbers, sources)
    spans: dict[int, list[tuple[int, int]]] = {}
    for v in kept:
        for f in v.support:
            if f.n in v.kept:
                spans.setdefault(f.n, []).append((f.start, f.end))
    citations = [Citation(new, sources[old - 1].passage, tuple(dict.fromkeys(spans.get(old, []))))
                 for old, new in numbers.items()]
    removed = sum(v.verdict in ("unsupported", "uncited", "bad-citation") for v in verdicts)
    note = (f"careqa removed {removed} sentence{'s' if removed > 1 else ''} of the model's answer that "
            f"the passages do not support." if removed else "")
    for v in info["sentences"]:
        v["shown"] = [numbers[n] for n in v["kept"]]
    return replace(extractive, text=text, blocks=blocks, citations=citations, llm={**info, "used": True, "note": note})


def _render(kept: list[Verdict], numbers: dict[int, int], sources: list[Source]) -> tuple[str, list[Block]]:
    """The answer text (paragraphs, list lines, headings) and its blocks, one per paragraph."""
    text, blocks, last = "", [], None
    for v in kept:
        s = v.said
        if last is not None:
            text += "\n\n" if s.paragraph != last.paragraph else "\n" if s.line_start or s.item or s.heading else " "
        bare = bool(blocks) and blocks[-1].heading and not blocks[-1].sentences and not blocks[-1].note
        if s.heading or last is None or (s.paragraph != last.paragraph and not bare):
            blocks.append(Block([], heading=s.text.rstrip(":") if s.heading else ""))
        marks = "".join(f"[{numbers[n]}]" for n in v.kept)
        text += ("- " if s.item else "") + s.text + (f" {marks}" if marks else "")
        block = blocks[-1]
        if v.verdict == "missing":
            block.note = " ".join(x for x in (block.note, s.text) if x)
        elif v.verdict == "supported":
            best = max((f for f in v.support if f.ok), key=lambda f: f.similarity)
            block.sentences.append(AnswerSentence(s.text, numbers[best.n], sources[best.n - 1].passage.doc_id,
                                                  best.start, best.end,
                                                  also=tuple(numbers[n] for n in v.kept if n != best.n)))
            if s.item:
                block.style = "list"
        last = s
    return text, blocks
