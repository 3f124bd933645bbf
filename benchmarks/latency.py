"""Question latency on the bundled corpus: warm `Assistant.ask` (p50, p95) and cold commands.

    python benchmarks/latency.py [--runs 5]

Uses the index in ./index (run `careqa index build` first: it also makes the model's ONNX
export). Warm figures time `Assistant.ask` (question embedding + retrieval + answer) over the
question set after one warm-up question, then, apart, over the comparison questions of the
project's own set (benchmarks/questions/dev.jsonl): each of those searches once per compared
entity as well. Cold figures are the median wall time of --runs new
processes each: `python -c "import careqa"` (the interpreter's own start), `careqa index status`
and `careqa ask "How does Norway incentivise discharge coordination?"`, measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from careqa.assistant import Assistant

QUESTIONS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "questions.jsonl"
OWN = Path(__file__).resolve().parent / "questions" / "dev.jsonl"
NORWAY = "How does Norway incentivise discharge coordination?"


def cold(argv: list[str], runs: int) -> tuple[float, str]:
    """Median wall time of `runs` new processes and the last one's output."""
    times, out = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, check=True, capture_output=True, text=True,
                              env={**os.environ, "CAREQA_QUIET": "1"})
        times.append(time.perf_counter() - started)
        out = done.stdout
    return statistics.median(times), out


def timed(assistant, questions: list[str], runs: int) -> list[float]:
    """Milliseconds each warm `ask` took, over `runs` passes."""
    out = []
    for _ in range(runs):
        for q in questions:
            started = time.perf_counter()
            assistant.ask(q)
            out.append(1000 * (time.perf_counter() - started))
    return sorted(out)


def spread(times: list[float]) -> str:
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    return f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    ap.add_argument("--runs", type=int, default=5, help="passes over the question set; new processes per command")
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.open() if line.strip()] \
        if args.questions.exists() else [NORWAY]
    assistant = Assistant()
    expected = assistant.ask(NORWAY).text
    times = timed(assistant, questions, args.runs)
    print(f"warm ask (embedding + retrieval + answer), {len(times)} questions: {spread(times)}")
    rows = [json.loads(line) for line in OWN.open() if line.strip()] if OWN.exists() else []
    compared = [r["question"] for r in rows if assistant.ask(r["question"]).analysis["compared"]]
    if compared:
        times = timed(assistant, compared, args.runs)
        print(f"warm ask, comparison questions (one search more per compared entity), {len(times)} questions: "
              f"{spread(times)}")
    careqa = [sys.executable, "-m", "careqa"]
    python_s, _ = cold([sys.executable, "-c", "import careqa"], args.runs)
    status_s, _ = cold(careqa + ["index", "status"], args.runs)
    ask_s, out = cold(careqa + ["ask", "--json", NORWAY], args.runs)
    same = json.loads(out)["answer"] == expected
    print(f"cold, median of {args.runs} new processes: python -c 'import careqa' {python_s:.2f} s, "
          f"careqa index status {status_s:.2f} s, careqa ask {ask_s:.2f} s "
          f"(answer {'identical to' if same else 'DIFFERENT from'} the warm one)")


if __name__ == "__main__":
    main()
