"""The embedding budget: how long embedding a text will take, said before it starts, and the
files too large to embed in one sitting.

Embedding is the slow part of a build (passages, then the sentences inside them); reading and
chunking are fast beside it. So the estimate is counted in passages and sentences, from the
size of the text, and a file whose text would need more passages than Settings.passage_budget
(CAREQA_PASSAGE_BUDGET) is left out with its estimate in one line rather than holding the
writer lock for an hour.
"""
from __future__ import annotations

from .config import Settings

# measured: benchmarks/attack.py on the bundled corpus (89 passages of 256 tokens from 88,994
# characters: 3.9 characters per token of a passage's size; 708 sentences: 126 characters each)
CHARS_PER_PASSAGE_TOKEN = 3.9
CHARS_PER_SENTENCE = 126
# measured the same way with the bundled model on 2 shared cores: 15-24 passages and 53-190
# sentences a second as the other load on them varied; the middle of each, so "about" holds
PASSAGES_PER_SECOND = 20.0
SENTENCES_PER_SECOND = 100.0


def passages_for(settings: Settings, chars: int) -> int:
    """About how many passages a text of `chars` characters is cut into."""
    return max(1, round(chars / (CHARS_PER_PASSAGE_TOKEN * settings.chunk_tokens)))


def embed_seconds(passages: int, sentences: int) -> float:
    """About how long embedding that many passages and sentences takes here."""
    return passages / PASSAGES_PER_SECOND + sentences / SENTENCES_PER_SECOND


def duration(seconds: float) -> str:
    """'about 40 s', 'about 12 min', 'about 1.5 h': how long, as a person would say it."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"


def text_estimate(settings: Settings, chars: int) -> tuple[int, float]:
    """(passages, seconds to embed them and their sentences) for a text of `chars` characters."""
    passages = passages_for(settings, chars)
    return passages, embed_seconds(passages, round(chars / CHARS_PER_SENTENCE))


def over_budget(settings: Settings, chars: int) -> str:
    """Why a text of `chars` characters is too large to embed ('' when it is within the budget)."""
    passages, seconds = text_estimate(settings, chars)
    if passages <= settings.passage_budget:
        return ""
    return (f"needs about {passages:,} passages ({duration(seconds)} to embed), over the "
            f"{settings.passage_budget:,}-passage budget (CAREQA_PASSAGE_BUDGET)")


def build_estimate(passages: int, sentences: int) -> str:
    """The line said before embedding starts."""
    return (f"{passages:,} passages and {sentences:,} sentences to embed: "
            f"{duration(embed_seconds(passages, sentences))}")
