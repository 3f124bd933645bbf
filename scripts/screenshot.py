"""Write docs/screenshot.png: the app answering the Norway question, its last [n] opened.

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot.png]

Uses ./corpus and ./index (building the index first if missing) and headless Chromium.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from careqa.assistant import Assistant
from careqa.config import Settings
from careqa_ui import browser
from careqa_ui.app import start_local

QUESTION = "How does Norway incentivise discharge coordination?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="docs/screenshot.png")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    args = ap.parse_args()
    assistant = Assistant(Settings.from_env())
    app, url = start_local(assistant)
    driver = browser.chromium(args.width, args.height)
    try:
        browser.open_app(driver, url)
        browser.ask(driver, QUESTION)
        browser.open_citation(driver, len(driver.find_elements("css selector", "#conversation button.cite")) - 1)
        driver.execute_script("window.scrollTo(0, 0)")
        driver.execute_async_script("document.fonts.ready.then(arguments[arguments.length - 1])")
        time.sleep(0.5)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
        print(f"wrote {out}")
    finally:
        driver.quit()
        app.close()


if __name__ == "__main__":
    main()
