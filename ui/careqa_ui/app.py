"""The careqa Gradio app: an analyst's workspace over one Assistant.

Questions are answered several at a time (the Assistant is safe to call from threads); corpus
changes and rebuilds share one concurrency group of their own, one at a time, so a long rebuild
never holds up questions. The app only calls the Assistant.

Uploads land in a folder of careqa's own (readable by this user only, deleted when the process
ends) unless GRADIO_TEMP_DIR names another; guard.py limits what each client may have there.
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
OWN_UPLOADS = "GRADIO_TEMP_DIR" not in os.environ  # read by Gradio when its components are made
if OWN_UPLOADS:
    os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="careqa-uploads-")
    atexit.register(shutil.rmtree, os.environ["GRADIO_TEMP_DIR"], True)

import gradio as gr  # noqa: E402
from gradio.utils import get_upload_folder  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from careqa.assistant import Assistant  # noqa: E402
from careqa.config import Settings  # noqa: E402
from careqa.llm import shown_address  # noqa: E402

from . import api, corpus_view, layout, originals  # noqa: E402
from .asking import AskEvents  # noqa: E402
from .guard import SWEEP_SECONDS, Guard  # noqa: E402
from .managing import CorpusEvents  # noqa: E402
from .style import CSS, theme  # noqa: E402

CORPUS_GROUP = "corpus"
QUEUE_SIZE = 256  # requests waiting beyond this are refused at once rather than left hanging


def wire_ask(tab: layout.AskTab, events: AskEvents, limit: int) -> None:
    """The Ask tab's events; the chat shares the /ask endpoint's concurrency group. The chat's own
    handler (a model's draft, then the answer, as HTML) is callable as /chat but left out of the
    API's documentation: scripts are meant to use /ask."""
    asked = [tab.question, tab.conversation, tab.turns, tab.sources, tab.passages, tab.viewer]
    filters = [tab.turns, tab.docs, tab.section, tab.k, tab.use_llm]
    private = {"api_visibility": "private"}
    asking = {"concurrency_id": api.ASK_GROUP, "concurrency_limit": limit, "show_progress": "minimal"}
    gr.on([tab.ask.click, tab.question.submit], events.ask, [tab.question, *filters], asked, api_name="chat",
          api_visibility="undocumented", **asking)
    tab.conversation.example(events.example, filters, asked, **asking, **private)
    opened = [tab.sources, tab.passages, tab.viewer]
    tab.conversation.cite(events.cite, [tab.turns], opened, show_progress="hidden", **private)
    tab.conversation.full(events.full, [tab.turns], opened, show_progress="hidden", **private)
    tab.conversation.export(events.export, [tab.turns], [tab.download], show_progress="hidden", **private)
    chosen = [tab.docs, tab.section, tab.k, tab.use_llm]
    tab.conversation.unfilter(events.unfilter, chosen, [*chosen, tab.chips], show_progress="hidden", **private)
    gr.on([tab.docs.change, tab.section.change, tab.k.change, tab.use_llm.change], events.chips, chosen, tab.chips,
          show_progress="hidden", **private)
    tab.new.click(events.new_conversation, None, [tab.conversation, tab.turns, tab.sources, tab.passages,
                                                   tab.viewer, *chosen, tab.chips, tab.question], **private)


def wire_corpus(tab: layout.CorpusTab, events: CorpusEvents, views: list) -> None:
    """Adding, removing and rebuilding, one at a time; every view that changes refreshed after."""
    group = {"concurrency_id": CORPUS_GROUP, "concurrency_limit": 1}
    private = {"api_visibility": "private"}
    added = gr.State(False)
    form = [tab.uploads, tab.title, tab.publisher, tab.date, tab.url, tab.replace]
    tab.add.click(events.add, form, [tab.result, added], api_name="add_files", **group) \
        .then(events.after_add, [added], form, **private).then(events.views, None, views, **private)
    tab.remove.click(events.remove, [tab.remove_choice], [tab.result], api_name="remove", **group) \
        .then(events.views, None, views, **private)
    tab.rebuild.click(events.rebuild, None, [tab.progress, tab.result, tab.cancel], show_progress="hidden", **group,
                      **private).then(events.views, None, views, **private)
    # its own group: the corpus group is busy with the rebuild being cancelled
    tab.cancel.click(events.cancel, None, [tab.cancel], concurrency_id="cancel", concurrency_limit=None,
                     show_progress="hidden", **private)


def model_shown(settings: Settings) -> tuple[str, str] | None:
    """The configured model's name and its server's address as the page may show them: scheme,
    host, port and path only (a query string could carry a key); None without a model server."""
    return (settings.llm_model, shown_address(settings.llm_url)) if settings.llm_url else None


def build_app(assistant: Assistant) -> gr.Blocks:
    """The Blocks app over one Assistant; start it with `launch` (theme and CSS live there)."""
    settings = assistant.settings
    asking, managing = AskEvents(assistant), CorpusEvents(assistant)
    docs = managing.documents()
    offered = managing.choices(docs)
    kept = round(60 * settings.upload_minutes)
    with gr.Blocks(title="careqa", analytics_enabled=False, delete_cache=(SWEEP_SECONDS, kept)) as app:
        covered = layout.header(corpus_view.header_html(docs, bool(settings.llm_url)))
        with gr.Tabs():
            with gr.Tab("Ask", id="ask") as ask_item:
                ask_tab = layout.ask_tab(settings.k, asking.empty(), offered, settings.max_question_chars,
                                         model_shown(settings))
            with gr.Tab("Corpus", id="corpus") as corpus_item:
                corpus_tab = layout.corpus_tab(settings.upload_mb, offered["files"])
            with gr.Tab("Status", id="status"):
                status, refresh = layout.status_tab()
        views = [covered, corpus_tab.summary, corpus_tab.table, corpus_tab.remove_choice, ask_tab.docs,
                 ask_tab.section, status]
        api.register(assistant, settings.ui_concurrency, CORPUS_GROUP)  # first, so it gets the plain names
        wire_ask(ask_tab, asking, settings.ui_concurrency)
        wire_corpus(corpus_tab, managing, views)
        refresh.click(managing.views, None, views, api_visibility="private")
        app.load(managing.views, None, views, api_visibility="private")
        # documents added since the page opened (by anyone, anywhere) are offered when looked for
        for looked in (ask_item.select, corpus_item.select, ask_tab.filters.expand):
            looked(managing.views, None, views, api_visibility="private", show_progress="hidden")
        app.load(asking.empty, None, ask_tab.conversation, api_visibility="private")
    return app


def launch(app: gr.Blocks, assistant: Assistant, host: str = "127.0.0.1", port: int = 7860,
           auth: list[tuple[str, str]] | None = None, block: bool = True, quiet: bool = False) -> str:
    """Start the server and add the original-file route; returns its URL (when not blocking).
    Nothing is served from outside Gradio's own files and the corpus documents, uploads above
    twice the corpus limit are cut off early, and guard.py's limits stand in front of it all."""
    settings = assistant.settings
    app.queue(default_concurrency_limit=settings.ui_concurrency, max_size=QUEUE_SIZE)
    limit_mb = max(2 * settings.upload_mb, settings.upload_mb + 5)
    guard = Middleware(Guard, settings=settings, upload_folder=get_upload_folder(), own_folder=OWN_UPLOADS)
    _, url, _ = app.launch(server_name=host, server_port=port, auth=auth, prevent_thread_lock=True,
                           quiet=quiet, share=False, allowed_paths=[], footer_links=[], ssr_mode=False,
                           max_file_size=int(limit_mb * 1024 * 1024), theme=theme(), css=CSS,
                           show_error=True, inbrowser=False, mcp_server=False, pwa=False,
                           app_kwargs={"middleware": [guard]})
    originals.add_route(app, assistant)
    if block:
        app.block_thread()
    return url


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_process(args: list[str], env: dict | None = None, seconds: float = 120) -> tuple[subprocess.Popen, str]:
    """`careqa serve` with `args` in a process of its own on a free local port, returned once it
    answers over HTTP (scripts, benchmarks, tests); RuntimeError with its last words if it stops,
    or if it does not answer within `seconds`."""
    import httpx

    port = free_port()
    log = tempfile.TemporaryFile()  # not a pipe: a server that writes much would block on a full one
    proc = subprocess.Popen([sys.executable, "-m", "careqa", "serve", "--port", str(port), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            httpx.get(url, timeout=2)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"careqa serve stopped: {log.read()[-2000:].decode(errors='replace')}") from None
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"careqa serve did not answer within {seconds:g} s")


def start_local(assistant: Assistant) -> tuple[gr.Blocks, str]:
    """The app over `assistant` on a free local port, not blocking (scripts, benchmarks, tests);
    builds the index first when there is none."""
    report = assistant.ensure_index()
    if report is not None:
        print(report.summary())
    app = build_app(assistant)
    return app, launch(app, assistant, port=free_port(), block=False, quiet=True)


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860,
          auth: list[tuple[str, str]] | None = None, block: bool = True) -> tuple[gr.Blocks, str]:
    """Build the app over the assistant's index, load the model, and start it."""
    if assistant.has_index():
        assistant.embed_query("warm up")
    app = build_app(assistant)
    return app, launch(app, assistant, host, port, auth, block)
