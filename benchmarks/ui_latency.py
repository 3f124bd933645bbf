"""Warm latency of a question through the web app, as gradio_client sees it.

    .venv/bin/python benchmarks/ui_latency.py [--runs 20]

Starts the app on ./corpus and ./index (built first if missing) on a free local port, asks the
Norway question once to warm up, then times submit-to-answer over --runs runs. Target: p95 <= 300 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from gradio_client import Client  # noqa: E402

from careqa.assistant import Assistant  # noqa: E402
from careqa.config import Settings  # noqa: E402
from careqa_ui.app import start_local  # noqa: E402

QUESTION = "How does Norway incentivise discharge coordination?"



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    assistant = Assistant(Settings.from_env())
    app, url = start_local(assistant)
    try:
        client = Client(url, verbose=False)
        client.predict(QUESTION, [], "", 5, api_name="/ask")
        library, through_ui = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            assistant.ask(QUESTION)
            library.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            _, chat, *_ = client.predict(QUESTION, [], "", 5, api_name="/ask")
            through_ui.append((time.perf_counter() - t) * 1000)
            assert "[1]" in str(chat[-1]["content"])
        for name, times in (("Assistant.ask", library), ("app via gradio_client", through_ui)):
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            print(f"{name:24} p50 {statistics.median(times):6.0f} ms   p95 {p95:6.0f} ms   ({args.runs} runs, warm)")
    finally:
        app.close()


if __name__ == "__main__":
    main()
