"""Questions answered through the web app by several users at once, as gradio_client sees them.

    .venv/bin/python benchmarks/ui_latency.py [--clients 8] [--seconds 30] [--questions FILE] [--tls-contexts]
                                              [--rebuild]

Starts `careqa serve` on ./corpus and ./index (built first if missing) on a free local port,
then runs --clients users, each in its own process with its own gradio_client Client, asking
the questions of --questions in turn (the shared question set when present) through the /ask
endpoint for --seconds after one warm-up question each. Prints p50 and p95 latency, questions
per second and failed questions, and the CPU seconds the server and the clients used per
question. Targets with 8 clients on 2 cores: p95 <= 500 ms, >= 20 questions/s, no failure.

The clients share the server's cores, so they are made as light as gradio_client allows: with
its default ssl_verify=True it builds a new TLS context (loading every CA certificate) for each
request, about 50 ms of CPU per question even over plain http. Over http:// they pass
ssl_verify=False, which changes nothing there; --tls-contexts keeps gradio_client's default.

With --rebuild the server runs on a copy of ./corpus and ./index, and all through the measured
time one more client rebuilds the index through the app's /rebuild endpoint, over and over, each
time with a document more or less (so each rebuild embeds one document); it prints how many
rebuilds ran and how long they took.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from careqa.config import Settings
from careqa_ui.app import start_process

QUESTIONS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "questions.jsonl"
NORWAY = "How does Norway incentivise discharge coordination?"
ROOT = Path(__file__).resolve().parent.parent
EXTRA = "nuffield-trust-integrated-care-explained.txt"  # copied in and out under another name


def rebuilder(url: str, corpus: Path, start: float, stop: float, took: list[float]) -> None:
    """Rebuild through /rebuild until `stop`, adding or removing a copy of a document each time."""
    from gradio_client import Client

    client = Client(url, verbose=False, ssl_verify=False)
    extra = corpus / f"extra-{EXTRA}"
    while time.time() < start:
        time.sleep(0.05)
    while time.time() < stop:
        if extra.exists():
            extra.unlink()
        else:
            shutil.copy(ROOT / "corpus" / EXTRA, extra)
        began = time.perf_counter()
        client.predict(api_name="/rebuild")
        took.append(time.perf_counter() - began)


def user(url: str, questions: list[str], start: float, stop: float, lean: bool, results) -> None:
    """One user: a Client of its own, one warm-up question, then questions until `stop`."""
    from gradio_client import Client

    client = Client(url, verbose=False, ssl_verify=not (lean and url.startswith("http://")))
    client.predict(questions[0], api_name="/ask")
    times, failed, i = [], 0, os.getpid()
    while time.time() < start:
        time.sleep(0.01)
    cpu = time.process_time()
    while time.time() < stop:
        question = questions[i % len(questions)]
        i += 1
        began = time.perf_counter()
        try:
            answer = json.loads(client.predict(question, api_name="/ask"))
            failed += answer.get("question") != question
        except Exception:  # noqa: BLE001 - a failed question is counted, whatever the reason
            failed += 1
            continue
        times.append(time.perf_counter() - began)
    results.put((times, failed, time.process_time() - cpu))


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    ap.add_argument("--tls-contexts", action="store_true", help="clients with gradio_client's default ssl_verify")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the index through /rebuild all the while")
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.open() if line.strip()] \
        if args.questions.exists() else [NORWAY]
    env, copy = None, None
    if args.rebuild:
        copy = Path(tempfile.mkdtemp(prefix="careqa-ui-latency-"))
        shutil.copytree(ROOT / "corpus", copy / "corpus")
        shutil.copytree(ROOT / "index", copy / "index")
        env = {**os.environ, "CAREQA_CORPUS": str(copy / "corpus"), "CAREQA_INDEX_DIR": str(copy / "index")}
    proc, url = start_process([], env, seconds=300)
    rebuilds: list[float] = []
    try:
        results = multiprocessing.get_context("spawn").Queue()
        warm = 15 + 2 * args.clients  # seconds for every user to start, connect and warm up
        start = time.time() + warm
        users = [multiprocessing.get_context("spawn").Process(
            target=user, args=(url, questions[k:] + questions[:k], start,
                               start + args.seconds, not args.tls_contexts, results)) for k in range(args.clients)]
        for u in users:
            u.start()
        writer = threading.Thread(target=rebuilder, args=(url, copy / "corpus", start,
                                                          start + args.seconds, rebuilds), daemon=True) \
            if copy is not None else None
        if writer is not None:
            writer.start()
        time.sleep(max(0.0, start - time.time()))
        cpu_before = server_cpu(proc.pid)
        collected = [results.get(timeout=warm + args.seconds + 120) for _ in users]
        cpu_server = server_cpu(proc.pid) - cpu_before
        for u in users:
            u.join()
        if writer is not None:
            writer.join(timeout=300)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if copy is not None:
            shutil.rmtree(copy, ignore_errors=True)
    times = sorted(t * 1000 for got, _, _ in collected for t in got)
    failed = sum(f for _, f, _ in collected)
    if not times:
        raise SystemExit(f"no question answered ({failed} failed)")
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    per = len(times) + failed
    print(f"{args.clients} clients, {args.seconds:.0f} s, {len(times)} questions answered, {failed} failed "
          f"(concurrency {Settings.from_env().ui_concurrency}, {os.cpu_count()} cores)")
    print(f"p50 {statistics.median(times):.0f} ms   p95 {p95:.0f} ms   {len(times) / args.seconds:.1f} questions/s")
    print(f"CPU per question: server {1000 * cpu_server / per:.0f} ms, "
          f"clients {1000 * sum(c for _, _, c in collected) / per:.0f} ms")
    if args.rebuild:
        print(f"meanwhile {len(rebuilds)} rebuilds through /rebuild, {statistics.median(rebuilds) if rebuilds else 0:.1f} "
              f"s each (median), rebuilding {100 * min(1.0, sum(rebuilds) / args.seconds):.0f}% of the time; "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
