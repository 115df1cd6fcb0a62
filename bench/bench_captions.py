"""Benchmark: sarbench caption metrics vs pycocoevalcap 1.2 on 6,032 description pairs.

Usage: python bench/bench_captions.py [--pairs 6032] [--no-meteor]

Times (wall clock, one process) our ``caption_scores`` (Java-free tokenizer + BLEU/CIDEr/ROUGE)
against pycocoevalcap's PTBTokenizer (Java) + Bleu(4) + Cider + Rouge on the same
deterministic SARChat-style references and VLM-style predictions, checks that every score
agrees to 1e-9, then times METEOR (the same Java jar both ways) separately.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrics.captions import caption_scores, tokenize  # noqa: E402
from metrics.captions.meteor import meteor  # noqa: E402

CATEGORIES = ["ship", "aircraft", "car", "tank", "bridge", "harbor"]
GRID = [
    "top left",
    "top",
    "top right",
    "left",
    "center",
    "right",
    "bottom left",
    "bottom",
    "bottom right",
    "upper left",
    "lower right",
    "central",
]
SIZES = ["small", "medium-sized", "medium sized", "large", "very small"]
EXTRAS = [
    ",",
    ";",
    ".",
    "(approx.)",
    "'",
    '"',
    "...",
    "e.g.",
    "{<12><34><56><78>}",
    "[0.1, 0.2, 0.5, 0.7]",
    "3.5",
    "it's",
    "don't",
    "top-left",
    ":",
    "--",
    "U.S.",
]


def pairs(n: int, seed: int = 2025) -> tuple[list[str], list[str]]:
    r = random.Random(seed)
    refs, preds = [], []
    for _ in range(n):
        parts = ["In this satellite image, we can observe the following:"]
        for _ in range(r.randint(1, 6)):
            parts.append(
                r.choice(
                    [
                        "A {s} {c} is visible in the {g} portion of the image",
                        "There is one more {s} {c} on the {g} side of the image",
                        "Also, we can observe another {s} {c} in the {g} region of the image.",
                    ]
                ).format(s=r.choice(SIZES), c=r.choice(CATEGORIES), g=r.choice(GRID))
            )
        ref = " ".join(parts)
        words = ref.split()[r.randint(0, 8) :]
        out = []
        for w in words:
            out.append(r.choice(CATEGORIES) if r.random() < 0.06 else w)
            if r.random() < 0.06:
                out.append(r.choice(EXTRAS))
        refs.append(ref)
        preds.append(" ".join(out) + r.choice(["", ".", "!", " etc.", "\u2026"]))
    return preds, refs


def reference(preds: list[str], refs: list[str]) -> dict[str, float]:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": c}] for i, c in enumerate(refs)})
    res = tok.tokenize({i: [{"caption": c}] for i, c in enumerate(preds)})
    with contextlib.redirect_stdout(io.StringIO()):
        b, _ = Bleu(4).compute_score(gts, res)
    out = {f"bleu{k + 1}": 100 * b[k] for k in range(4)}
    out["cider"] = 100 * Cider().compute_score(gts, res)[0]
    out["rouge_l"] = 100 * Rouge().compute_score(gts, res)[0]
    out["_tokens"] = ([res[i][0] for i in range(len(preds))], [gts[i][0] for i in range(len(refs))])
    return out


def _cpu() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def timed(fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds of this process and its finished children)."""
    wall, cpu = time.perf_counter(), _cpu()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - wall, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=6032)
    parser.add_argument("--no-meteor", action="store_true")
    args = parser.parse_args()
    preds, refs = pairs(args.pairs)
    print(f"{args.pairs} pairs; {platform.machine()}, Python {platform.python_version()}")

    ours, t_cold, c_cold = timed(caption_scores, preds, refs, meteor=False)
    _, t_warm, c_warm = timed(caption_scores, preds, refs, meteor=False)
    ref, t_ref, c_ref = timed(reference, preds, refs)
    hyp_tok, ref_tok = ref.pop("_tokens")
    same_tokens = tokenize(preds) == hyp_tok and tokenize(refs) == ref_tok
    diff = max(abs(ours[k] - ref[k]) for k in ref)
    print(f"tokens identical: {same_tokens}; max |ours - pycocoevalcap| = {diff:.3g}")
    for k in ref:
        print(f"  {k:8s} ours {ours[k]:.10f}  pycocoevalcap {ref[k]:.10f}")
    print("tokenizer+BLEU+CIDEr+ROUGE, wall s (CPU s incl. the JVM):")
    print(f"  ours, first call in the process: {t_cold:.2f} ({c_cold:.2f})")
    print(f"  ours, warm:                      {t_warm:.2f} ({c_warm:.2f})")
    print(f"  pycocoevalcap:                   {t_ref:.2f} ({c_ref:.2f})")
    print(
        f"  speed-up: {t_ref / t_cold:.1f}x wall first call, {t_ref / t_warm:.1f}x warm; "
        f"{c_ref / c_cold:.1f}x CPU first call"
    )
    if args.no_meteor:
        return
    from pycocoevalcap.meteor.meteor import Meteor

    def coco_meteor():
        scorer = Meteor()
        score, _ = scorer.compute_score(
            {i: [g] for i, g in enumerate(ref_tok)}, {i: [h] for i, h in enumerate(hyp_tok)}
        )
        del scorer
        return score

    m_ours, tm_ours, _ = timed(lambda: meteor(tokenize(preds), tokenize(refs)))
    m_ref, tm_ref, _ = timed(coco_meteor)
    print(
        f"METEOR (same jar both ways; ours includes our tokenizer, pycocoevalcap's its "
        f"PTB-tokenised input): ours {100 * m_ours:.10f} in {tm_ours:.1f} s, pycocoevalcap "
        f"{100 * m_ref:.10f} in {tm_ref:.1f} s, |diff| {abs(m_ours - m_ref) * 100:.3g}"
    )


if __name__ == "__main__":
    main()
