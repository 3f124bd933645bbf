"""BM25 over chunks (bm25s), with one tokenizer shared by indexing, queries and answers."""
from __future__ import annotations

import re
from functools import lru_cache

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
    """A maintained English stop-word list (NLTK's, as bm25s ships it) plus question words."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS) | QUESTION_WORDS


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed word tokens."""
    stop = stopwords()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    return _stemmer().stemWords(words) if words else []


def shares_stem(term: str, have: set[str]) -> bool:
    """True when `have` holds the term or a word sharing its first five letters
    ("incentivis"/"incent", "coordin"/"coordinating"), as stemmers leave such pairs apart."""
    return term in have or (len(term) >= 5 and any(h[:5] == term[:5] for h in have))


def build_bm25(texts: list[str]):
    import bm25s

    retriever = bm25s.BM25()
    retriever.index([terms(t) for t in texts], show_progress=False)
    return retriever


def bm25_scores(retriever, query: str) -> np.ndarray:
    """BM25 score of every indexed text for the query (zeros when no term is known)."""
    q = [t for t in terms(query) if t in retriever.vocab_dict]
    n = retriever.scores["num_docs"]
    if not q:
        return np.zeros(n, dtype="float32")
    return np.asarray(retriever.get_scores(q), dtype="float32")


def document_frequency(retriever, term: str) -> int:
    """In how many indexed texts a (stemmed) term occurs."""
    tid = retriever.vocab_dict.get(term)
    if tid is None:
        return 0
    indptr = retriever.scores["indptr"]
    return int(indptr[tid + 1] - indptr[tid])
