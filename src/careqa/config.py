"""Settings: every path and knob is an option with an environment variable."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_MAX_FILE_MB = 50.0


def _project_root() -> Path:
    """The folder holding corpus/ and index/: the working directory, as a user expects."""
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    """Where the corpus and index live, and how chunks and embeddings are made."""

    corpus_dir: Path = field(default_factory=lambda: _project_root() / "corpus")
    index_root: Path = field(default_factory=lambda: _project_root() / "index")
    index_name: str = "default"
    model: str = DEFAULT_MODEL
    chunk_tokens: int = 256  # measured: benchmarks/chunking.py (see the issue note)
    chunk_overlap: int = 32
    max_file_mb: float = DEFAULT_MAX_FILE_MB

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then CAREQA_* environment variables, then explicit overrides (None ignored)."""
        env = os.environ
        values: dict = {}
        if env.get("CAREQA_CORPUS"):
            values["corpus_dir"] = Path(env["CAREQA_CORPUS"])
        if env.get("CAREQA_INDEX_DIR"):
            values["index_root"] = Path(env["CAREQA_INDEX_DIR"])
        if env.get("CAREQA_INDEX"):
            values["index_name"] = env["CAREQA_INDEX"]
        if env.get("CAREQA_MODEL"):
            values["model"] = env["CAREQA_MODEL"]
        if env.get("CAREQA_MAX_FILE_MB"):
            values["max_file_mb"] = float(env["CAREQA_MAX_FILE_MB"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("corpus_dir", "index_root"):
            if key in values:
                values[key] = Path(values[key])
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @property
    def index_dir(self) -> Path:
        return self.index_root / self.index_name
