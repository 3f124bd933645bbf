"""Question latency on the bundled corpus: warm retrieval + answer (p50, p95) and a cold `careqa ask`.

    python benchmarks/latency.py [--runs 5]

Uses the index in ./index (run `careqa index build` first). Warm figures time `Assistant.ask`
over the question set after one warm-up question; cold is the wall time of a new process.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from careqa.assistant import Assistant

QUESTIONS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "questions.jsonl"
NORWAY = "How does Norway incentivise discharge coordination?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    ap.add_argument("--runs", type=int, default=5, help="passes over the question set")
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.open() if line.strip()] \
        if args.questions.exists() else [NORWAY]
    assistant = Assistant()
    assistant.ask(NORWAY)
    times = []
    for _ in range(args.runs):
        for q in questions:
            started = time.perf_counter()
            assistant.ask(q)
            times.append(1000 * (time.perf_counter() - started))
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(f"warm ask (retrieval + answer), {len(times)} questions: "
          f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "careqa", "ask", NORWAY], check=True, capture_output=True)
    print(f"cold `careqa ask` (new process, model load included): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
