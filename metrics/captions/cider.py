"""CIDEr-D exactly as pycocoevalcap 1.2's ``Cider`` computes it (one reference per sample).

Per sample and n = 1..4: tf-idf vectors with idf = log(#samples) - log(max(1, df)), df counted
over the references of the scored set; similarity = sum over the hypothesis n-grams of
min(h, r) * r (the "clipping"), divided by both norms when neither is 0; times the length
penalty exp(-(Δ²) / (2·6²)), where pycocoevalcap's "length" is the number of *bigrams*
(its quirk). The sample score is 10 × the mean over n; the corpus score is the mean over
samples. A single sample gives log(1) = 0 weights, hence CIDEr 0, as in the library.
"""

from __future__ import annotations

import numpy as np

from .bleu import NgramIndex

__all__ = ["cider"]


def _sum_by(groups: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    # bincount returns integers when there is nothing to sum
    return np.bincount(groups, weights=values, minlength=size).astype(float, copy=False)


def cider(index: NgramIndex, n: int = 4, sigma: float = 6.0) -> float:
    """Corpus CIDEr-D (not ×100) of the corpus described by ``index``."""
    n_samples = index.n_sent
    log_samples = np.log(float(n_samples))
    # pycocoevalcap's length is the count of bigrams (n-gram index 1), not of words
    delta = (np.maximum(index.hyp_len - 1, 0) - np.maximum(index.ref_len - 1, 0)).astype(float)
    penalty = np.e ** (-(delta**2) / (2 * sigma**2))
    total = np.zeros(n_samples)
    for k in range(1, n + 1):
        hyp, ref, in_hyp, in_ref = index.matches(k)
        doc_freq = np.bincount(ref[1], minlength=int(max(hyp[1].max(initial=0), ref[1].max(initial=0))) + 1)
        weight = log_samples - np.log(np.maximum(1.0, doc_freq))
        vec_h, vec_r = hyp[2] * weight[hyp[1]], ref[2] * weight[ref[1]]
        norm_h = np.sqrt(_sum_by(hyp[0], vec_h**2, n_samples))
        norm_r = np.sqrt(_sum_by(ref[0], vec_r**2, n_samples))
        h, r = vec_h[in_hyp], vec_r[in_ref]
        val = _sum_by(hyp[0][in_hyp], np.minimum(h, r) * r, n_samples)
        both = (norm_h != 0) & (norm_r != 0)
        val[both] /= norm_h[both] * norm_r[both]
        total += val * penalty
    return float(np.mean(total / n * 10.0))
