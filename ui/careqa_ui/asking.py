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
DRAFT_SECONDS = 0.15  # a model's draft is repainted at most ~7 times a second: each repaint resends the conversation
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
        self.model = assistant.settings.llm_model if assistant.settings.llm_url else ""

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
    def ask(self, question: str, turns: list[dict], docs: list[str] | None, section: str | None, k: float,
            use_llm: bool):
        """Answer with the earlier questions as history; a model's draft is shown as it is written,
        then replaced by the checked answer. Outputs: box, conversation, turns, sources, passages, viewer."""
        if not (question or "").strip():
            raise gr.Error("Type a question first.")
        history = [t.get("rewritten") or t["question"] for t in turns]
        writing, titles, keep = bool(self.model and use_llm), self.titles(), (gr.skip(),) * 4
        if writing:  # the question leaves the box at once: a model can take a while to start
            yield "", render.conversation(turns, [], titles, (question, "")), gr.skip(), \
                render.sources_panel(None, 0), gr.skip(), gr.skip()
        draft, painted = "", 0.0
        try:
            for item in self.assistant.ask_stream(question, k=int(k), docs=docs or None, section=section or None,
                                                  history=history, use_llm=writing):
                if isinstance(item, str):
                    draft += item
                    if time.monotonic() - painted >= DRAFT_SECONDS:
                        painted = time.monotonic()
                        yield gr.skip(), render.conversation(turns, [], titles, (question, draft)), *keep
                else:
                    answer = item.to_dict()
        except CareqaError as exc:
            if writing:  # the question goes back in the box, the draft away
                yield question, render.conversation(turns, [] if turns else self.examples(), titles), *keep
            raise gr.Error(str(exc)) from None
        turns = (turns + [answer])[-MAX_TURNS:]
        turn = len(turns) - 1
        yield (gr.skip() if writing else "", render.conversation(turns, [], titles), turns,
               render.sources_panel(answer, turn), render.passages_table(answer, turn), viewer.placeholder())

    def example(self, turns: list[dict], docs: list[str] | None, section: str | None, k: float, use_llm: bool,
                evt: gr.EventData):
        """An example question clicked: asked at once, as if typed."""
        yield from self.ask(event_ref(evt), turns, docs, section, k, use_llm)

    def new_conversation(self):
        """Outputs: conversation, turns, sources, passages, viewer, docs, section, k, use_llm, chips, box."""
        on = bool(self.model)
        return (self.empty(), [], render.sources_panel(None, 0), render.passages_table(None, 0),
                viewer.placeholder(), [], None, self.default_k, on, self.chips([], None, self.default_k, on), "")

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
        current = sentence_span(answer, sentence, n) if kind == "c" else None
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
    def chips(self, docs: list[str] | None, section: str | None, k: float, use_llm: bool) -> str:
        off = bool(self.model) and not use_llm
        titles = self.titles() if docs else {}  # read only when a document chip needs its title
        return render.chips(docs or [], section or "", int(k), self.default_k, titles, off)

    def unfilter(self, docs: list[str] | None, section: str | None, k: float, use_llm: bool, evt: gr.EventData):
        """A chip's × clicked: that filter removed; outputs: docs, section, k, use_llm, chips."""
        kind, _, value = event_ref(evt).partition(":")
        docs = [d for d in docs or [] if not (kind == "doc" and d == value)]
        section = None if kind == "section" else section
        k = self.default_k if kind == "k" else k
        use_llm = use_llm or kind == "model"
        return docs, section, k, use_llm, self.chips(docs, section, k, use_llm)


def sentence_span(answer: dict, index: int | None, n: int) -> tuple[int, int] | None:
    """Where sentence `index` of the answer stands in citation n: its own span, or, for a further
    citation of a model's sentence, the span the check found supporting it in that passage."""
    sentences = answer["sentences"]
    if index is None or index >= len(sentences):
        return None
    s = sentences[index]
    if s["n"] == n:
        return s["start"], s["end"]
    for v in (answer.get("llm") or {}).get("sentences", []):
        if v["text"] == s["text"] and n in v.get("shown", []):
            given = v["kept"][v["shown"].index(n)]
            return next(((f["start"], f["end"]) for f in v["support"] if f["n"] == given), None)
    return None


def pick(answer: dict, kind: str, n: int) -> tuple[dict, list[list[int]]] | None:
    """The cited passage n (with its quoted sentences) or the retrieved passage of rank n."""
    if kind == "c":
        return next(((c, c["highlights"]) for c in answer["citations"] if c["n"] == n), None)
    for p in answer["passages"]:
        if p["rank"] == n:
            cited = next((c for c in answer["citations"] if c["chunk_id"] == p["chunk_id"]), None)
            return p, cited["highlights"] if cited else []
    return None
