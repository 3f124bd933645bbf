"""Settings: every path and knob in one validated object, with a CAREQA_* environment variable.

`Settings.from_env()` reads defaults, then the environment, then explicit overrides (the CLI's
options), and checks each value: a bad one is a one-line SettingsError naming the variable (or
option) and what it expects. The CLI, the app and the benchmarks all take their defaults here.
"""
from __future__ import annotations

import os
import re
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from .errors import SettingsError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
FUSION_METHODS = ("weighted", "rrf", "dense", "bm25")
VECTOR_INDEXES = ("auto", "flat", "hnsw")
STORES = ("faiss", "milvus")
MAX_K = 100  # more passages than this is no longer an answer to read, and slows every question
_INDEX_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def _number(kind: type, low: float, high: float | None = None) -> Callable[[str], float]:
    """A parser for a whole or decimal number within [low, high]."""
    noun = "a whole number" if kind is int else "a number"
    span = f"from {low:g} to {high:g}" if high is not None else f"of at least {low:g}"

    def parse(text: str):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            value = None
        if value is None or value != value or value < low or (high is not None and value > high):
            raise ValueError(f"{noun} {span}")
        return value

    return parse


def _positive(text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0 < value < float("inf"):
        raise ValueError("a number greater than 0")
    return value


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError("one of " + ", ".join(options))
        return text

    return parse


def _index_name(text: str) -> str:
    if not _INDEX_NAME.fullmatch(text):
        raise ValueError("a plain name of letters, digits, '.', '_' or '-'")
    return text


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("a non-empty value")
    return text


def _llm_url(text: str) -> str:
    """'' (no model: extractive answers) or an http(s) base URL without credentials in it."""
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ValueError("an http:// or https:// address such as http://127.0.0.1:11434/v1")
    _plain_address(parts, "the key in CAREQA_LLM_API_KEY")
    return text


def _plain_address(parts, secret: str) -> None:
    """A server address holds no user or password (they go where `secret` says) and a valid port."""
    if parts.username or parts.password:
        raise ValueError(f"an address without a user or password in it (put {secret})")
    try:
        parts.port
    except ValueError:
        raise ValueError("an address with a valid port number") from None


def _milvus_uri(text: str) -> str:
    """'' (index/milvus.db), a Milvus Lite file ending in .db, or an http(s) server address."""
    if not text or "://" not in text:
        if text and not text.endswith(".db"):
            raise ValueError("a Milvus Lite file ending in .db, or a server address such as http://127.0.0.1:19530")
        return text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError("a server address such as http://127.0.0.1:19530 (or a Milvus Lite file ending in .db)")
    _plain_address(parts, "them in CAREQA_MILVUS_TOKEN")
    return text


def _env_name(text: str) -> str:
    if not _ENV_NAME.fullmatch(text):
        raise ValueError("the name of an environment variable (letters, digits, '_')")
    return text


def _cache_home() -> Path:
    """$XDG_CACHE_HOME/careqa, else ~/.cache/careqa: the usual place for files made once per machine."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "careqa"


def _setting(default, env: str, parse: Callable[[str], object], help: str = "", echo: bool = True):
    """A Settings field: its default, environment variable and parser (metadata for from_env);
    `echo=False` keeps a rejected value out of the error (an address may hold a password)."""
    factory = default if callable(default) else None
    kwargs = {"default_factory": factory} if factory else {"default": default}
    return field(metadata={"env": env, "parse": parse, "help": help, "echo": echo}, **kwargs)


@dataclass(frozen=True)
class Settings:
    """Where the corpus and index live, how passages are made, searched and limited."""

    corpus_dir: Path = _setting(lambda: Path.cwd() / "corpus", "CAREQA_CORPUS", Path, "corpus folder")
    index_root: Path = _setting(lambda: Path.cwd() / "index", "CAREQA_INDEX_DIR", Path, "folder of indexes")
    index_name: str = _setting("default", "CAREQA_INDEX", _index_name, "index name")
    model: str = _setting(DEFAULT_MODEL, "CAREQA_MODEL", _text, "embedding model (bundled name or local folder)")
    k: int = _setting(5, "CAREQA_K", _number(int, 1, MAX_K), "passages retrieved per question")
    # measured: benchmarks/chunking.py (256 tokens with 32 overlap had the best MRR)
    chunk_tokens: int = _setting(256, "CAREQA_CHUNK_TOKENS", _number(int, 32, 8192), "tokens per passage")
    chunk_overlap: int = _setting(32, "CAREQA_CHUNK_OVERLAP", _number(int, 0, 4096), "tokens shared by neighbours")
    fusion: str = _setting("weighted", "CAREQA_FUSION", _choice(FUSION_METHODS), "how dense and BM25 are fused")
    # measured on SciFact: weighted 0.5 and 0.6 tie at NDCG@10 0.730, ahead of RRF (0.715)
    fusion_weight: float = _setting(0.5, "CAREQA_FUSION_WEIGHT", _number(float, 0, 1), "weight of the dense side")
    max_file_mb: float = _setting(50.0, "CAREQA_MAX_FILE_MB", _positive, "largest corpus file read")
    upload_mb: float = _setting(20.0, "CAREQA_UPLOAD_MB", _positive, "largest upload in the app")
    # five uploads at the limit: a batch of reports, not a flood
    upload_pending_mb: float = _setting(100.0, "CAREQA_UPLOAD_PENDING_MB", _positive,
                                        "uploads one client may have waiting in the app, not yet added")
    upload_cache_mb: float = _setting(1000.0, "CAREQA_UPLOAD_CACHE_MB", _positive,
                                      "uploads all clients together may have waiting in the app")
    # time enough to fill in a title, publisher and date after choosing a file
    upload_minutes: float = _setting(30.0, "CAREQA_UPLOAD_MINUTES", _positive,
                                     "minutes an upload not added waits before it is deleted")
    # a question of a long paragraph is ~1,000 characters; more is a document pasted by mistake
    max_question_chars: int = _setting(2000, "CAREQA_MAX_QUESTION_CHARS", _number(int, 10, 1_000_000),
                                       "longest question, in characters")
    # measured: benchmarks/attack.py (~0.13 s a passage with its sentences on 2 cores: ~4-5 min)
    passage_budget: int = _setting(2000, "CAREQA_PASSAGE_BUDGET", _number(int, 1),
                                   "passages one file may need; a larger file is skipped with its estimate")
    # measured, benchmarks/ui_latency.py --clients 8 on 2 busy cores: 1 at a time 29 questions/s
    # (p95 363 ms), 4 at a time 36/s (p95 276 ms), 8 no better than 4
    ui_concurrency: int = _setting(4, "CAREQA_UI_CONCURRENCY", _number(int, 1, 64), "questions the app answers at once")
    parse_seconds: float = _setting(120.0, "CAREQA_PARSE_SECONDS", _positive, "time limit per parsed file")
    parse_memory_mb: float = _setting(2048.0, "CAREQA_PARSE_MEMORY_MB", _number(float, 64), "parser memory limit")
    index_embedder: str = _setting("torch", "CAREQA_INDEX_EMBEDDER", _choice(("torch", "onnx")),
                                   "what embeds passages at build time (questions always use onnx)")
    cache_dir: Path = _setting(_cache_home, "CAREQA_CACHE_DIR", Path, "folder for the model's ONNX export")
    store: str = _setting("faiss", "CAREQA_STORE", _choice(STORES), "where the index lives")
    milvus_uri: str = _setting("", "CAREQA_MILVUS_URI", _milvus_uri,
                               "Milvus Lite file (.db) or Milvus server address ('' = <index dir>/milvus.db)",
                               echo=False)
    milvus_token: str = _setting("", "CAREQA_MILVUS_TOKEN", str, "Milvus token or user:password (never printed)",
                                 echo=False)
    vector_index: str = _setting("auto", "CAREQA_VECTOR_INDEX", _choice(VECTOR_INDEXES),
                                 "exact (flat) or approximate (hnsw) vector search; auto picks by size")
    # measured: benchmarks/scale.py (exact search costs ~0.14 us a passage on one core, 1.6 ms at
    # 10k and 14 ms at 100k; HNSW stays under 1 ms): exact while under ~7 ms a question
    exact_max: int = _setting(50_000, "CAREQA_EXACT_MAX", _number(int, 0),
                              "passages up to which auto uses exact search")
    # measured: benchmarks/scale.py (M 32, construction 64, search 128: recall@10 0.985 at 1M
    # passages in 0.5 ms a question, a graph of ~0.3 GB beside the 1.5 GB of vectors)
    hnsw_m: int = _setting(32, "CAREQA_HNSW_M", _number(int, 4, 128), "HNSW links per vector")
    hnsw_ef_construction: int = _setting(64, "CAREQA_HNSW_EF_CONSTRUCTION", _number(int, 8, 1024),
                                         "HNSW candidates kept while building")
    hnsw_ef_search: int = _setting(128, "CAREQA_HNSW_EF_SEARCH", _number(int, 8, 4096),
                                   "HNSW candidates kept while searching")
    llm_url: str = _setting("", "CAREQA_LLM_URL", _llm_url, "OpenAI-compatible model server ('' = extractive answers)",
                            echo=False)
    llm_model: str = _setting("", "CAREQA_LLM_MODEL", _text, "model name the server knows, e.g. llama3.2")
    # a CPU-only laptop writes ~5-10 tokens/s after reading a ~3,000-token prompt: 2 minutes is room for both
    llm_timeout: float = _setting(120.0, "CAREQA_LLM_TIMEOUT", _positive, "seconds allowed for a model's whole reply")
    llm_key_env: str = _setting("CAREQA_LLM_API_KEY", "CAREQA_LLM_KEY_ENV", _env_name,
                                "environment variable holding the model server's API key")
    # passages plus instructions and a 600-token answer fit a 4,096-token context (Ollama's default)
    llm_passage_tokens: int = _setting(2400, "CAREQA_LLM_PASSAGE_TOKENS", _number(int, 200, 200_000),
                                       "prompt tokens given to passages")
    llm_max_tokens: int = _setting(600, "CAREQA_LLM_MAX_TOKENS", _number(int, 16, 32_000), "longest model reply, in tokens")

    def __post_init__(self):
        if self.llm_url and not self.llm_model:
            raise SettingsError("CAREQA_LLM_MODEL (--llm-model) must name a model when CAREQA_LLM_URL is set")
        if not self.upload_mb <= self.upload_pending_mb <= self.upload_cache_mb:
            raise SettingsError(f"CAREQA_UPLOAD_PENDING_MB ({self.upload_pending_mb:g}) must be from CAREQA_UPLOAD_MB "
                                f"({self.upload_mb:g}) to CAREQA_UPLOAD_CACHE_MB ({self.upload_cache_mb:g})")

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Settings":
        """Defaults, then CAREQA_* variables, then explicit overrides (None ignored); all checked."""
        env = os.environ if env is None else env
        values: dict = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is not None and raw != "":
                values[f.name] = _parsed(f, raw, f.metadata["env"])
        for name, value in overrides.items():
            if value is not None:
                f = next((x for x in fields(cls) if x.name == name), None)
                if f is None:
                    raise TypeError(f"unknown setting {name}")
                option = f"-{name}" if len(name) == 1 else f"--{name.replace('_', '-')}"
                values[name] = _parsed(f, value, option) if isinstance(value, str) else value
        for key in ("corpus_dir", "index_root", "cache_dir"):
            if key in values:
                values[key] = Path(values[key]).expanduser()
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @property
    def index_dir(self) -> Path:
        return self.index_root / self.index_name

    @property
    def milvus_address(self) -> str:
        """The Milvus URI in use: the setting, or the Milvus Lite file index/milvus.db."""
        return self.milvus_uri or str(self.index_root / "milvus.db")


def _parsed(f, raw: str, name: str):
    try:
        return f.metadata["parse"](raw)
    except ValueError as exc:
        got = f" (got {raw!r})" if f.metadata["echo"] else ""
        raise SettingsError(f"{name} must be {exc}{got}") from None


def env_help(name: str) -> str:
    """'(env CAREQA_K; default 5)' for a Settings field, for the CLI's option help."""
    f = next(x for x in fields(Settings) if x.name == name)
    default = f.default_factory() if f.default is MISSING else f.default
    return f"env {f.metadata['env']}; default {default}"
