"""ROUGE-L exactly as pycocoevalcap 1.2's ``Rouge`` computes it (one reference per sample).

Tokens come from ``str.split(" ")`` (so an empty caption is one empty token, a library quirk);
P = LCS / len(hypothesis), R = LCS / len(reference), score = (1 + β²)·P·R / (R + β²·P) with
β = 1.2 (0 when P or R is 0); the corpus score is the mean over samples. The LCS length is
computed bit-parallel (Allison-Dix / Crochemore et al.) on Python integers instead of the
library's O(n·m) table.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lcs_length", "rouge_l"]

BETA = 1.2


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two token lists."""
    if len(a) < len(b):
        a, b = b, a
    masks: dict[str, int] = {}
    for i, tok in enumerate(a):
        masks[tok] = masks.get(tok, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for tok in b:
        u = v & masks.get(tok, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def rouge_l(hyps: list[str], refs: list[str]) -> float:
    """Mean ROUGE-L (not ×100) of tokenised hypothesis/reference strings."""
    scores = []
    for hyp, ref in zip(hyps, refs):
        cand, target = hyp.split(" "), ref.split(" ")
        lcs = lcs_length(target, cand)
        prec, rec = lcs / float(len(cand)), lcs / float(len(target))
        if prec != 0 and rec != 0:
            scores.append(((1 + BETA**2) * prec * rec) / float(rec + BETA**2 * prec))
        else:
            scores.append(0.0)
    return float(np.mean(np.array(scores)))
