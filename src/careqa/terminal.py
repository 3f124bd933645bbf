"""What careqa writes to a terminal: plain text only.

Control characters and terminal escape sequences, from a document, a title, a file name or a
model's reply, are removed before they reach the terminal, and one-line notes show names
escaped (a newline in a file name as \\n), so nothing printed can act on the terminal or forge
a line of a report. JSON output escapes every control character.
"""
from __future__ import annotations

import json
import os
import re
import sys

from .clean import shown_name, without_controls

_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")  # json.dumps leaves these raw; a terminal may obey C1


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


def say(msg: str) -> None:
    print(shown_name(msg), file=sys.stderr)


def show(text: str) -> None:
    """Print text for a person: lines kept, control characters and escape sequences removed."""
    print(without_controls(text))


def json_text(value, indent: int | None = None) -> str:
    """JSON as careqa prints it: UTF-8 as it is, but every control character escaped."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class Draft:
    """A model's draft streamed to a terminal, wiped when the checked answer replaces it."""

    HEADER = "(the model is writing; its citations are checked when it finishes)\n"

    def __init__(self, out):
        self.out, self.text = out, ""

    def write(self, piece: str) -> None:
        if not self.text:
            self.out.write(self.HEADER)
            self.text = self.HEADER
        piece = without_controls(piece)
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
