"""The Ask tab's events: asking (with the conversation's history), opening a source in its
document, exporting an answer, and the filters. Every call goes through the Assistant."""
from __future__ import annotations

import base64
import re
import time

import gradio as gr

from careqa.assistant import Assistant
from careqa.errors import CareqaError
from careqa.export import to_docx, to_markdown

from . import render, viewer
from .render import esc

MAX_TURNS = 40  # older turns leave the page, so each update of the conversation stays small
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_EXPORT = re.compile(r"(\d+)-(md|docx)")


def event_ref(evt: gr.EventData | None) -> str:
    """The `ref` a clicked button sent with its event ('' when there is none)."""
    return str(getattr(evt, "ref", "") or "") if evt is not None else ""


class AskEvents:
    """Handlers of the Ask tab over one Assistant; the conversation lives in a gr.State list."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.default_k = assistant.settings.k

    def titles(self) -> dict[str, str]:
        try:
            return {d.doc_id: d.title for d in self.assistant.documents()}
        except CareqaError:
            return {}

    def examples(self) -> list[str]:
        try:
            return self.assistant.examples()
        except CareqaError:
            return []

    def empty(self) -> str:
        return render.conversation([], self.examples(), {})

    # --- asking ---------------------------------------------------------------------------
    def ask(self, question: str, turns: list[dict], docs: list[str] | None, section: str | None, k: float):
        """Answer with the earlier questions as history; outputs: box, conversation, turns,
        sources, passages, viewer."""
        if not (question or "").strip():
            raise gr.Error("Type a question first.")
        history = [t.get("rewritten") or t["question"] for t in turns]
        try:
            answer = self.assistant.ask(question, k=int(k), docs=docs or None, section=section or None,
                                        history=history).to_dict()
        except CareqaError as exc:
            raise gr.Error(str(exc)) from None
        turns = (turns + [answer])[-MAX_TURNS:]
        turn = len(turns) - 1
        return ("", render.conversation(turns, [], self.titles()), turns, render.sources_panel(answer, turn),
                render.passages_table(answer, turn), viewer.placeholder())

    def example(self, turns: list[dict], docs: list[str] | None, section: str | None, k: float,
                evt: gr.EventData):
        """An example question clicked: asked at once, as if typed."""
        return self.ask(event_ref(evt), turns, docs, section, k)

    def new_conversation(self):
        """Outputs: conversation, turns, sources, passages, viewer, docs, section, k, chips, box."""
        return (self.empty(), [], render.sources_panel(None, 0), render.passages_table(None, 0),
                viewer.placeholder(), [], None, self.default_k, self.chips([], None, self.default_k), "")

    # --- sources ----------------------------------------------------------------------------
    def cite(self, turns: list[dict], evt: gr.EventData):
        """A [n], a source card or a ranked passage clicked; outputs: sources, passages, viewer."""
        return self._open(turns, event_ref(evt), full=False)

    def full(self, turns: list[dict], evt: gr.EventData):
        """'Open full document': the whole text, the clicked sentence in view."""
        return self._open(turns, event_ref(evt), full=True)

    def _open(self, turns: list[dict], target: str, full: bool):
        parsed = render.parse_ref(target)
        if parsed is None or parsed[0] >= len(turns):
            return gr.skip(), gr.skip(), gr.skip()
        turn, kind, n, sentence = parsed
        answer = turns[turn]
        found = pick(answer, kind, n)
        if found is None:
            return gr.skip(), gr.skip(), gr.skip()
        passage, highlights = found
        sentences = answer["sentences"]
        current = None
        if sentence is not None and sentence < len(sentences) and sentences[sentence]["n"] == n:
            current = (sentences[sentence]["start"], sentences[sentence]["end"])
        try:
            doc = self.assistant.document(passage["doc_id"])
        except CareqaError:
            doc = None
        label = f"Source {n} · answer {turn + 1}" if kind == "c" else f"Passage ranked {n} · answer {turn + 1}"
        return (render.sources_panel(answer, turn, target), render.passages_table(answer, turn),
                viewer.viewer(passage, highlights, current, doc, label, target, full))

    # --- export -------------------------------------------------------------------------------
    def export(self, turns: list[dict], evt: gr.EventData) -> str:
        """A download link (data URL) for an answer as .md or .docx; the page clicks it at once."""
        m = _EXPORT.fullmatch(event_ref(evt))
        if m is None or int(m[1]) >= len(turns):
            return gr.skip()
        turn, fmt = int(m[1]), m[2]
        answer = turns[turn]
        data, mime = (to_docx(answer), DOCX_MIME) if fmt == "docx" else (to_markdown(answer).encode(), "text/markdown")
        name = f"careqa-answer-{turn + 1}.{fmt}"
        href = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        return (f'<a class="download" download="{esc(name)}" href="{href}" data-at="{time.time_ns()}">'
                f"Download {esc(name)} again</a>")

    # --- filters ------------------------------------------------------------------------------
    def chips(self, docs: list[str] | None, section: str | None, k: float) -> str:
        return render.chips(docs or [], section or "", int(k), self.default_k, self.titles())

    def unfilter(self, docs: list[str] | None, section: str | None, k: float, evt: gr.EventData):
        """A chip's × clicked: that filter removed; outputs: docs, section, k, chips."""
        kind, _, value = event_ref(evt).partition(":")
        docs = [d for d in docs or [] if not (kind == "doc" and d == value)]
        section = None if kind == "section" else section
        k = self.default_k if kind == "k" else k
        return docs, section, k, self.chips(docs, section, k)


def pick(answer: dict, kind: str, n: int) -> tuple[dict, list[list[int]]] | None:
    """The cited passage n (with its quoted sentences) or the retrieved passage of rank n."""
    if kind == "c":
        return next(((c, c["highlights"]) for c in answer["citations"] if c["n"] == n), None)
    for p in answer["passages"]:
        if p["rank"] == n:
            cited = next((c for c in answer["citations"] if c["chunk_id"] == p["chunk_id"]), None)
            return p, cited["highlights"] if cited else []
    return None
