"""The question set through a model server, beside careqa's own extractive answers.

Prints the scorer's figures (careqa.evaluate, the matching of ../shared/eval/score.py) for the
extractive answers and for the answers written with the model and checked by careqa, then how
often the model's answer was shown, why it was not, and the share of its sentences the check
accepted. Needs a built index (`careqa index build`).

    python benchmarks/llm.py --llm-url http://127.0.0.1:11434/v1 --llm-model llama3.2
    python benchmarks/llm.py --scripted   # plumbing only: tests/chat_server.py copies passage 1; not a model
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

from careqa.assistant import Assistant
from careqa.config import Settings
from careqa.evaluate import evaluate, read_questions

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT.parent / "shared" / "eval" / "questions.jsonl"


class Recording:
    """An Assistant that keeps every answer it gives, for the model's figures."""

    def __init__(self, assistant: Assistant):
        self.assistant, self.answers = assistant, []

    def ask(self, *args, **kwargs):
        answer = self.assistant.ask(*args, **kwargs)
        self.answers.append(answer)
        return answer


def row(name: str, figures: dict, k: int) -> str:
    keys = [f"recall@{k}", "mrr", "cited", "facts", "answered", "abstained_unanswerable"]
    return f"{name:<34}" + "".join(f"{figures[key]:>11.3f}" for key in keys) + f"{figures['p50_ms'] / 1000:>11.2f}"


def model_figures(answers: list) -> list[str]:
    """How the model's answers fared in the check."""
    llm = [a.llm for a in answers if a.llm]
    used = sum(x.get("used", False) for x in llm)
    claims = sum(x.get("claims", 0) for x in llm)
    accepted = sum(x.get("accepted", 0) for x in llm)
    reasons = Counter(x["fallback"].split(": ", 1)[-1].split(".")[0] for x in llm if not x.get("used"))
    lines = [f"model's answer shown for {used} of {len(llm)} questions",
             f"sentences the check accepted: {accepted} of {claims}" + (f" ({accepted / claims:.2f})" if claims else "")]
    lines += [f"  not shown, {n}x: {reason}" for reason, n in reasons.most_common()]
    return lines


def scripted_server():
    """tests/chat_server.py's copying script on a free local port (for plumbing runs)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from chat_server import ChatServer, copy_first_passage

    return ChatServer(copy_first_passage)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("questions", nargs="?", default=str(QUESTIONS))
    ap.add_argument("--llm-url", help="OpenAI-compatible server (default: CAREQA_LLM_URL)")
    ap.add_argument("--llm-model", help="model name (default: CAREQA_LLM_MODEL)")
    ap.add_argument("--llm-timeout", help="seconds per answer (default: CAREQA_LLM_TIMEOUT)")
    ap.add_argument("-k", help="passages per question (default: CAREQA_K)")
    ap.add_argument("--scripted", action="store_true",
                    help="start tests/chat_server.py's scripted server (copies passage 1): checks the plumbing, "
                         "its figures are not a model's")
    args = ap.parse_args()
    questions = read_questions(Path(args.questions))
    with scripted_server() if args.scripted else nullcontext() as server:
        url, model = (server.url, "scripted-copy") if server else (args.llm_url, args.llm_model)
        settings = Settings.from_env(llm_url=url, llm_model=model, llm_timeout=args.llm_timeout, k=args.k)
        if not settings.llm_url:
            ap.error("give --llm-url and --llm-model (or CAREQA_LLM_URL), or --scripted")
        k = settings.k
        extractive = evaluate(Assistant(settings.with_(llm_url="")), questions, k=k)
        recording = Recording(Assistant(settings))
        written = evaluate(recording, questions, k=k)
    label = "scripted server (NOT a model)" if args.scripted else f"{settings.llm_model} at {settings.llm_url}"
    print(f"{len(questions)} questions from {args.questions}; k={k}")
    print(f"{'':<34}" + "".join(f"{h:>11}" for h in (f"recall@{k}", "mrr", "cited", "facts", "answered",
                                                      "abst_unans", "p50 s")))
    print(row("extractive", extractive, k))
    print(row(label[:33], written, k))
    for line in model_figures(recording.answers):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
