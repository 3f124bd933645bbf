"""The app's API for scripts: named endpoints with named parameters, each returning JSON text.

    import json
    from gradio_client import Client
    answer = json.loads(Client("http://127.0.0.1:7860/").predict("What is integrated care?", api_name="/ask"))

JSON text rather than a dict: gradio_client (2.x, protocol sse_v3) takes any returned dict with
a "path" key for a file to download, and every citation, passage and document has one. No
`from __future__ import annotations` here: Gradio reads the signatures' types at run time.
"""
import dataclasses
import json

import gradio as gr

from careqa.assistant import Assistant
from careqa.errors import CareqaError

ASK_GROUP = "ask"  # the chat and the API share one limit on questions answered at once


def as_json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def register(assistant: Assistant, ask_limit: int, corpus_group: str) -> None:
    """Add the endpoints to the Blocks being built: /ask, /documents, /document, /sections,
    /status and /rebuild (which waits its turn with the app's other corpus changes)."""

    def ask(question: str, k: int | None = None, docs: list[str] | None = None, section: str | None = None,
            history: list[str] | None = None) -> str:
        """Answer a question with cited sentences, or abstain: the same JSON object as
        `careqa ask --json`. `docs` (document ids) and `section` (text in the section path)
        narrow the search; `history` holds the conversation's earlier questions, oldest first."""
        try:
            return as_json(assistant.ask(question, k=k, docs=docs or None, section=section or None,
                                         history=history or None).to_dict())
        except CareqaError as exc:
            raise gr.Error(str(exc)) from None

    def documents() -> str:
        """The indexed documents with their metadata and passage counts."""
        return as_json([d.to_dict() for d in assistant.documents()])

    def document(doc_id: str) -> str:
        """One indexed document: its metadata, full text and headings."""
        try:
            return as_json(assistant.document(doc_id))
        except CareqaError as exc:
            raise gr.Error(str(exc)) from None

    def sections() -> str:
        """Every section path of the index with its number of passages, as [path, count] pairs."""
        return as_json(assistant.sections())

    def status() -> str:
        """What the index's manifest says: version, model, counts, when it was built."""
        return as_json(assistant.status())

    def rebuild() -> str:
        """Bring the index in line with the corpus folder; what was added, changed and removed."""
        try:
            report = assistant.update()
        except CareqaError as exc:
            raise gr.Error(str(exc)) from None
        return as_json({**dataclasses.asdict(report), "summary": report.summary()})

    gr.api(ask, api_name="ask", concurrency_limit=ask_limit, concurrency_id=ASK_GROUP)
    for fn in (documents, document, sections, status):
        gr.api(fn, api_name=fn.__name__)
    gr.api(rebuild, api_name="rebuild", concurrency_limit=1, concurrency_id=corpus_group)
