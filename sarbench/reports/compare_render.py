"""Markdown and JSON renderings of `sarbench.compare` results."""

from __future__ import annotations

import json
import math

_RESPONSE_CHARS = 70


def _number(value, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _text(value, limit: int | None = None) -> str:
    text = " ".join(str(value).split()) if value is not None else "–"
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def _table(header: list[str], align: str, rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _left_out(c: dict) -> list[str]:
    left = c.get("left_out") or {}
    if not (left.get("only_a") or left.get("only_b")):
        return []
    return [
        f"Compared on the samples both runs scored (--common): {left['only_a']} only in A and "
        f"{left['only_b']} only in B left out; caption metrics (corpus-level) not compared.",
        "",
    ]


def _pair_markdown(c: dict) -> list[str]:
    level = f"{100 * (1 - c['alpha']):g}%"
    lines = [
        f"## {_text(c['b']['name'])} (B) vs {_text(c['a']['name'])} (A)",
        "",
        f"A: `{c['a']['folder']}`  ",
        f"B: `{c['b']['folder']}`  ",
        f"Data check: {c['data_check']}.",
        "",
        *_left_out(c),
        f"{c['samples']} samples on {c['clusters']} clusters (cluster key: {c['cluster_key']}); "
        f"**{c['differing']} of {c['samples']} samples scored differently** (any TP/FP/FN count, "
        "parse failure or count answer).",
        "",
        f"- Bootstrap CI (the verdict): images are resampled with replacement {c['bootstrap']} times "
        f"(seed {c['seed']}), each score recomputed for both runs on the same draw; the {level} "
        "interval of Δ = B − A. Significant when it excludes 0 (↓ = lower is better).",
        "- McNemar (a second look, per-sample hits only): an exact test on the samples exactly one run "
        "gets right; it treats samples as independent and ignores false positives, so where it "
        "disagrees with the CI, read the CI. No correction for multiple comparisons in either.",
        "",
    ]
    lines += [f"> warning: {w}" for w in c["warnings"]] + ([""] if c["warnings"] else [])
    rows = [
        [
            r["metric"] + (" ↓" if r["lower_is_better"] else ""),
            _number(r["a"]),
            _number(r["b"]),
            _number(r["delta"], signed=True),
            f"[{_number(r['ci_low'], True)}, {_number(r['ci_high'], True)}]",
            r["verdict"],
        ]
        for r in c["scores"]
    ]
    lines += _table(["score", "A", "B", "Δ (B − A)", f"{level} CI", "verdict (bootstrap CI)"], "lrrrll", rows)
    if c["captions"]:
        lines += ["Caption metrics are corpus-level (one number per subset): deltas without CI.", ""]
        rows = [
            [r["metric"], _number(r["a"]), _number(r["b"]), _number(r["delta"], True), r["verdict"]]
            for r in c["captions"]
        ]
        lines += _table(["score", "A", "B", "Δ (B − A)", "verdict"], "lrrrl", rows)
    if c["mcnemar"]:
        lines += [
            "### McNemar's exact test on per-sample hits",
            "",
            "Discordant samples only; samples are treated as independent.",
            "",
        ]
        rows = [
            [
                t["name"],
                t["definition"],
                str(t["n"]),
                str(t["a_only"]),
                str(t["b_only"]),
                f"{t['p_value']:.3g}",
                t["verdict"],
            ]
            for t in c["mcnemar"]
        ]
        lines += _table(["test", "hit =", "n", "A only", "B only", "p", "McNemar verdict"], "llrrrrl", rows)
    lines += [
        "### Samples where the runs disagree most",
        "",
        "Per-sample accuracy: mean of 100·TP/(TP+FP+FN) over the sample's metrics (count: exactness too).",
        "",
    ]
    if c["disagreements"]:
        rows = [
            [
                d["id"],
                d["subset"],
                _number(d["a"]),
                _number(d["b"]),
                _number(d["delta"], True),
                _text(d["a_response"], _RESPONSE_CHARS),
                _text(d["b_response"], _RESPONSE_CHARS),
            ]
            for d in c["disagreements"]
        ]
        lines += _table(["id", "subset", "A", "B", "Δ", "A response", "B response"], "llrrrll", rows)
    elif c["differing"] == 0:
        lines += ["None: the runs score every sample the same.", ""]
    elif c["top"] <= 0:
        lines += [f"{c['differing']} samples scored differently; none listed (--top {c['top']}).", ""]
    else:
        lines += [
            f"{c['differing']} samples scored differently, all with the same per-sample accuracy "
            "(their TP/FP/FN counts differ).",
            "",
        ]
    return lines


def to_markdown(comparisons: list[dict]) -> str:
    return "\n".join(line for c in comparisons for line in _pair_markdown(c)).rstrip() + "\n"


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def to_json(comparisons: list[dict]) -> str:
    return json.dumps({"comparisons": _clean(comparisons)}, indent=2, ensure_ascii=False) + "\n"
