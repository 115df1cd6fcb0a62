"""Caption metrics: our Java-free tokenizer and scorers against pycocoevalcap 1.2.

The comparisons with the library need ``java`` and pycocoevalcap (the 'reference' extra) and
are skipped without them; the unit tests at the end need neither.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import random
import shutil

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from metrics.captions import caption_scores, meteor_unavailable_reason, tokenize
from metrics.captions.bleu import NgramIndex, bleu
from metrics.captions.cider import cider
from metrics.captions.rouge import lcs_length, rouge_l

HAS_COCO = importlib.util.find_spec("pycocoevalcap") is not None
HAS_JAVA = shutil.which("java") is not None
needs_coco = pytest.mark.skipif(not HAS_COCO, reason="pycocoevalcap not installed")
needs_java = pytest.mark.skipif(not (HAS_COCO and HAS_JAVA), reason="needs java + pycocoevalcap")

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
SIZES = ["small", "medium-sized", "medium sized", "large", "very small", "very large"]
HOSTILE = [
    "",
    " ",
    "   \t  ",
    ".",
    "...",
    "!?",
    "--",
    "- item one",
    "* bullet",
    "**Ship**: present",
    "It's a ship; don't worry. The ships' wakes are visible!",
    "I'm sure it isn't, we'd've seen it",
    "\"Double\" and 'single' and `backtick` quotes.",
    "“curly” ‘quotes’ don’t matter’s",
    "A medium-sized ship at the top-left, a well-known bridge (bottom-right).",
    "The ship is at {<294><358><329><427>} near the top-left.",
    "<|box_start|>(12,34),(56,78)<|box_end|> <ref>ship</ref><box>(1,2),(3,4)</box>",
    "[0.12, 0.34, 0.56, 0.78] and (x1, y1, x2, y2) = (294, 358, 329, 427)",
    "Numbers: 3.5, 1,000, 4. and 45% and 1/2 and 3/4 km, 1 1/2 miles, 12:30, 2020-01-05.",
    "The U.S. Navy, e.g., ships etc. are here... really. i.e. The end",
    "approx. 5 ships, No. 3",
    "Multiple   spaces\ttabs\u00a0nbsp\u2003em-space.",
    "line one\nline two",
    "café résumé 30° ±2 ×3",
    "中文 描述：一艘船。",
    "🚢 emoji ⚓ and ☀",
    "AT&T &amp; Q&A, a & b, S&P-500",
    "C++ and c# and f#",
    "See http://example.com/path?x=1 and www.sar.org/x, mail foo@bar.com or @user #tag",
    "(parens) [brackets] {braces} <angle> < > << >> -> => != == ~ ^ |",
    "and/or w/o N/A 5km/h",
    "Mr. Smith at 5 p.m. on Jan. 5th. St. Louis, Ft. Worth",
    "cannot gonna wanna 'tis y'all o'clock",
    "3.5m 0.3m 800x800 x1.5 1.5x 10%-20% 1.5-2.5 -5 +3 5-10 1e-5",
    "— em – en ― bar … ellipsis",
    ":) :-( ;) ^_^ (^_^) <3",
    "ΟΔΟΣ ΣΑΡ",
    "The image is 800x800 pixels. THERE ARE 2 SHIPS.",
    "ships/aircraft/cars and ship's/aircraft's",
    "A.B.C. x.y.z ship.jpg file.txt. 1.X.",
    "¢5 £3 €2 ¥1 ₹4 $7 US$8",
    "½ ¼ ¾ ⅓ ² ³ ₂",
    "Σ-1 ΑΣ.Α",
    "\u200bzero\u200dwidth\ufeff",
]


def _description(r: random.Random) -> str:
    parts = ["In this satellite image, we can observe the following:"]
    templates = [
        "A {s} {c} is visible in the {g} portion of the image",
        "There is one more {s} {c} on the {g} side of the image",
        "Also, we can observe another {s} {c} in the {g} region of the image.",
        "{n} {c}s are located in the {g}",
    ]
    for _ in range(r.randint(1, 5)):
        parts.append(
            r.choice(templates).format(s=r.choice(SIZES), c=r.choice(CATEGORIES), g=r.choice(GRID), n=r.randint(2, 9))
        )
    return " ".join(parts)


def _answer(r: random.Random, ref: str) -> str:
    """A VLM-like answer: a reworded, partly wrong, variously punctuated reference."""
    words = ref.split()
    if r.random() < 0.3:
        words = words[r.randint(0, 6) :]
    out = []
    for w in words:
        k = r.random()
        out.append(r.choice(CATEGORIES) if k < 0.05 else r.choice(GRID) if k < 0.08 else w)
        if r.random() < 0.05:
            out.append(
                r.choice(
                    [
                        ",",
                        ";",
                        ".",
                        "!",
                        "(approx.)",
                        "-",
                        "'",
                        '"',
                        "...",
                        "e.g.",
                        "{<12><34><56><78>}",
                        "[0.1, 0.2]",
                        "3.5",
                        "it's",
                        "don't",
                    ]
                )
            )
    text = " ".join(out)
    if r.random() < 0.2:
        text = text.upper() if r.random() < 0.3 else text.capitalize()
    if r.random() < 0.3:
        text += r.choice([".", "!", " :)", " etc.", " (see above)", "\u2026", " U.S."])
    return text


def caption_fixture(n: int = 220, seed: int = 7) -> tuple[list[str], list[str]]:
    r = random.Random(seed)
    refs = [_description(r) for _ in range(n)]
    preds = [_answer(r, ref) for ref in refs]
    for i, text in enumerate(HOSTILE):  # hostile strings as predictions and as references
        preds[(3 * i) % n] = text
        refs[(3 * i + 1) % n] = text
        preds[(3 * i + 1) % n] = r.choice(HOSTILE)
    return preds, refs


def coco_tokenize(captions: list[str]) -> list[str]:
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    out = PTBTokenizer().tokenize({i: [{"caption": c}] for i, c in enumerate(captions)})
    return [out[i][0] for i in range(len(captions))]


def coco_scores(hyps: list[str], refs: list[str]) -> dict[str, float]:
    """pycocoevalcap's scorers on already tokenised strings, ×100."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    gts = {i: [r] for i, r in enumerate(refs)}
    res = {i: [h] for i, h in enumerate(hyps)}
    with contextlib.redirect_stdout(io.StringIO()):
        b, _ = Bleu(4).compute_score(gts, res)
    scores = {f"bleu{k + 1}": 100 * b[k] for k in range(4)}
    scores["cider"] = 100 * Cider().compute_score(gts, res)[0]
    scores["rouge_l"] = 100 * Rouge().compute_score(gts, res)[0]
    return scores


def our_scores(hyps: list[str], refs: list[str]) -> dict[str, float]:
    index = NgramIndex([h.split() for h in hyps], [r.split() for r in refs])
    scores = {f"bleu{k + 1}": 100 * v for k, v in enumerate(bleu(index))}
    scores["cider"] = 100 * cider(index)
    scores["rouge_l"] = 100 * rouge_l(hyps, refs)
    return scores


@pytest.fixture(scope="module")
def java_reference():
    if not (HAS_COCO and HAS_JAVA):
        pytest.skip("needs java + pycocoevalcap")
    preds, refs = caption_fixture()
    hyps, gts = coco_tokenize(preds), coco_tokenize(refs)
    return preds, refs, hyps, gts, coco_scores(hyps, gts)


# --- (a) fixture of realistic and hostile pairs: tokens and every metric vs the library ------


@needs_java
def test_tokenizer_equals_java_on_fixture(java_reference):
    preds, refs, hyps, gts, _ = java_reference
    assert tokenize(preds) == hyps
    assert tokenize(refs) == gts


@needs_java
def test_metrics_equal_pycocoevalcap_on_fixture(java_reference):
    preds, refs, _, _, expected = java_reference
    ours = caption_scores(preds, refs, meteor=False)
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, abs=1e-9), key
    assert 0 < ours["bleu4"] < ours["bleu1"] < 100 and ours["cider"] > 0


@needs_java
def test_tokenizer_equals_java_on_every_bmp_character():
    skip = set("\r\x0b\x0c\u2028\u2029")  # line breaks that shift pycocoevalcap's lines
    chars = [chr(i) for i in range(1, 0x10000) if not 0xD800 <= i < 0xE000 and chr(i) not in skip]
    lines = [f"{c} a{c}b 1{c}2 x-{c}y etc. {c}x" for c in chars]  # alone, in words, after "etc. "
    assert tokenize(lines) == coco_tokenize(lines)


@needs_java
def test_meteor_equals_pycocoevalcap(java_reference):
    from pycocoevalcap.meteor.meteor import Meteor

    from metrics.captions.meteor import meteor

    preds, refs, hyps, gts, _ = java_reference
    preds, refs, hyps, gts = (x[:40] for x in (preds, refs, hyps, gts))  # METEOR is slow
    scorer = Meteor()
    try:
        expected, _ = scorer.compute_score({i: [g] for i, g in enumerate(gts)}, {i: [h] for i, h in enumerate(hyps)})
    finally:
        scorer.meteor_p.stdin.close()
        scorer.meteor_p.kill()
        scorer.meteor_p.wait()
    ours = meteor(tokenize(preds), tokenize(refs))  # our pipelined driver of the same jar
    assert ours == pytest.approx(expected, abs=1e-12) and 0 < ours < 1
    from metrics.captions.meteor import _pipelined_meteor

    two_jvms = _pipelined_meteor(tokenize(preds), tokenize(refs), workers=2)
    assert two_jvms == pytest.approx(expected, abs=1e-12)


# --- (b) property test: generated strings, one JVM start per example ------------------------

FRAGMENTS = [
    "ship",
    "The",
    "U.S.",
    "etc.",
    "e.g.",
    "No.",
    "A.",
    "it's",
    "don't",
    "'s",
    "n't",
    "top-left",
    "3.5",
    "1,000",
    "1/2",
    "12:30",
    "(",
    ")",
    "{<1><2>}",
    "[",
    "]",
    "<p>",
    "...",
    "--",
    "http://a.b/c",
    "www.x.com",
    "a@b.com",
    "&amp;",
    "\u00a0",
    "  ",
]
ALPHABET = "abcxyzABCXYZ0123456789 .,;:!?'\"`()[]{}<>-_/\\&@#$%*+=~^|\t\néüñçÉ°×±’‘“”—–…½²€£¢µ中文\u3000\u2003\x85"
CAPTION = st.lists(st.sampled_from(FRAGMENTS) | st.text(ALPHABET, min_size=1, max_size=4), max_size=12).map("".join)


@needs_java
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)  # no shrinking: JVM per call
@given(st.lists(CAPTION, min_size=60, max_size=60))
def test_tokenizer_equals_java_property(captions):
    assert tokenize(captions) == coco_tokenize(captions)


# --- scorers alone against the library's pure-Python scorers (no Java needed) ---------------


@needs_coco
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scorers_equal_pycocoevalcap_on_tokenised_text(seed):
    r = random.Random(seed)
    vocab = ["a", "ship", "the", "is", "in", "of", "left", "top", "-lrb-", "1\xa01/2", "<a\xa0b>"]
    refs = [" ".join(r.choices(vocab, k=r.randint(0, 14))) for _ in range(60)]
    hyps = [" ".join(r.choices(vocab, k=r.randint(0, 14))) if r.random() < 0.7 else refs[i] for i in range(60)]
    expected, ours = coco_scores(hyps, refs), our_scores(hyps, refs)
    for key in expected:
        assert ours[key] == pytest.approx(expected[key], abs=1e-9), key


@needs_coco
def test_scorers_equal_pycocoevalcap_single_and_empty():
    for hyps, refs in (
        [["a ship"], ["a ship in the top"]],
        [[""], ["a ship"]],
        [["", "x"], ["", "y"]],
        [["a b c d e"], ["a b c d e"]],
        [[""] * 3, ["a"] * 3],
    ):
        expected, ours = coco_scores(hyps, refs), our_scores(hyps, refs)
        for key in expected:
            assert ours[key] == pytest.approx(expected[key], abs=1e-9), (hyps, refs, key)


# --- (c) unit tests without Java or pycocoevalcap --------------------------------------------


def test_tokenizer_known_outputs():
    # Expected strings produced by pycocoevalcap's Java PTBTokenizer.
    cases = {
        "In this satellite image, we can observe the following: A small ship is visible.": "in this satellite image we can observe the following a small ship is visible",  # noqa: E501
        "The ship (medium-sized) is at {<294><358><329><427>} near the top-left.": "the ship -lrb- medium-sized -rrb- is at -lcb- < 294 > < 358 > < 329 > < 427 > -rcb- "  # noqa: E501
        "near the top-left",
        "It's a ship; don't worry. The ships' wakes are visible!": "it 's a ship do n't worry the ships wakes are visible",  # noqa: E501
        "Numbers: 3.5, 1,000, 4. and 45% and 1/2": "numbers 3.5 1,000 4 and 45 % and 1/2",
        "The U.S. Navy, e.g., ships etc. are here... really": "the u.s. navy e.g. ships etc. are here really",
        "3.5m x1.5 a-----b ship!? 1 1/2": "3.5 m x1 .5 a ----- b ship !? 1\xa01/2",
        "café 30° 中文 🚢 ¢5": "café 30 ° 中文 cents 5",
        "": "",
    }
    assert tokenize(list(cases)) == list(cases.values())


def test_tokenizer_abbreviation_rules():
    # Expected strings produced by the Java tokenizer: a single letter before a capitalised
    # sentence start loses its period, known abbreviations keep theirs.
    captions = [
        "point B. The end",
        "point b. the end",
        "Mr. Smith met Dr. Jones",
        "ships etc. The end",
        "I. The end",
        "No. 5 and fig. 3",
    ]
    assert tokenize(captions) == [
        "point b the end",
        "point b. the end",
        "mr. smith met dr. jones",
        "ships etc. the end",
        "i the end",
        "no. 5 and fig. 3",
    ]


def test_identical_captions_score_100():
    caps = [
        "a small ship is visible in the top left portion of the image",
        "two large aircraft are parked near the bridge on the right",
    ]
    s = caption_scores(caps, caps, meteor=False)
    for key in ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l"):
        assert s[key] == pytest.approx(100.0, abs=1e-6), key


def test_one_sample_cider_is_zero():
    s = caption_scores(["a ship on the left"], ["a ship on the left side"], meteor=False)
    assert s["cider"] == 0.0 and s["bleu1"] > 0


def test_empty_and_missing_predictions():
    s = caption_scores(["", None, "a ship"], ["a ship", "a tank", "a ship"], meteor=False)
    assert all(math.isfinite(v) for k, v in s.items() if k != "meteor")
    assert s["meteor"] is None
    assert caption_scores([], [], meteor=False) == dict.fromkeys(s)
    with pytest.raises(ValueError):
        caption_scores(["a"], [], meteor=False)


def test_meteor_absent_without_java(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    assert "java" in meteor_unavailable_reason()
    assert caption_scores(["a ship"], ["a ship"])["meteor"] is None


def test_meteor_absent_without_pycocoevalcap(monkeypatch):
    import importlib.util as util

    real = util.find_spec
    monkeypatch.setattr(util, "find_spec", lambda name, *a: None if "pycocoevalcap" in name else real(name, *a))
    if HAS_JAVA:
        assert "pycocoevalcap" in meteor_unavailable_reason()
    assert caption_scores(["a ship"], ["a ship"], meteor=True)["meteor"] is None


def test_lcs_matches_dynamic_programming():
    r = random.Random(3)
    for _ in range(300):
        a = r.choices("abcd", k=r.randint(0, 12))
        b = r.choices("abcd", k=r.randint(0, 12))
        table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i in range(len(a)):
            for j in range(len(b)):
                table[i + 1][j + 1] = table[i][j] + 1 if a[i] == b[j] else max(table[i][j + 1], table[i + 1][j])
        assert lcs_length(a, b) == table[-1][-1]
