"""The careqa Gradio app: cited answers, their sources in context, and the corpus.

It only calls the careqa library's Assistant. Questions run in the default
concurrency group; corpus changes and rebuilds share one group of their own, one at a time,
so a long rebuild never holds up questions.
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from careqa.assistant import Assistant  # noqa: E402
from careqa.errors import CareqaError  # noqa: E402
from careqa.load import EXTENSIONS  # noqa: E402

from . import render  # noqa: E402
from .style import BRIDGE_JS, CSS, SCROLL_JS, theme  # noqa: E402

EXAMPLES = ["How does Norway incentivise discharge coordination?",
            "What is the Better Care Fund?",
            "What are integrated care systems in England?"]
CORPUS_GROUP = "corpus"


def sentence(message: str) -> str:
    """A library error as a sentence for the page: Markdown-safe, capitalised first letter."""
    return render.md_text(message[:1].upper() + message[1:])


def build_app(assistant: Assistant) -> gr.Blocks:
    """The Blocks app over one Assistant; launch it with `launch` (theme and CSS live there)."""
    settings = assistant.settings

    def indexed_docs() -> list[dict]:
        try:
            return [d.to_dict() for d in assistant.documents()]
        except CareqaError:
            return []

    def titles() -> dict[str, str]:
        return {d["doc_id"]: d["title"] for d in indexed_docs()}

    def messages(turns: list[dict]) -> list[dict]:
        names = titles()
        out = []
        for i, answer in enumerate(turns):
            out.append({"role": "user", "content": render.md_text(answer["question"])})
            out.append({"role": "assistant", "content": render.answer_message(answer, i, names)})
        return out

    def ask(question: str, turns: list[dict], docs: list[str] | None, section: str, k: float):
        if not (question or "").strip():
            raise gr.Error("Type a question first.")
        try:
            answer = assistant.ask(question, k=int(k), docs=docs or None,
                                   section=(section or "").strip() or None).to_dict()
        except CareqaError as exc:
            raise gr.Error(str(exc)) from None
        turns = turns + [answer]
        turn = len(turns) - 1
        return ("", messages(turns), turns, render.sources_panel(answer, turn),
                render.passages_table(answer, turn), render.viewer_placeholder())

    def open_source(turns: list[dict], evt: gr.EventData):
        parsed = render.parse_ref(getattr(evt, "ref", ""))
        if parsed is None or parsed[0] >= len(turns):
            return gr.update(), gr.update(), gr.update()
        turn, kind, n = parsed
        answer = turns[turn]
        found = render.pick(answer, kind, n)
        if found is None:
            return gr.update(), gr.update(), gr.update()
        passage, highlights = found
        try:
            doc = assistant.document(passage["doc_id"])
        except CareqaError:
            doc = None
        label = f"Source {n} · answer {turn + 1}" if kind == "c" else f"Passage ranked {n} · answer {turn + 1}"
        return (render.sources_panel(answer, turn, render.ref(turn, kind, n)),
                render.passages_table(answer, turn), render.viewer(passage, highlights, doc, label))

    def new_conversation():
        return [], [], render.sources_panel(None, 0), render.passages_table(None, 0), render.viewer_placeholder()

    def corpus_state() -> dict:
        """Everything shown that changes when the corpus or the index does."""
        docs = indexed_docs()
        pending, gone = assistant.folder_changes()
        try:
            status = render.status_markdown(assistant.status())
        except CareqaError as exc:
            status = render.status_markdown(None, str(exc))
        return {"summary": render.corpus_summary(docs, pending, gone),
                "rows": [[d["title"], d["path"], d["publisher"], d["date"], d["chunks"],
                          d["indexed_at"][:16].replace("T", " ")]
                         for d in docs],
                "files": sorted({d["path"] for d in docs} - set(gone) | set(pending)),
                "docs": [(d["title"], d["doc_id"]) for d in docs], "status": status}

    def corpus_view():
        state = corpus_state()
        return (state["summary"], state["rows"], gr.update(choices=state["files"], value=None),
                gr.update(choices=state["docs"]), state["status"])

    def add_files(files: list[str] | None, replace: bool):
        if not files:
            raise gr.Error("Choose one or more files to add first.")
        lines = []
        for path in files:
            name = Path(path).name
            try:
                assistant.add_file(Path(path), name, replace=replace)
                lines.append(f"- Added `{render.esc(name)}`.")
            except CareqaError as exc:
                lines.append(f"- {sentence(str(exc))}")
        if any(line.startswith("- Added") for line in lines):
            lines.append("\nRebuild the index to make the new documents answerable.")
        return ("\n".join(lines), None, *corpus_view())

    def remove_file(path: str | None):
        if not path:
            raise gr.Error("Choose a document to remove first.")
        try:
            assistant.remove_document(path)
            message = f"Removed `{render.esc(path)}` from the corpus folder. Rebuild the index to drop it."
        except CareqaError as exc:
            message = sentence(str(exc))
        return (message, *corpus_view())

    def rebuild(progress=gr.Progress()):
        def report(stage: str, done: int, total: int) -> None:
            progress((done, total), desc=stage, unit="items")

        try:
            result = assistant.update(report, notify=gr.Info)
        except CareqaError as exc:
            return (f"**Rebuild failed:** {render.esc(str(exc))}", *corpus_view())
        lines = [f"**Index rebuilt in {result.seconds:.1f} s.**", ""]
        lines += [f"- {render.esc(line)}" for line in result.summary().splitlines()]
        for label, names in (("Added", result.added), ("Changed", result.changed), ("Removed", result.removed)):
            if names and len(names) <= 12:
                lines.append(f"- {label}: " + ", ".join(f"`{render.esc(n)}`" for n in names))
        return ("\n".join(lines), *corpus_view())

    initial = corpus_state()
    with gr.Blocks(title="careqa", analytics_enabled=False) as app:
        turns = gr.State([])
        gr.HTML('<div id="brand"><h1>careqa</h1><p>Cited answers from health and social care '
                "policy documents. Every sentence is quoted from a source you can open.</p></div>")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=6, min_width=420):
                        chat = gr.Chatbot(elem_id="chat", show_label=False, height=500, feedback_options=None,
                                          buttons=["copy"], placeholder="Answers appear here, each sentence "
                                          "with its source.")
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(show_label=False, scale=8, lines=1, max_lines=4, autofocus=True,
                                                  placeholder="Ask a question about the documents…",
                                                  elem_id="question")
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                        with gr.Accordion("Filters · apply to the next question", open=False):
                            with gr.Row():
                                docs = gr.Dropdown(label="Only these documents", multiselect=True, choices=initial["docs"],
                                                   scale=3)
                                section = gr.Textbox(label="Section contains", placeholder="e.g. Norway",
                                                     scale=2)
                            k = gr.Slider(1, 20, value=5, step=1, label="Passages to retrieve (k)")
                        with gr.Row():
                            gr.Examples(EXAMPLES, inputs=question, label="Try")
                            clear = gr.Button("New conversation", variant="secondary", size="sm", scale=0)
                    with gr.Column(scale=5, min_width=360):
                        sources = gr.HTML(render.sources_panel(None, 0), elem_id="sources", js_on_load=BRIDGE_JS)
                        viewer = gr.HTML(render.viewer_placeholder(), elem_id="viewer", js_on_load=SCROLL_JS)
                        with gr.Accordion("All retrieved passages and their scores", open=False):
                            passages = gr.HTML(render.passages_table(None, 0), elem_id="passages")
            with gr.Tab("Corpus", id="corpus"):
                corpus_md = gr.Markdown(initial["summary"])
                table = gr.Dataframe(initial["rows"], headers=["Title", "File", "Publisher", "Date", "Passages", "Indexed"],
                                     interactive=False, wrap=True, elem_id="documents",
                                     column_widths=["420px", "250px", "220px", "90px", "80px", "140px"])
                with gr.Row(equal_height=False):
                    with gr.Column():
                        uploads = gr.File(label=f"Add documents ({', '.join(EXTENSIONS)}; up to "
                                                f"{settings.upload_mb:g} MB each)",
                                          file_count="multiple", type="filepath", height=140)
                        replace = gr.Checkbox(label="Replace files that have the same name", value=False)
                        add_btn = gr.Button("Add to corpus")
                    with gr.Column():
                        remove_choice = gr.Dropdown(label="Remove a document from the corpus folder", choices=initial["files"],
                                                    value=None)
                        remove_btn = gr.Button("Remove", variant="stop")
                        rebuild_btn = gr.Button("Rebuild index", variant="primary", elem_id="rebuild")
                corpus_log = gr.Markdown(elem_id="corpus-log")
            with gr.Tab("Status", id="status"):
                status_md = gr.Markdown(initial["status"])
                refresh_btn = gr.Button("Refresh", size="sm")

        ask_outputs = [question, chat, turns, sources, passages, viewer]
        gr.on([ask_btn.click, question.submit], ask, [question, turns, docs, section, k], ask_outputs,
              api_name="ask", show_progress="minimal")
        sources.cite(open_source, [turns], [sources, passages, viewer], api_visibility="private",
                     show_progress="hidden")
        clear.click(new_conversation, None, [turns, chat, sources, passages, viewer], api_visibility="private")

        view_outputs = [corpus_md, table, remove_choice, docs, status_md]
        group = {"concurrency_id": CORPUS_GROUP, "concurrency_limit": 1}
        add_btn.click(add_files, [uploads, replace], [corpus_log, uploads, *view_outputs], api_name="add_files", **group)
        remove_btn.click(remove_file, [remove_choice], [corpus_log, *view_outputs], api_name="remove", **group)
        rebuild_btn.click(rebuild, None, [corpus_log, *view_outputs], api_name="rebuild", **group)
        refresh_btn.click(corpus_view, None, view_outputs, api_name="refresh")
        app.load(corpus_view, None, view_outputs, api_visibility="private")
    return app


def launch(app: gr.Blocks, upload_mb: float, host: str = "127.0.0.1", port: int = 7860,
           auth: tuple[str, str] | None = None, block: bool = True, quiet: bool = False) -> str:
    """Start the server; returns its URL (when not blocking). Nothing is served from outside
    Gradio's own upload cache, and uploads above twice the corpus limit are cut off early."""
    app.queue(default_concurrency_limit=2, max_size=64)
    limit_mb = max(2 * upload_mb, upload_mb + 5)
    _, url, _ = app.launch(server_name=host, server_port=port, auth=auth, prevent_thread_lock=not block,
                           quiet=quiet, share=False, allowed_paths=[], footer_links=[], ssr_mode=False,
                           max_file_size=int(limit_mb * 1024 * 1024), theme=theme(), css=CSS,
                           show_error=True, inbrowser=False, mcp_server=False, pwa=False)
    return url


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_local(assistant: Assistant) -> tuple[gr.Blocks, str]:
    """The app over `assistant` on a free local port, not blocking (scripts, benchmarks, tests);
    builds the index first when there is none."""
    report = assistant.ensure_index()
    if report is not None:
        print(report.summary())
    app = build_app(assistant)
    return app, launch(app, assistant.settings.upload_mb, port=free_port(), block=False, quiet=True)


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860,
          auth: tuple[str, str] | None = None, block: bool = True) -> tuple[gr.Blocks, str]:
    """Build the app over the assistant's index, load the model, and start it."""
    if assistant.has_index():
        assistant.embed_query("warm up")
    app = build_app(assistant)
    return app, launch(app, assistant.settings.upload_mb, host, port, auth, block)
