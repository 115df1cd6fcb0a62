"""Caption metrics of the describe subset: BLEU-1..4, CIDEr-D, ROUGE-L and METEOR.

:func:`caption_scores` reproduces pycocoevalcap 1.2 (``PTBTokenizer`` + punctuation filter,
then ``Bleu(4)``, ``Cider``, ``Rouge``, ``Meteor``) without needing Java for anything but
METEOR: the tokenizer and the three scorers are re-implemented here and tested against the
library to 1e-9. Scores are corpus-level over the whole subset, one reference per sample,
×100.
"""

from __future__ import annotations

from .bleu import NgramIndex, bleu
from .cider import cider
from .meteor import meteor as meteor_score
from .meteor import meteor_unavailable_reason
from .ptb_tokenizer import tokenize
from .rouge import rouge_l

__all__ = [
    "CAPTION_KEYS",
    "caption_scores",
    "meteor_score",
    "meteor_unavailable_reason",
    "scores_from_tokens",
    "tokenize",
    "tokenize_pairs",
]

CAPTION_KEYS = ("bleu1", "bleu2", "bleu3", "bleu4", "cider", "rouge_l", "meteor")


def caption_scores(
    predictions: list[str | None], references: list[str], *, meteor: bool | None = None
) -> dict[str, float | None]:
    """Corpus caption metrics ×100 for aligned predictions and references.

    A missing (``None``) prediction counts as the empty caption. An empty list means the
    subset is absent: every value is ``None``. ``meteor``: ``None`` computes METEOR when Java
    and pycocoevalcap are available, ``False`` never does, ``True`` also only when available
    (otherwise the value is ``None``; :func:`meteor_unavailable_reason` says why). METEOR is
    never reported as 0 for being unavailable.
    """
    if not predictions and not references:
        return dict.fromkeys(CAPTION_KEYS)
    hyps, refs = tokenize_pairs(predictions, references)
    scores = scores_from_tokens(hyps, refs)
    value = meteor_score(hyps, refs) if meteor is not False else None
    scores["meteor"] = None if value is None else 100.0 * value
    return scores


def tokenize_pairs(predictions: list[str | None], references: list[str]) -> tuple[list[str], list[str]]:
    """PTB-tokenised (hypotheses, references); lets a caller run METEOR on them concurrently."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    hyps = tokenize(["" if p is None else p for p in predictions])
    refs = tokenize(["" if r is None else r for r in references])
    return hyps, refs


def scores_from_tokens(hyps: list[str], refs: list[str]) -> dict[str, float | None]:
    """BLEU-1..4, CIDEr-D and ROUGE-L ×100 of tokenised text (no METEOR key)."""
    index = NgramIndex([h.split() for h in hyps], [r.split() for r in refs])
    scores = dict(zip(CAPTION_KEYS[:4], bleu(index)))
    scores["cider"] = cider(index)
    scores["rouge_l"] = rouge_l(hyps, refs)
    return {k: 100.0 * v for k, v in scores.items()}
