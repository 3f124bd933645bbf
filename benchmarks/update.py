"""Full build against an incremental update after one document changes, on 100+ documents.

    python benchmarks/update.py [--corpus corpus] [--min-chars 600] [--cold]

Splits the bundled documents into paragraph groups of at least --min-chars characters, one file
per group, in a temporary folder (>= 100 documents from ./corpus). Then, in one process with the
model already loaded (as in the UI, which calls Assistant.update): `build_index`, an update with
nothing changed, one document edited and `update_index`. Prints times, chunks embedded, speedup.
--cold also times `careqa index build` and `careqa index update` as new processes, which pay the
import of sentence-transformers and the model load (several seconds) before any work.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from careqa.config import Settings
from careqa.embed import get_embedder
from careqa.index import build_index, update_index
from careqa.load import corpus_files


def split_corpus(source: Path, dest: Path, min_chars: int) -> int:
    """Write each run of paragraphs of at least min_chars characters as its own .txt file."""
    count = 0
    for path in corpus_files(source):
        if path.suffix != ".txt":
            continue
        group: list[str] = []
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if p.strip()]
        for i, para in enumerate(paragraphs):
            group.append(para)
            if sum(map(len, group)) >= min_chars or i == len(paragraphs) - 1:
                count += 1
                (dest / f"{path.stem}-{count:03d}.txt").write_text("\n\n".join(group) + "\n", encoding="utf-8")
                group = []
    return count


def timed(label: str, run) -> tuple[float, object]:
    started = time.perf_counter()
    report = run()
    seconds = time.perf_counter() - started
    print(f"{label:34} {seconds:8.2f} s   {report.embedded:5d} chunks embedded   "
          f"({report.documents} documents, {report.chunks} chunks, {len(report.skipped)} skipped)")
    return seconds, report


def cold(label: str, command: str, corpus: Path, index_root: Path) -> float:
    env = {**os.environ, "CAREQA_CORPUS": str(corpus), "CAREQA_INDEX_DIR": str(index_root), "CAREQA_QUIET": "1"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "careqa", "index", command], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 3):  # 3: built, with files skipped
        raise SystemExit(done.stderr)
    out = done.stdout
    print(f"{label:34} {seconds:8.2f} s   {out.splitlines()[0]}")
    return seconds


def edit(path: Path) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\nThis paragraph was added to measure an incremental update.\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--min-chars", type=int, default=600)
    ap.add_argument("--cold", action="store_true", help="also time new `careqa` processes")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        n = split_corpus(Path(args.corpus), corpus, args.min_chars)
        if n < 100:
            raise SystemExit(f"only {n} documents: lower --min-chars")
        settings = Settings(corpus_dir=corpus, index_root=Path(tmp) / "index")
        get_embedder(settings.model).encode(["warm-up"])
        build_s, build = timed("build (every document)", lambda: build_index(settings))
        timed("update, nothing changed", lambda: update_index(settings))
        edited = sorted(corpus.iterdir())[n // 2]
        edit(edited)
        update_s, update = timed("update, 1 document changed", lambda: update_index(settings))
        assert update.changed == [edited.name] and update.embedded < build.embedded
        print(f"speedup {build_s / update_s:.1f}x (target >= 10x); {update.embedded} of "
              f"{build.embedded} chunks embedded again (changed: {edited.name})")
        if args.cold:
            build_s = cold("cold `careqa index build`", "build", corpus, Path(tmp) / "cold")
            edit(edited)
            update_s = cold("cold `careqa index update`", "update", corpus, Path(tmp) / "cold")
            print(f"cold speedup {build_s / update_s:.1f}x (both include the model load)")


if __name__ == "__main__":
    main()
