"""The components of each tab, laid out so the question box, the examples and the sources fit
the first screen of a 1280x720 laptop, and everything stacks without overflow on a phone.

Every component that an API endpoint returns has a label, so `gradio_client` names it.
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from careqa.load import EXTENSIONS

from . import corpus_view, render, viewer
from .style import BRIDGE_JS, DOWNLOAD_JS, SCROLL_JS

SLIDER_MAX_K = 20  # the slider's top unless CAREQA_K is set higher; more passages is no longer one answer


@dataclass
class AskTab:
    turns: gr.State
    conversation: gr.HTML
    question: gr.Textbox
    ask: gr.Button
    chips: gr.HTML
    new: gr.Button
    filters: gr.Accordion
    docs: gr.Dropdown
    section: gr.Dropdown
    k: gr.Slider
    use_llm: gr.Checkbox
    sources: gr.HTML
    viewer: gr.HTML
    passages: gr.HTML
    download: gr.HTML


@dataclass
class CorpusTab:
    summary: gr.HTML
    table: gr.Dataframe
    progress: gr.HTML
    rebuild: gr.Button
    cancel: gr.Button
    result: gr.HTML
    uploads: gr.File
    title: gr.Textbox
    publisher: gr.Textbox
    date: gr.Textbox
    url: gr.Textbox
    replace: gr.Checkbox
    add: gr.Button
    remove_choice: gr.Dropdown
    remove: gr.Button


def header(value: str) -> gr.HTML:
    """careqa's name and the documents it covers (brought up to date as the corpus changes)."""
    return gr.HTML(value, elem_id="header", label="Documents covered")


def model_settings(model: tuple[str, str] | None) -> gr.Checkbox:
    """The configured model and server, shown read-only, and whether it writes the answers.
    Only the server's own settings choose the address: a shared app must never send
    requests wherever a browser user says."""
    if model is not None:
        gr.HTML(f'<p class="model-info">Answers are written by <b>{render.esc(model[0])}</b> at '
                f"<code>{render.esc(model[1])}</code> and checked against the sources; set when careqa "
                "was started (<code>--llm-url</code>, <code>--llm-model</code>).</p>", elem_id="model-info",
                label="Language model")
    return gr.Checkbox(model is not None, label="Write answers with the model", visible=model is not None,
                       elem_id="use-llm")


def ask_tab(default_k: int, empty: str, offered: dict[str, list], max_chars: int,
            model: tuple[str, str] | None = None) -> AskTab:
    """`model` is (name, address) of the configured model server, or None."""
    turns = gr.State([])
    with gr.Row(equal_height=False):
        with gr.Column(scale=6, min_width=300):
            conversation = gr.HTML(empty, elem_id="conversation", label="Conversation", js_on_load=BRIDGE_JS)
            with gr.Row(elem_id="ask-row", equal_height=True):
                question = gr.Textbox(show_label=False, label="Question", scale=8, min_width=160, lines=1,
                                      max_lines=4, autofocus=True, elem_id="question", container=False,
                                      placeholder="Ask a question…", max_length=max_chars)
                ask = gr.Button("Ask", variant="primary", scale=0, min_width=72, elem_id="ask")
            with gr.Row(elem_id="filter-row", equal_height=True):
                chips = gr.HTML(render.chips([], "", default_k, default_k, {}), elem_id="chips",
                                label="Active filters")
                new = gr.Button("New conversation", size="sm", scale=0, min_width=150, elem_id="new")
            # opening it brings the pickers up to date; custom values: the library checks document ids
            with gr.Accordion("Filters and model" if model else "Filters", open=False, elem_id="filters") as filters:
                docs = gr.Dropdown(label="Only these documents", multiselect=True, choices=offered["docs"],
                                   allow_custom_value=True, elem_id="doc-filter")
                section = gr.Dropdown(label="Only this section (type to search)", choices=offered["sections"],
                                      value=None, allow_custom_value=True, filterable=True, elem_id="section-filter")
                k = gr.Slider(1, max(SLIDER_MAX_K, default_k), value=default_k, step=1,
                              label="Passages to search (k)", elem_id="k")
                use_llm = model_settings(model)
        with gr.Column(scale=5, min_width=300):
            sources = gr.HTML(render.sources_panel(None, 0), elem_id="sources", label="Sources")
            view = gr.HTML(viewer.placeholder(), elem_id="viewer", label="Document", js_on_load=SCROLL_JS)
            with gr.Accordion("All retrieved passages, ranked", open=False):
                passages = gr.HTML(render.passages_table(None, 0), elem_id="passages", label="Passages")
    download = gr.HTML(elem_id="download", label="Download", js_on_load=DOWNLOAD_JS)
    return AskTab(turns, conversation, question, ask, chips, new, filters, docs, section, k, use_llm, sources, view,
                  passages, download)


def corpus_tab(upload_mb: float, files: list[str]) -> CorpusTab:
    summary = gr.HTML(elem_id="summary", label="Summary")
    table = gr.Dataframe(headers=corpus_view.COLUMNS, interactive=False,
                         wrap=True, elem_id="documents", label="Documents", show_label=False,
                         column_widths=["26%", "17%", "15%", "8%", "7%", "12%", "15%"])
    with gr.Row(equal_height=False):
        rebuild = gr.Button("Rebuild index", variant="primary", elem_id="rebuild", scale=0, min_width=160)
        progress = gr.HTML(elem_id="progress", label="Progress")
        cancel = gr.Button(corpus_view.CANCEL, variant="stop", elem_id="cancel", scale=0, min_width=140,
                           visible=False)
    result = gr.HTML(elem_id="corpus-log", label="Result")
    with gr.Row(equal_height=False):
        with gr.Column(min_width=280):
            uploads = gr.File(label=f"Add documents ({', '.join(EXTENSIONS)}; up to {upload_mb:g} MB each)",
                              file_count="multiple", type="filepath", height=120, elem_id="uploads")
            with gr.Row():
                title = gr.Textbox("", label="Title (one file)", placeholder="as it should be cited", min_width=200)
                publisher = gr.Textbox("", label="Publisher", min_width=200)
            with gr.Row():
                date = gr.Textbox("", label="Date", placeholder="e.g. 2024-05-01", min_width=120)
                url = gr.Textbox("", label="Web address (one file)", placeholder="https://…", min_width=200)
            replace = gr.Checkbox(label="Replace a file that has the same name", value=False)
            add = gr.Button("Add to corpus", elem_id="add")
        with gr.Column(min_width=280):
            # custom values allowed: the library checks the path, and an API client never saw the page's list
            remove_choice = gr.Dropdown(label="Remove a document from the corpus folder", choices=files, value=None,
                                        allow_custom_value=True, elem_id="remove-choice")
            remove = gr.Button("Remove", variant="stop")
    return CorpusTab(summary, table, progress, rebuild, cancel, result, uploads, title, publisher, date, url,
                     replace, add, remove_choice, remove)


def status_tab() -> tuple[gr.HTML, gr.Button]:
    status = gr.HTML(elem_id="status", label="Index status")
    refresh = gr.Button("Refresh", size="sm", scale=0)
    return status, refresh
