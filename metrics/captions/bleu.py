"""Corpus BLEU-1..4 exactly as pycocoevalcap 1.2's ``Bleu(4)`` computes it.

pycocoevalcap sums clipped n-gram matches, n-gram counts and lengths over the corpus, uses the
'closest' reference length (with one reference: its length), and smooths every precision as
``(correct + 1e-15) / (guess + 1e-9)``. Here the counting is vectorised with numpy; the final
arithmetic is the library's, operation for operation, on the same integer totals.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["NgramIndex", "bleu"]


class NgramIndex:
    """Integer ids for the 1..n-grams of hypotheses and references (split on whitespace).

    ``counts(n, side)`` gives, per distinct (sentence, n-gram) of that side, the sentence
    index, the n-gram id and its count; ids are shared between the two sides.
    """

    def __init__(self, hyps: list[list[str]], refs: list[list[str]], max_n: int = 4):
        words = [w for sent in hyps + refs for w in sent]
        vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
        ids = np.fromiter(map(vocab.__getitem__, words), np.int64, len(words))
        lens = np.array([len(s) for s in hyps + refs], dtype=np.int64)
        self.n_sent = len(hyps)
        self.hyp_len, self.ref_len = lens[: self.n_sent], lens[self.n_sent :]
        sent = np.repeat(np.arange(len(lens)), lens)
        offset = np.arange(len(ids)) - np.repeat(np.cumsum(lens) - lens, lens)
        self._grams, self._matches = {}, {}
        key = ids
        for n in range(1, max_n + 1):
            if n > 1:  # extend (n-1)-gram ids by the next word, then renumber densely
                key = np.unique(key[:-1] * (len(vocab) + 1) + ids[n - 1 :], return_inverse=True)[1]
                sent, offset = sent[:-1], offset[:-1]
            valid = offset + n <= lens[sent]
            self._grams[n] = (sent[valid], key[valid], int(key.max(initial=0)) + 1)

    def counts(self, n: int, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sent, key, n_keys = self._grams[n]
        mask = sent < self.n_sent if side == "hyp" else sent >= self.n_sent
        sent = sent[mask] - (0 if side == "hyp" else self.n_sent)
        uniq, count = np.unique(sent * n_keys + key[mask], return_counts=True)
        return uniq // n_keys, uniq % n_keys, count

    def matches(self, n: int):
        """(hyp counts, ref counts, positions in each of the (sentence, n-gram) pairs of both)."""
        if n not in self._matches:
            self._matches[n] = self._match(n)
        return self._matches[n]

    def _match(self, n: int):
        hyp, ref = self.counts(n, "hyp"), self.counts(n, "ref")
        n_keys = self._grams[n][2]
        _, in_hyp, in_ref = np.intersect1d(
            hyp[0] * n_keys + hyp[1], ref[0] * n_keys + ref[1], assume_unique=True, return_indices=True
        )
        return hyp, ref, in_hyp, in_ref


def bleu(index: NgramIndex, n: int = 4) -> list[float]:
    """BLEU-1..n (fractions, not ×100) of the corpus described by ``index``."""
    correct, guess = [], []
    for k in range(1, n + 1):
        hyp, ref, in_hyp, in_ref = index.matches(k)
        correct.append(int(np.minimum(hyp[2][in_hyp], ref[2][in_ref]).sum()))
        guess.append(int(np.maximum(index.hyp_len - k + 1, 0).sum()))
    testlen, reflen = int(index.hyp_len.sum()), int(index.ref_len.sum())
    tiny, small = 1e-15, 1e-9  # pycocoevalcap's (swapped-name) smoothing constants
    scores, product = [], 1.0
    for k in range(n):
        product *= float(correct[k] + tiny) / (guess[k] + small)
        scores.append(product ** (1.0 / (k + 1)))
    ratio = (testlen + tiny) / (reflen + small)
    if ratio < 1:
        scores = [s * math.exp(1 - 1 / ratio) for s in scores]
    return scores
