"""What a build of a hostile corpus costs, and how the embedding estimate compares with the time taken.

    .venv/bin/python benchmarks/attack.py [--work DIR]

Makes a corpus of the bundled documents plus every bad input of issue 13's attack run: a PDF
whose page stream inflates to 256 MB, a DOCX zip bomb (35 MB of XML), HTML nested 100,000 deep,
a 5 MB text file (over the passage budget), links to /etc/passwd and to nowhere, a name holding a
newline, a document full of terminal escapes, and the bad files of tests/test_bad_input.py. Runs
`careqa index build` on it with the real model and prints its exit status, wall time, the peak
memory of the build process and of the parser worker, and the report. Then it compares the
estimate said before embedding (budget.py) with the time the bundled corpus really takes, and
prints the rates it measured. Last, the attacks on a running `careqa serve` (the bundled index,
a login): two 5 MB questions beside an ordinary one, twenty 19 MB uploads, ten wrong passwords;
it prints what each got, how long it took and the server's memory before and after.
"""
from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_bad_input import BAD, GOOD, docx_bomb  # noqa: E402

PAGE = 4096


def pdf_bomb(inflated_mb: int) -> bytes:
    """A one-page PDF whose content stream inflates from ~0.25 MB to `inflated_mb` MB."""
    stream = zlib.compress(b"0 0 m " * (inflated_mb * (1 << 20) // 6), 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def hostile_corpus(folder: Path) -> None:
    folder.mkdir(parents=True)
    for p in (ROOT / "corpus").iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    for name, data in {**GOOD, **BAD}.items():
        (folder / f"bad-{name}").write_bytes(data)
    (folder / "pdf-bomb.pdf").write_bytes(pdf_bomb(256))
    (folder / "zip-bomb.docx").write_bytes(docx_bomb(1_000_000))
    (folder / "deep.html").write_bytes(b"<html><body>" + b"<div>" * 100_000 + b"x" + b"</div>" * 100_000)
    sentence = "Councils and hospitals agree discharge plans for older patients within two days. "
    (folder / "five-mb.txt").write_text(sentence * (5 * (1 << 20) // len(sentence)), encoding="utf-8")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "broken.txt").symlink_to(folder / "nowhere.txt")
    (folder / "forged\nskipped who-observatory-policy-brief-62.txt: fake.txt").write_text("Forged line.\n")
    (folder / "escapes.txt").write_text("Title\x1b]0;owned\x07\n\nEastland \x1b[31mpays\x1b[0m carers.\x9b2J\n")


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def watched_build(env: dict) -> tuple[subprocess.CompletedProcess, float, dict[str, int]]:
    """`careqa index build` with its peak memory (kB): the build process, the largest worker, both at once."""
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "careqa", "index", "build"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = {"build": 0, "worker": 0, "together": 0}

    def poll() -> None:
        while proc.poll() is None:
            main, workers = rss_kb(proc.pid, "VmHWM"), [rss_kb(c) for c in children(proc.pid)]
            peak["build"] = max(peak["build"], main)
            peak["worker"] = max([peak["worker"], *workers])
            peak["together"] = max(peak["together"], rss_kb(proc.pid) + sum(workers))
            time.sleep(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    watcher.join()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), time.perf_counter() - began, peak


def estimate_line(stderr: str) -> tuple[str, float]:
    """The estimate said before embedding, and its seconds."""
    line = next((l for l in stderr.splitlines() if "to embed: about" in l), "")
    m = re.search(r"about ([\d.]+) (s|min|h)", line)
    scale = {"s": 1, "min": 60, "h": 3600}
    return line, float(m[1]) * scale[m[2]] if m else 0.0


def rates() -> None:
    """The figures behind budget.py's constants, measured on the bundled corpus in this process."""
    from careqa.config import Settings
    from careqa.index import embed_texts, new_part, sentence_rows
    from careqa.load import load_corpus
    from careqa.records import silent

    settings = Settings(corpus_dir=ROOT / "corpus")
    parts = [new_part(settings, d) for d in load_corpus(settings).documents]
    chars = sum(len(p.doc.text) for p in parts)
    passages = [t for p in parts for t in p.texts()]
    sentences = [p.doc.text[a:b] for p in parts for a, b in sentence_rows(p.doc, p.chunks)]
    embed_texts(settings, passages[:4], silent, "warm-up")
    timed = []
    for texts in (passages, sentences):
        began = time.perf_counter()
        embed_texts(settings, texts, silent, "timed")
        timed.append(len(texts) / (time.perf_counter() - began))
    print(f"rates: {chars / len(passages) / settings.chunk_tokens:.2f} characters per passage token, "
          f"{chars / len(sentences):.0f} characters per sentence, {timed[0]:.1f} passages/s, "
          f"{timed[1]:.1f} sentences/s (load average {os.getloadavg()[0]:.1f})")


def serve(work: Path, env: dict) -> tuple[subprocess.Popen, str]:
    """`careqa serve` on the bundled corpus (index built in `work`) with a login; its process and URL."""
    from careqa_ui.app import start_process

    env = {**env, "CAREQA_CORPUS": str(ROOT / "corpus"), "CAREQA_INDEX_DIR": str(work / "bundled-index"),
           "CAREQA_AUTH": "analyst:secret"}
    return start_process([], env, seconds=300)


def timed(fn) -> tuple[object, float]:
    began = time.perf_counter()
    return fn(), time.perf_counter() - began


def app_attacks(work: Path, env: dict) -> None:
    """The issue's attacks on the app, each with what it got and how long it took."""
    from gradio_client import Client

    proc, url = serve(work, env)
    try:
        client = Client(url, auth=("analyst", "secret"), verbose=False, ssl_verify=False)
        before = rss_kb(proc.pid) / 1024
        huge = "Why " + "so " * (5 * (1 << 20) // 3)
        with ThreadPoolExecutor(3) as pool:
            asked = [pool.submit(timed, lambda q=q: _outcome(client, q))
                     for q in (huge, huge, "What is integrated care?")]
            results = [f.result() for f in asked]
        print(f"two 5 MB questions: {results[0][0]} in {results[0][1]:.2f} s and {results[1][1]:.2f} s; "
              f"an ordinary one meanwhile: {results[2][0]} in {results[2][1]:.2f} s; server memory "
              f"{before:.0f} MB before, {rss_kb(proc.pid) / 1024:.0f} MB after")
        with httpx.Client(cookies=client.cookies, timeout=120) as http:
            posts = [timed(lambda n=n: http.post(f"{url}gradio_api/upload", files={
                "files": (f"big-{n}.txt", b"care " * (19 * (1 << 20) // 5))}).status_code) for n in range(20)]
        codes = [c for c, _ in posts]
        print(f"twenty 19 MB uploads: {codes.count(200)} accepted, {codes.count(429)} refused (429) in "
              f"{sum(t for _, t in posts):.1f} s")
        with httpx.Client(timeout=120) as http:
            tries = [timed(lambda: http.post(f"{url}login", data={"username": "analyst", "password": "guess"})
                           .status_code)[1] for _ in range(10)]
        print("ten wrong passwords in a row, seconds each: " + " ".join(f"{t:.1f}" for t in tries))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _outcome(client, question: str) -> str:
    """'answered' or the first words of the error the app gave."""
    try:
        client.predict(question, api_name="/ask")
        return "answered"
    except Exception as exc:  # noqa: BLE001 - what the app said is the figure
        return f"refused ({str(exc)[:60]}...)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, help="folder for the corpora and indexes (default: a temporary one)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="careqa-attack-"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CAREQA_QUIET": "1"}

    hostile = work / "hostile"
    hostile_corpus(hostile)
    result, seconds, peak = watched_build({**env, "CAREQA_CORPUS": str(hostile),
                                           "CAREQA_INDEX_DIR": str(work / "hostile-index")})
    print(f"hostile corpus: {sum(1 for _ in hostile.iterdir())} files, exit {result.returncode}, {seconds:.1f} s")
    print(f"peak memory: build process {peak['build'] / 1024:.0f} MB, largest parser worker "
          f"{peak['worker'] / 1024:.0f} MB, both at once {peak['together'] / 1024:.0f} MB")
    print(result.stdout.rstrip())

    bundled = work / "bundled-index"
    result, seconds, _ = watched_build({**env, "CAREQA_CORPUS": str(ROOT / "corpus"), "CAREQA_INDEX_DIR": str(bundled)})
    line, said = estimate_line(result.stderr)
    took = float(re.search(r"in ([\d.]+) s", result.stdout)[1])
    print(f"bundled corpus: estimate before embedding '{line}' ({said:.0f} s); build took {took:.1f} s "
          f"({seconds:.1f} s with start-up and model loading)")
    rates()
    app_attacks(work, env)


if __name__ == "__main__":
    main()
