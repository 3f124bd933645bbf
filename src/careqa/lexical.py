"""BM25 over chunks, with one tokenizer shared by indexing, queries and answers."""
from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


# Words that frame a question rather than say what it is about: question words, modal verbs
# and the verbs of asking. Added to NLTK's English list (shipped with bm25s).
QUESTION_WORDS = frozenset({"what", "how", "why", "when", "which", "who", "whom", "whose", "where", "much",
                            "many", "could", "would", "might", "may", "shall", "must", "tell", "describe",
                            "explain", "list", "say", "says", "said", "versus", "vs", "please", "also"})


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """A maintained English stop-word list (NLTK's, as bm25s ships it) plus question words. The
    list's module is read on its own: importing bm25s itself loads scipy, a third of a cold start."""
    import importlib.util

    folder = importlib.util.find_spec("bm25s").submodule_search_locations[0]
    spec = importlib.util.spec_from_file_location("careqa_nltk_stopwords", f"{folder}/stopwords.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.STOPWORDS_EN_PLUS) | QUESTION_WORDS


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed word tokens."""
    stop = stopwords()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    return _stemmer().stemWords(words) if words else []


def shares_stem(term: str, have: set[str]) -> bool:
    """True when `have` holds the term or a word sharing its first five letters
    ("incentivis"/"incent", "coordin"/"coordinating"), as stemmers leave such pairs apart."""
    return term in have or (len(term) >= 5 and any(h[:5] == term[:5] for h in have))


K1 = 1.5  # BM25 term-frequency saturation: the common default (Lucene, bm25s)
B = 0.75  # BM25 length normalisation: the common default (Lucene, bm25s)


@dataclass(frozen=True)
class BM25:
    """Lucene BM25 weights of every (term, passage) pair as a term-major sparse matrix: the
    passages containing term t are indices[indptr[t]:indptr[t+1]], ascending, with weights
    data[...] (idf times the saturated term frequency). A question's score for a passage is the
    sum of the weights of its terms, so the arrays can stay on disk, memory-mapped, and only the
    question's terms are read."""

    vocab: dict[str, int]
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    num_docs: int

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(passage rows, weights) of a term; empty when the term is unknown."""
        t = self.vocab.get(term)
        if t is None:
            return self.indices[:0], self.data[:0]
        lo, hi = int(self.indptr[t]), int(self.indptr[t + 1])
        return self.indices[lo:hi], self.data[lo:hi]


def bm25_from_terms(docs: Iterable[list[str]]) -> BM25:
    """BM25 weights from each passage's terms (as `terms` gives them), vectorised with numpy."""
    vocab: dict[str, int] = {}
    ids, lengths = array("i"), array("q")
    for words in docs:
        ids.extend(vocab.setdefault(w, len(vocab)) for w in words)
        lengths.append(len(words))
    n, length = len(lengths), np.frombuffer(lengths, dtype="int64") if len(lengths) else np.zeros(0, "int64")
    doc = np.repeat(np.arange(n, dtype="int64"), length)
    pairs, tf = np.unique(np.frombuffer(ids, dtype="int32").astype("int64") * max(n, 1) + doc, return_counts=True) \
        if len(ids) else (np.zeros(0, "int64"), np.zeros(0, "int64"))
    term, doc = pairs // max(n, 1), pairs % max(n, 1)
    df = np.bincount(term, minlength=len(vocab))
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    norm = K1 * (1 - B + B * length / max(float(length.mean()) if n else 1.0, 1e-9))
    weights = idf[term] * tf / (norm[doc] + tf)
    indptr = np.concatenate([[0], np.cumsum(df)]).astype("int64")
    return BM25(vocab, indptr, doc.astype("int32"), weights.astype("float32"), n)


def build_bm25(texts: Iterable[str]) -> BM25:
    return bm25_from_terms(terms(t) for t in texts)


def bm25_scores(index: BM25, query: str, rows: np.ndarray | None = None) -> np.ndarray:
    """BM25 score of every passage for the query (zeros when no term is known), or of the given
    ascending passage rows only (reading just the query terms' postings)."""
    scores = np.zeros(index.num_docs if rows is None else len(rows), dtype="float32")
    for term in terms(query):
        found, weights = index.postings(term)
        if rows is None:
            scores[found] += weights
        elif len(found):
            at = np.searchsorted(found, rows).clip(max=len(found) - 1)
            hit = found[at] == rows
            scores[hit] += weights[at[hit]]
    return scores


def document_frequency(index: BM25, term: str) -> int:
    """In how many indexed texts a (stemmed) term occurs."""
    t = index.vocab.get(term)
    return 0 if t is None else int(index.indptr[t + 1] - index.indptr[t])
