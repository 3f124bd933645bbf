"""The `careqa` command: thin over the library; library errors become one line and exit 1."""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap

from .config import Settings, env_help
from .errors import CareqaError

EXIT_ERROR = 1
EXIT_SKIPPED = 3

EXAMPLES = """examples:
  careqa index build
  careqa ask "How does Norway incentivise discharge coordination?"
  careqa ask "What is the Better Care Fund?" --doc commonwealth-fund-care-coordination --json
  careqa ask --jsonl < questions.jsonl
  careqa eval ../shared/eval/questions.jsonl
  careqa serve
"""


class Bars:
    """tqdm bars per stage on a terminal; silent when stderr is not one (CI, pipes)."""

    def __init__(self):
        self.enabled = sys.stderr.isatty() and not os.environ.get("CAREQA_QUIET")
        self.bar = None
        self.stage = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit="", file=sys.stderr, leave=False)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _settings(args) -> Settings:
    return Settings.from_env(corpus_dir=args.corpus, index_root=args.index_dir, index_name=args.index,
                             model=getattr(args, "model", None), k=getattr(args, "k", None),
                             llm_url=getattr(args, "llm_url", None), llm_model=getattr(args, "llm_model", None),
                             llm_timeout=getattr(args, "llm_timeout", None), store=args.store,
                             milvus_uri=args.milvus_uri)


def _assistant(args):
    from .assistant import Assistant

    return Assistant(_settings(args))


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


def section_below_title(section: str, title: str) -> str:
    """The section path without a top heading the title already says."""
    top, sep, rest = section.partition(" > ")
    return rest if sep and top in title else section


def wrap(text: str, width: int = 100) -> str:
    """Each paragraph and list line wrapped on its own, so lists stay lists."""
    return "\n".join(textwrap.fill(line, width, subsequent_indent="  " if line.startswith("- ") else "")
                     if line.strip() else "" for line in text.splitlines())


class Draft:
    """A model's draft streamed to a terminal, wiped when the checked answer replaces it."""

    HEADER = "(the model is writing; its citations are checked when it finishes)\n"

    def __init__(self, out):
        self.out, self.text = out, ""

    def write(self, piece: str) -> None:
        if not self.text:
            self.out.write(self.HEADER)
            self.text = self.HEADER
        self.out.write(piece)
        self.out.flush()
        self.text += piece

    def wipe(self) -> None:
        """Move back to the draft's first row and clear to the end of the screen."""
        if not self.text:
            return
        import shutil

        width = max(shutil.get_terminal_size().columns, 1)
        rows = sum(max(1, -(-len(line) // width)) for line in self.text.split("\n"))
        self.out.write("\r" + (f"\x1b[{rows - 1}A" if rows > 1 else "") + "\x1b[J")
        self.out.flush()


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


def cmd_ask(args) -> int:
    assistant = _assistant(args)
    if args.jsonl:
        for no, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                question = item["question"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise CareqaError(f"stdin line {no}: expected a JSON object with a \"question\" field")
            result = assistant.ask(question, docs=args.doc, section=args.section, history=item.get("history")).to_dict()
            print(json.dumps({"id": item.get("id", no), **result}, ensure_ascii=False), flush=True)
        return 0
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
        print(json.dumps(result, ensure_ascii=False, indent=1))
    elif args.format == "md":
        from .export import to_markdown

        print(to_markdown(result), end="")
    else:
        print(format_answer(result))
    return 0


def cmd_build(args) -> int:
    assistant = _assistant(args)
    bars = Bars()
    run = assistant.update if args.index_command == "update" else assistant.build
    try:
        report = run(bars, notify=_say, wait=args.wait)
    finally:
        bars.close()
    print(report.summary())
    return EXIT_SKIPPED if report.skipped else 0


def cmd_verify(args) -> int:
    result = _assistant(args).verify()
    for note in result.notes:
        print(f"note: {note}")
    for problem in result.problems:
        print(f"problem: {problem}")
    if result.checked:
        print(("index OK: " if result.ok else f"{len(result.problems)} problem(s) in ") + result.checked)
    return 0 if result.ok else EXIT_ERROR


def cmd_status(args) -> int:
    status = _assistant(args).status()
    if args.json:
        print(json.dumps(status, indent=1))
        return 0
    for key in ("index", "version", "embedding_model", "dimension", "documents", "chunks", "built_at"):
        print(f"{key:16} {status[key]}")
    print(f"{'chunker':16} {status['chunker']['target_tokens']} tokens, overlap "
          f"{status['chunker']['overlap_tokens']} ({status['chunker']['encoding']})")
    for s in status["skipped"]:
        print(f"{'skipped':16} {s['path']}: {s['reason']}")
    return 0


def cmd_eval(args) -> int:
    from .evaluate import evaluate, read_questions

    assistant = _assistant(args)
    figures = evaluate(assistant, read_questions(args.questions), k=assistant.settings.k)
    if args.verbose:
        for row in figures["rows"]:
            print(json.dumps(row))
    keys = [f"recall@{assistant.settings.k}", "mrr", "cited", "facts", "answered", "abstained_unanswerable"]
    print(f"{'kind':<20} {'questions':>9} " + " ".join(f"{k.replace('abstained_', 'abst_'):>16}" for k in keys))
    rows = [*figures["kinds"].items(), ("all", figures)]
    for name, fig in rows:
        print(f"{name:<20} {fig['questions']:>9} " + " ".join(f"{fig[k]:>16.3f}" for k in keys))
    print(f"warm p50 {figures['p50_ms']:.1f} ms per question")
    return 0


def cmd_serve(args) -> int:
    """Start the web app, building the index first (with progress bars) when there is none."""
    auth = args.auth or os.environ.get("CAREQA_AUTH")
    user, sep, password = (auth or "").partition(":")
    if auth and not (sep and user and password):
        raise CareqaError("--auth (or CAREQA_AUTH) must look like user:password")
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
    serve(assistant, args.host, args.port, (user, password) if auth else None)
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

    ask = sub.add_parser("ask", parents=[common, model], help="answer a question with cited sources",
                         epilog='example: careqa ask "What is the Esther project?" -k 8\n'
                                'example: careqa ask "Compare Sweden and Denmark" --llm-url http://127.0.0.1:11434/v1 '
                                '--llm-model llama3.2',
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    ask.add_argument("question", nargs="*")
    ask.add_argument("-k", help=f"passages to retrieve ({env_help('k')})")
    ask.add_argument("--doc", action="append", help="only this document (id or file name); repeatable")
    ask.add_argument("--section", help="only sections whose heading path contains this text, e.g. Norway")
    out = ask.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--jsonl", action="store_true", help="answer JSON lines {id, question} from stdin")
    out.add_argument("--format", choices=("text", "md"), default="text",
                     help="text (default) or md: Markdown with numbered references, for a briefing note")
    ask.set_defaults(func=cmd_ask)

    index = sub.add_parser("index", help="build and inspect the index")
    isub = index.add_subparsers(dest="index_command", required=True)
    build = isub.add_parser("build", parents=[common], help="rebuild the whole index from the corpus",
                            epilog="example: careqa index build --corpus ./corpus")
    update = isub.add_parser("update", parents=[common], help="embed only the documents added or changed since the last build",
                             epilog="example: careqa index update --wait 60")
    for p in (build, update):
        p.add_argument("--model", help="embedding model (env CAREQA_MODEL; default all-MiniLM-L6-v2)")
        p.add_argument("--wait", type=float, metavar="SECONDS",
                       help="if another build or update is running, wait at most this long (default: until it ends)")
        p.set_defaults(func=cmd_build)
    verify = isub.add_parser("verify", parents=[common], help="check the index against its manifest, model and corpus",
                             epilog="example: careqa index verify || careqa index update")
    verify.add_argument("--model", help="embedding model expected (env CAREQA_MODEL; default all-MiniLM-L6-v2)")
    verify.set_defaults(func=cmd_verify)
    status = isub.add_parser("status", parents=[common], help="print what the manifest says",
                             epilog="example: careqa index status --json")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    ev = sub.add_parser("eval", parents=[common, model], help="score retrieval and answers on a question file",
                        epilog="example: careqa eval ../shared/eval/questions.jsonl --verbose")
    ev.add_argument("questions")
    ev.add_argument("-k", help=f"passages to retrieve ({env_help('k')})")
    ev.add_argument("--verbose", action="store_true", help="one JSON row per question")
    ev.set_defaults(func=cmd_eval)
    serve = sub.add_parser("serve", parents=[common, model], help="start the web app (builds the index if missing)",
                           epilog="example: careqa serve --port 7860 --auth analyst:secret")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument("--auth", help="require user:password to log in (env CAREQA_AUTH)")
    serve.set_defaults(func=cmd_serve)
    return ap


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = parser().parse_args(argv)
    try:
        _settings(args)  # every CAREQA_* value and option checked before any work
        return args.func(args)
    except CareqaError as exc:
        print(f"careqa: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
