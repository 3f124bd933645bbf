"""Checking one version of the Milvus store: its collections agree with each other and with the
manifest (counts, dimension, document row ranges, offsets inside the text, unit vectors)."""
from __future__ import annotations

import numpy as np

from .milvus_index import LENGTH, P_FROM, MilvusIndex


def count(client, name: str) -> int:
    return int(client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"])


def check_catalogue(stored: MilvusIndex) -> list[str]:
    """Documents listed alike in manifest and catalogue, owning consecutive row ranges."""
    m, problems = stored.manifest, []
    listed = {e["doc_id"]: e for e in m.get("documents", {}).values()}
    if set(listed) != set(stored.numbers):
        extra, missing = set(stored.numbers) - set(listed), set(listed) - set(stored.numbers)
        problems.append(f"the catalogue and the manifest disagree (only in the catalogue: {sorted(extra) or 'none'}; "
                        f"only in the manifest: {sorted(missing) or 'none'})")
    passage = sentence = 0
    for doc_id in stored.numbers:
        e, entry = stored.entry(doc_id), listed.get(doc_id, {})
        p_from, p_to = e["passage_from"], e["passage_to"]
        if (p_from, e["sentence_from"]) != (passage, sentence) or p_to - p_from != entry.get("chunks", p_to - p_from):
            problems.append(f"{entry.get('title') or doc_id}: {p_to - p_from} chunks stored at rows {p_from}-{p_to}, "
                            f"the manifest says {entry.get('chunks')}")
        passage, sentence = p_to, e["sentence_to"]
    if passage != m.get("chunks"):
        problems.append(f"the documents own {passage} chunks, the manifest says {m.get('chunks')}")
    return problems


def check_passages(stored: MilvusIndex, lengths: np.ndarray) -> list[str]:
    """Each passage inside its document's text, in its document's rows, with a unit vector."""
    problems, bounds = [], np.array([e[P_FROM] for e in stored.catalogue] + [stored.num_chunks])
    for page in stored.pages(stored.names.passages, "", ["row", "document", "start", "end", "vector"]):
        row = np.array([r["row"] for r in page])
        doc = np.array([r["document"] for r in page])
        start, end = np.array([r["start"] for r in page]), np.array([r["end"] for r in page])
        owner = np.searchsorted(bounds, row, side="right") - 1
        if (owner != doc).any() or (start < 0).any() or (start >= end).any() or (end > lengths[doc]).any():
            problems.append("some passages do not match their document's text or rows")
        norms = np.linalg.norm(np.array([r["vector"] for r in page], dtype="float32"), axis=1)
        if not np.allclose(norms, 1.0, atol=1e-3):
            problems.append("some passage vectors are not unit length")
        if problems:
            break
    return problems


def check_sentences(stored: MilvusIndex, lengths: np.ndarray) -> list[str]:
    for page in stored.pages(stored.names.sentences, "", ["document", "start", "end"]):
        doc = np.array([r["document"] for r in page])
        start, end = np.array([r["start"] for r in page]), np.array([r["end"] for r in page])
        if (start < 0).any() or (start >= end).any() or (end > lengths[doc]).any():
            return ["the sentence table points outside some document"]
    return []


def check_version(client, stored: MilvusIndex) -> list[str]:
    """Problems with a loaded version, one line each; empty when it is whole and consistent."""
    m, names = stored.manifest, stored.names
    problems = []
    dims = {f["name"]: f.get("params", {}).get("dim") for f in client.describe_collection(names.passages)["fields"]}
    if dims.get("vector") != m.get("dimension"):
        problems.append(f"vectors have dimension {dims.get('vector')} but the manifest says {m.get('dimension')}")
    held = count(client, names.passages), count(client, names.sentences)
    if held != (m.get("chunks"), m.get("sentences")):
        problems.append(f"Milvus holds {held[0]} passages and {held[1]} sentences, the manifest says "
                        f"{m.get('chunks')} and {m.get('sentences')}")
    problems += check_catalogue(stored)
    lengths = np.array([e[LENGTH] for e in stored.catalogue] + [0])
    return problems + check_passages(stored, lengths) + check_sentences(stored, lengths)
