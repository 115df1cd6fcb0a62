"""METEOR 1.5 through pycocoevalcap's Java wrapper, or ``None`` when it cannot run.

METEOR has no pure-Python equivalent (nltk's METEOR gives different numbers), so it needs both
a ``java`` executable on PATH and pycocoevalcap (which ships ``meteor-1.5.jar``). The jar is
fed tokenised single-line text only: raw text with newlines makes it hang.
"""
from __future__ import annotations

import importlib.util
import shutil

__all__ = ["meteor", "meteor_unavailable_reason"]


def meteor_unavailable_reason() -> str | None:
    """Why METEOR cannot be computed here, or ``None`` if it can."""
    if shutil.which("java") is None:
        return "no 'java' executable on PATH (METEOR 1.5 is a Java program)"
    if importlib.util.find_spec("pycocoevalcap") is None:
        return "pycocoevalcap is not installed (it ships meteor-1.5.jar); install sarbench[reference]"
    return None


def meteor(hyps: list[str], refs: list[str], scorer=None) -> float | None:
    """Corpus METEOR (not ×100) of tokenised hypothesis/reference strings, or ``None``.

    ``scorer``: a running ``pycocoevalcap.meteor.meteor.Meteor`` to reuse (its start-up,
    loading the paraphrase tables, takes ~10 s); by default one is started and stopped here.
    """
    if not hyps or (scorer is None and meteor_unavailable_reason() is not None):
        return None
    # The jar reads one line per request: a line break would desynchronise or hang it
    # (tokenised text has none; this only guards direct callers).
    hyps, refs = ([s.replace("\r", " ").replace("\n", " ") for s in side] for side in (hyps, refs))
    own = scorer is None
    if own:
        from pycocoevalcap.meteor.meteor import Meteor
        scorer = Meteor()
    try:
        score, _ = scorer.compute_score({i: [r] for i, r in enumerate(refs)},
                                        {i: [h] for i, h in enumerate(hyps)})
    finally:
        if own:
            scorer.meteor_p.stdin.close()
            scorer.meteor_p.kill()
            scorer.meteor_p.wait()
    return float(score)
