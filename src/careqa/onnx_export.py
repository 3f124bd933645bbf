"""An ONNX copy of a sentence-transformers model, made on this machine, so questions are embedded
without importing torch (a cold `careqa ask` spends most of its time importing torch otherwise).

The export lives in the user's cache folder (Settings.cache_dir, CAREQA_CACHE_DIR), one folder per
model, not inside an index: one export serves every index and every store on the machine, it is
not copied into each index version nor pruned with them, and the cache is writable where the
installed package may not be. It is made at the first index build (the model is loaded then
anyway), by `make install`, or, failing both, at the first question. Nothing is downloaded.

    <cache_dir>/onnx/<model name>-<sha of its path>/
        model.onnx      the transformer, mean pooling and L2 normalisation in one graph
        tokenizer.json  the model's own fast tokenizer, truncating at the model's max_seq_length
        export.json     source path, fingerprint of the source files, inputs, careqa version

An export is used only when its fingerprint (names, sizes and modification times of the source
model's files) still matches and it reproduced the torch model's vectors when it was made.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from .errors import CareqaError

EXPORT_FORMAT = 1
MIN_COSINE = 0.9999  # an export is kept only when it reproduces the torch vectors this closely
PROBES = ["How are patients helped home from hospital?", "a",  # a question, one letter, and past 256 tokens
          "Integrated care joins up health and social care services around the person. " * 40]
OPSET = 17  # supported by the TorchScript exporter and by every onnxruntime since 1.14


def export_dir(cache_dir: Path, name: str, model_path: str) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[-60:]
    return cache_dir / "onnx" / f"{slug}-{hashlib.sha256(model_path.encode()).hexdigest()[:12]}"


def fingerprint(model_path: str) -> str:
    """Names, sizes and modification times of the model's files: cheap to check at every start."""
    root = Path(model_path)
    stats = sorted((p.relative_to(root).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
                   for p in root.rglob("*") if p.is_file())
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()


def usable(folder: Path, model_path: str) -> dict | None:
    """The export's description when it exists and matches the model's files, else None."""
    try:
        info = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if info.get("format") != EXPORT_FORMAT or info.get("fingerprint") != fingerprint(model_path):
        return None
    return info if (folder / "model.onnx").exists() and (folder / "tokenizer.json").exists() else None


class _Pooled:
    """Factory for the torch module exported: transformer output mean-pooled over real tokens
    and L2-normalised, exactly as sentence-transformers' Pooling(mean) + Normalize compute it."""

    @staticmethod
    def build(transformer, inputs: list[str]):
        import torch

        class Pooled(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.transformer = transformer

            def forward(self, *args):
                feed = dict(zip(inputs, args))
                tokens = self.transformer(**feed)[0]
                mask = feed["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(mean, p=2, dim=1)

        return Pooled().eval()


def _check_pooling(model) -> None:
    """Only Transformer + mean Pooling (+ Normalize) is reproduced in the graph; other models
    keep the torch path."""
    names = [type(m).__name__ for m in model]
    config = model[1].get_config_dict() if len(names) > 1 else {}
    mean = config.get("pooling_mode") == "mean" or (
        config.get("pooling_mode_mean_tokens") is True and
        not any(config.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                        "pooling_mode_mean_sqrt_len_tokens")))
    if names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]) or not mean:
        raise CareqaError(f"only Transformer + mean Pooling models are exported to ONNX ({', '.join(names)})")


def _export_graph(model, folder: Path) -> list[str]:
    """Write folder/model.onnx from the loaded sentence-transformers model; its input names."""
    import torch

    _check_pooling(model)
    tokenizer = model.tokenizer
    sample = tokenizer(["a question", "a longer second text"], padding=True, return_tensors="pt")
    inputs = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    module = _Pooled.build(model[0].auto_model, inputs)
    axes = {n: {0: "batch", 1: "tokens"} for n in inputs} | {"embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shapes the dynamic axes already cover
        torch.onnx.export(module, tuple(sample[n] for n in inputs), str(folder / "model.onnx"),
                          input_names=inputs, output_names=["embedding"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    backend = tokenizer.backend_tokenizer
    backend.no_padding()
    backend.enable_truncation(max_length=int(model.max_seq_length))
    backend.save(str(folder / "tokenizer.json"))
    return inputs


def _fuse(folder: Path, hidden: int, heads: int) -> bool:
    """Fuse attention and layer norms for onnxruntime (about 1.5x faster on 2 cores); False when
    the optimizer does not know the model's shape."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        fused = optimize_model(str(folder / "model.onnx"), model_type="bert", num_heads=heads,
                               hidden_size=hidden, opt_level=1)
        fused.save_model_to_file(str(folder / "fused.onnx"))
        return True
    except Exception:  # the unfused graph is correct, only slower
        return False


def _agreement(model, folder: Path, graph: str) -> float:
    """Lowest cosine between the torch model's vectors and the export's on the probe texts."""
    from .embed import OnnxEmbedder

    reference = model.encode(PROBES, normalize_embeddings=True, convert_to_numpy=True)
    ours = OnnxEmbedder(folder, graph).encode(PROBES)
    return float((reference * ours).sum(axis=1).min())


def ours_dimension(folder: Path) -> int:
    from .embed import OnnxEmbedder

    return OnnxEmbedder(folder).dim


def export(model, name: str, model_path: str, cache_dir: Path) -> Path:
    """Export a loaded SentenceTransformer into the cache (atomically); the export folder.

    CareqaError when the model cannot be exported faithfully: callers then keep using torch.
    """
    final = export_dir(cache_dir, name, model_path)
    if usable(final, model_path):
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=final.parent))
    try:
        inputs = _export_graph(model, tmp)
        config = model[0].auto_model.config
        graph = "model.onnx"
        if _fuse(tmp, config.hidden_size, config.num_attention_heads) and \
                _agreement(model, tmp, "fused.onnx") >= MIN_COSINE:
            os.replace(tmp / "fused.onnx", tmp / "model.onnx")
        cosine = _agreement(model, tmp, graph)
        if cosine < MIN_COSINE:
            raise CareqaError(f"the ONNX export of {name} does not reproduce its vectors (cosine {cosine:.4f})")
        (tmp / "fused.onnx").unlink(missing_ok=True)
        info = {"format": EXPORT_FORMAT, "model": name, "source": model_path, "inputs": inputs,
                "fingerprint": fingerprint(model_path), "min_cosine": round(cosine, 6),
                "dimension": int(ours_dimension(tmp))}
        (tmp / "export.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        return final
    except OSError as exc:
        raise CareqaError(f"{final}: cannot write the ONNX export ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """`python -m careqa.onnx_export`: export the configured model (run by `make install`)."""
    from .config import Settings
    from .embed import get_embedder

    settings = Settings.from_env()
    embedder = get_embedder(settings.model)
    folder = embedder.export_onnx(settings.cache_dir)
    print(f"ONNX export of {settings.model}: {folder}")


if __name__ == "__main__":
    main()
