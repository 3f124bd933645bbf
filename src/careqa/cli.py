"""The `careqa` command: thin over the library; library errors become one line and exit 1.
What it prints goes through terminal.py, so nothing printed can act on the terminal."""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap

from .clean import shown_name, without_controls
from .config import Settings, env_help
from .errors import CareqaError, IndexCorruptError, IndexMissingError
from .terminal import Bars, Draft, json_text, say as _say, show

EXIT_ERROR = 1
EXIT_PARTIAL = 3  # the work was done, but some files were skipped or some lines could not be answered

EXAMPLES = """examples:
  careqa index build
  careqa ask "How are patients helped home from hospital?"
  careqa ask "What are pooled budgets?" --doc <document id or file name> --json
  careqa ask --jsonl < questions.jsonl
  careqa eval ../shared/eval/questions.jsonl
  careqa serve
"""


def _settings(args) -> Settings:
    return Settings.from_env(corpus_dir=args.corpus, index_root=args.index_dir, index_name=args.index,
                             model=getattr(args, "model", None), k=getattr(args, "k", None),
                             llm_url=getattr(args, "llm_url", None), llm_model=getattr(args, "llm_model", None),
                             llm_timeout=getattr(args, "llm_timeout", None), store=args.store,
                             milvus_uri=args.milvus_uri)


def _assistant(args):
    from .assistant import Assistant

    return Assistant(_settings(args))


def section_below_title(section: str, title: str) -> str:
    """The section path without a top heading the title already says."""
    top, sep, rest = section.partition(" > ")
    return rest if sep and top in title else section


def wrap(text: str, width: int = 100) -> str:
    """Each paragraph and list line wrapped on its own, so lists stay lists."""
    return "\n".join(textwrap.fill(line, width, subsequent_indent="  " if line.startswith("- ") else "")
                     if line.strip() else "" for line in text.splitlines())


def model_line(llm: dict) -> str:
    """What the CLI says about a model's part in an answer, or ''."""
    if not llm:
        return ""
    if not llm.get("used"):
        return f"({llm.get('fallback', '')})"
    note = f" {llm['note']}" if llm.get("note") else ""
    return f"(written by {llm['model']} from the passages below and checked against them.{note})"


def format_answer(result: dict) -> str:
    lines = [wrap(result["answer"]), ""]
    if result.get("llm"):
        lines.insert(0, wrap(model_line(result["llm"])))
    if result.get("rewritten"):
        lines.insert(0, f"(answering: {result['rewritten']})")
    named = (result.get("filters") or {}).get("docs_named") or []
    if named:
        titles = {c["doc_id"]: c["title"] for c in result["citations"] + result["passages"]}
        lines.insert(len(lines) - 1, "(only " + "; ".join(titles.get(d, d) for d in named)
                     + ", which the question names)")
    if result["abstained"]:
        if result.get("reason"):
            lines.insert(len(lines) - 1, f"({result['reason']})")
        lines.append("Closest passages:")
        items = [(p["rank"], p) for p in result["passages"]]
    else:
        lines.append("Sources:")
        items = [(c["n"], c) for c in result["citations"]]
    for n, p in items:
        where = f" \u2014 {section_below_title(p['section'], p['title'])}" if p["section"] else ""
        meta = ", ".join(x for x in (p["publisher"], p["date"]) if x)
        lines.append(f"[{n}] {p['title']}{where}" + (f" ({meta})" if meta else ""))
        snippet = " ".join(p["text"].split())
        lines.append(textwrap.indent(textwrap.fill(snippet[:300] + ("\u2026" if len(snippet) > 300 else ""), 96), "    "))
    return "\n".join(lines)


def read_line(no: int, raw: bytes) -> tuple[object, dict | str]:
    """(id, the request) of one --jsonl input line, or (id, why it cannot be answered)."""
    try:
        item = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return no, f"line {no}: not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        return no, f"line {no}: not valid JSON ({exc})"
    if not isinstance(item, dict):
        return no, f'line {no}: expected a JSON object with a "question" field'
    ident = item.get("id", no)
    question, history = item.get("question"), item.get("history")
    if not isinstance(question, str):
        return ident, f'line {no}: "question" must be a string (got {json.dumps(question)[:40]})'
    if history is not None and not (isinstance(history, list) and all(isinstance(h, str) for h in history)):
        return ident, f'line {no}: "history" must be a list of strings'
    return ident, item


def answer_lines(assistant, args) -> int:
    """--jsonl: one JSON object per input line, in order: the answer, or {"id", "error"} for a
    line that cannot be answered; the rest are answered all the same."""
    failed = total = 0
    for no, raw in enumerate(sys.stdin.buffer, 1):
        if not raw.strip():
            continue
        total += 1
        ident, item = read_line(no, raw)
        if isinstance(item, dict):
            try:
                result = {"id": ident, **assistant.ask(item["question"], docs=args.doc, section=args.section,
                                                       history=item.get("history")).to_dict()}
            except (IndexMissingError, IndexCorruptError):
                raise
            except CareqaError as exc:
                item = f"line {no}: {exc}"
        if isinstance(item, str):
            failed += 1
            result = {"id": ident, "error": item}
        print(json_text(result), flush=True)
    if failed:
        _say(f"careqa: {failed} of {total} lines could not be answered (an error object stands in for each)")
    return EXIT_PARTIAL if failed else 0


def cmd_ask(args) -> int:
    assistant = _assistant(args)
    if args.jsonl:
        return answer_lines(assistant, args)
    if not args.question:
        raise CareqaError("give a question, or --jsonl to read questions from stdin")
    draft = Draft(sys.stdout) if not args.json and args.format != "md" and sys.stdout.isatty() else None
    for item in assistant.ask_stream(" ".join(args.question), docs=args.doc, section=args.section):
        if isinstance(item, str):
            if draft:
                draft.write(item)
            continue
        if draft:
            draft.wipe()
        result = item.to_dict()
    if args.json:
        print(json_text(result, indent=1))
    elif args.format == "md":
        from .export import to_markdown

        print(without_controls(to_markdown(result)), end="")
    else:
        show(format_answer(result))
    return 0


def cmd_build(args) -> int:
    assistant = _assistant(args)
    bars = Bars()
    run = assistant.update if args.index_command == "update" else assistant.build
    try:
        report = run(bars, notify=_say, wait=args.wait)
    finally:
        bars.close()
    show(report.summary())
    return EXIT_PARTIAL if report.skipped else 0


def cmd_verify(args) -> int:
    result = _assistant(args).verify()
    for note in result.notes:
        print(f"note: {shown_name(note)}")
    for problem in result.problems:
        print(f"problem: {shown_name(problem)}")
    if result.checked:
        print(("index OK: " if result.ok else f"{len(result.problems)} problem(s) in ") + result.checked)
    return 0 if result.ok else EXIT_ERROR


def cmd_status(args) -> int:
    status = _assistant(args).status()
    if args.json:
        print(json_text(status, indent=1))
        return 0
    for key in ("index", "version", "embedding_model", "dimension", "documents", "chunks", "built_at"):
        print(f"{key:16} {status[key]}")
    print(f"{'chunker':16} {status['chunker']['target_tokens']} tokens, overlap "
          f"{status['chunker']['overlap_tokens']} ({status['chunker']['encoding']})")
    for s in status["skipped"]:
        print(f"{'skipped':16} {shown_name(s['path'] + ': ' + s['reason'])}")
    return 0


def cmd_eval(args) -> int:
    from .evaluate import evaluate, read_questions

    assistant = _assistant(args)
    figures = evaluate(assistant, read_questions(args.questions), k=assistant.settings.k)
    if args.verbose:
        for row in figures["rows"]:
            print(json_text(row))
    keys = [f"recall@{assistant.settings.k}", "mrr", "cited", "facts", "answered", "abstained_unanswerable"]
    print(f"{'kind':<20} {'questions':>9} " + " ".join(f"{k.replace('abstained_', 'abst_'):>16}" for k in keys))
    rows = [*figures["kinds"].items(), ("all", figures)]
    for name, fig in rows:
        print(f"{name:<20} {fig['questions']:>9} " + " ".join(f"{fig[k]:>16.3f}" for k in keys))
    print(f"warm p50 {figures['p50_ms']:.1f} ms per question")
    return 0


def cmd_serve(args) -> int:
    """Start the web app, building the index first (with progress bars) when there is none;
    refused beyond this machine without a login unless --insecure-public."""
    from .access import accounts, check_exposure

    logins, warnings = accounts(args.auth, args.auth_file, os.environ.get("CAREQA_AUTH"))
    warnings.append(check_exposure(args.host, bool(logins), args.insecure_public))
    for warning in filter(None, warnings):
        _say(f"careqa: warning: {warning}")
    assistant = _assistant(args)
    bars = Bars()
    try:
        report = assistant.ensure_index(bars, notify=_say)
    finally:
        bars.close()
    if report is not None:
        _say(report.summary())
    from careqa_ui.app import serve

    _say(f"careqa: serving on http://{args.host}:{args.port} (Ctrl+C to stop)")
    serve(assistant, args.host, args.port, logins or None)
    return 0


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", help="corpus folder (env CAREQA_CORPUS; default ./corpus)")
    common.add_argument("--index-dir", help="folder of indexes (env CAREQA_INDEX_DIR; default ./index)")
    common.add_argument("--index", help=f"index name ({env_help('index_name')})")
    common.add_argument("--store", help=f"faiss (folders in --index-dir) or milvus ({env_help('store')})")
    common.add_argument("--milvus-uri", help="Milvus Lite file such as index/milvus.db, or a server such as "
                                             "http://127.0.0.1:19530 (env CAREQA_MILVUS_URI; default "
                                             "<index dir>/milvus.db; a token is read from CAREQA_MILVUS_TOKEN)")
    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("--llm-url", help="OpenAI-compatible model server that writes the answers, checked by careqa, "
                                         "e.g. http://127.0.0.1:11434/v1 (env CAREQA_LLM_URL; default none: extractive)")
    model.add_argument("--llm-model", help="model name on that server, e.g. llama3.2 (env CAREQA_LLM_MODEL)")
    model.add_argument("--llm-timeout", help=f"seconds allowed for the model's reply ({env_help('llm_timeout')}); "
                                             "the API key is read from CAREQA_LLM_API_KEY, never an option")
    ap = argparse.ArgumentParser(prog="careqa", description="Cited answers from health and social care policy documents.",
                                 epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    add_ask(sub, [common, model])
    add_index(sub, [common])
    add_eval_serve(sub, [common, model])
    return ap


def add_ask(sub, parents: list) -> None:
    """`careqa ask`."""
    ask = sub.add_parser("ask", parents=parents, help="answer a question with cited sources",
                         epilog='example: careqa ask "What is a care coordinator?" -k 8\n'
                                'example: careqa ask "What are pooled budgets?" --llm-url http://127.0.0.1:11434/v1 '
                                '--llm-model llama3.2',
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    ask.add_argument("question", nargs="*")
    ask.add_argument("-k", help=f"passages to retrieve ({env_help('k')})")
    ask.add_argument("--doc", action="append", help="only this document (id or file name); repeatable")
    ask.add_argument("--section", help="only sections whose heading path contains this text, e.g. a country's name")
    out = ask.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--jsonl", action="store_true", help="answer JSON lines {id, question} from stdin")
    out.add_argument("--format", choices=("text", "md"), default="text",
                     help="text (default) or md: Markdown with numbered references, for a briefing note")
    ask.set_defaults(func=cmd_ask)


def add_index(sub, parents: list) -> None:
    """`careqa index build|update|verify|status`."""
    index = sub.add_parser("index", help="build and inspect the index")
    isub = index.add_subparsers(dest="index_command", required=True)
    build = isub.add_parser("build", parents=parents, help="rebuild the whole index from the corpus",
                            epilog="example: careqa index build --corpus ./corpus")
    update = isub.add_parser("update", parents=parents, help="embed only the documents added or changed since the last build",
                             epilog="example: careqa index update --wait 60")
    for p in (build, update):
        p.add_argument("--model", help="embedding model (env CAREQA_MODEL; default all-MiniLM-L6-v2)")
        p.add_argument("--wait", type=float, metavar="SECONDS",
                       help="if another build or update is running, wait at most this long (default: until it ends)")
        p.set_defaults(func=cmd_build)
    verify = isub.add_parser("verify", parents=parents, help="check the index against its manifest, model and corpus",
                             epilog="example: careqa index verify || careqa index update")
    verify.add_argument("--model", help="embedding model expected (env CAREQA_MODEL; default all-MiniLM-L6-v2)")
    verify.set_defaults(func=cmd_verify)
    status = isub.add_parser("status", parents=parents, help="print what the manifest says",
                             epilog="example: careqa index status --json")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)


def add_eval_serve(sub, parents: list) -> None:
    """`careqa eval` and `careqa serve`."""
    ev = sub.add_parser("eval", parents=parents, help="score retrieval and answers on a question file",
                        epilog="example: careqa eval ../shared/eval/questions.jsonl --verbose")
    ev.add_argument("questions")
    ev.add_argument("-k", help=f"passages to retrieve ({env_help('k')})")
    ev.add_argument("--verbose", action="store_true", help="one JSON row per question")
    ev.set_defaults(func=cmd_eval)
    serve = sub.add_parser("serve", parents=parents, help="start the web app (builds the index if missing)",
                           epilog="example: CAREQA_AUTH=analyst:secret careqa serve --host 0.0.0.0 --port 7860\n"
                                  "example: careqa serve --host 0.0.0.0 --auth-file ~/.careqa-accounts",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only; "
                                                           "any other needs a login or --insecure-public)")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument("--auth-file", help="file of user:password lines, one account a line (chmod 600)")
    serve.add_argument("--auth", help="require user:password to log in; prefer env CAREQA_AUTH or --auth-file, "
                                      "which keep the password out of `ps`")
    serve.add_argument("--insecure-public", action="store_true",
                       help="serve beyond this machine without a login (anyone who reaches the port can change "
                            "the corpus)")
    serve.set_defaults(func=cmd_serve)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = parser().parse_args(argv)
    try:
        _settings(args)  # every CAREQA_* value and option checked before any work
        return args.func(args)
    except CareqaError as exc:
        print(f"careqa: error: {shown_name(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
