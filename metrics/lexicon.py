"""Phrase lexicons of PROTOCOL §3 and the compiled patterns built from them.

All patterns run on lower-cased text with ASCII semantics. Inside multi-word phrases any run
of whitespace stands for the space; a hyphen is only accepted where the protocol names it.
"""

from __future__ import annotations

import re

FLAGS = re.ASCII

CATEGORY_WORDS: dict[str, str] = {
    "ship": "ship",
    "aircraft": "aircraft",
    "plane": "aircraft",
    "airplane": "aircraft",
    "car": "car",
    "tank": "tank",
    "bridge": "bridge",
    "harbor": "harbor",
    "harbour": "harbor",
}

_ROWS = {
    "top": "top",
    "upper": "top",
    "middle": "middle",
    "center": "middle",
    "centre": "middle",
    "central": "middle",
    "bottom": "bottom",
    "lower": "bottom",
}
_COLUMNS = {"left": "left", "center": "center", "centre": "center", "right": "right"}

# Phrase (words separated by single spaces; a "-" inside a word is literal) -> value.
GRID_PHRASES: dict[str, str] = {
    f"{row} {col}": f"{row_value} {col_value}"
    for row, row_value in _ROWS.items()
    for col, col_value in _COLUMNS.items()
}
GRID_PHRASES.update(
    {f"{row}-{col}": value for row in _ROWS for col in _COLUMNS for value in [GRID_PHRASES[f"{row} {col}"]]}
)
GRID_PHRASES.update(
    {
        "left side": "middle left",
        "right side": "middle right",
        "top side": "top center",
        "top part": "top center",
        "upper part": "top center",
        "bottom side": "bottom center",
        "bottom part": "bottom center",
        "lower part": "bottom center",
        "central region": "middle center",
        "center of the image": "middle center",
        "centre of the image": "middle center",
        "middle of the image": "middle center",
        "image center": "middle center",
        "image centre": "middle center",
    }
)

SIZE_PHRASES: dict[str, str] = {
    "very small": "very small",
    "small": "small",
    "medium": "medium",
    "medium-sized": "medium",
    "medium sized": "medium",
    "large": "large",
    "very large": "very large",
}

SHAPE_PHRASES: dict[str, str] = {
    "wide": "wide",
    "wide-body": "wide",
    "square": "square",
    "approximately square": "square",
    "tall": "tall",
    "tall-body": "tall",
}

RELATION_PHRASES: dict[str, str] = {
    "far from": "far",
    "near": "near",
    "close to": "near",
    "next to": "near",
    "to the left of": "left_of",
    "to the right of": "right_of",
    "above": "above",
    "below": "below",
}

NUMBER_WORDS: dict[str, int] = {"no": 0, "none": 0, "zero": 0}
_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBER_WORDS.update({word: i + 1 for i, word in enumerate(_UNITS)})
NUMBER_WORDS.update({word: i + 10 for i, word in enumerate(_TEENS)})
for _t, _tens in enumerate(_TENS):
    NUMBER_WORDS[_tens] = 20 + 10 * _t
    for _u, _unit in enumerate(_UNITS):
        NUMBER_WORDS[f"{_tens} {_unit}"] = 20 + 10 * _t + _u + 1
        NUMBER_WORDS[f"{_tens}-{_unit}"] = 20 + 10 * _t + _u + 1
NUMBER_WORDS["a single"] = 1


def phrase_pattern(phrase: str) -> str:
    """Regex for one lexicon phrase: words joined by \\s+, literal hyphens kept."""
    return r"\s+".join(re.escape(word) for word in phrase.split(" "))


def normalize_phrase(matched: str) -> str:
    """Key of a matched phrase in its lexicon: whitespace runs become one space."""
    return " ".join(matched.split())


def alternation(phrases) -> str:
    """Alternatives ordered longest first, so the regex takes the longest phrase at a position.

    Python tries alternatives in order, so when two phrases match at one position the one
    listed first wins; ordering by phrase length (words, then characters) makes that the
    longer one for every pair where one phrase is a word-prefix of the other.
    """
    ordered = sorted(set(phrases), key=lambda p: (-len(p.split(" ")), -len(p), p))
    return "|".join(phrase_pattern(p) for p in ordered)


def lexicon_regex(phrases) -> re.Pattern[str]:
    """Leftmost-longest scanner: finditer never overlaps, phrases start and end on \\b."""
    return re.compile(rf"\b(?:{alternation(phrases)})\b", FLAGS)


_CATEGORY_ALT = "|".join(sorted((f"{w}s?" for w in CATEGORY_WORDS), key=lambda p: (-len(p), p)))
CATEGORY_RE = re.compile(rf"\b(?:{_CATEGORY_ALT})\b", FLAGS)
GRID_RE = lexicon_regex(GRID_PHRASES)
SIZE_RE = lexicon_regex(SIZE_PHRASES)
SHAPE_RE = lexicon_regex(SHAPE_PHRASES)

# Grid, size, shape and category phrases share no word, so their matches can never overlap and
# one combined scan gives the same mentions as four separate scans (used by `identify`).
ATTRIBUTE_OF_PHRASE: dict[str, tuple[str, str]] = {}
ATTRIBUTE_OF_PHRASE.update({p: ("cell", v) for p, v in GRID_PHRASES.items()})
ATTRIBUTE_OF_PHRASE.update({p: ("size", v) for p, v in SIZE_PHRASES.items()})
ATTRIBUTE_OF_PHRASE.update({p: ("shape", v) for p, v in SHAPE_PHRASES.items()})
ATTRIBUTE_RE = re.compile(
    rf"\b(?:(?P<category>{_CATEGORY_ALT})|"
    rf"(?P<phrase>{alternation(list(GRID_PHRASES) + list(SIZE_PHRASES) + list(SHAPE_PHRASES))}))\b",
    FLAGS,
)

_NUM = r"-?\d+(?:\.\d+)?"
BOX_RE = re.compile(rf"\{{\s*<\s*({_NUM})\s*>\s*<\s*({_NUM})\s*>\s*<\s*({_NUM})\s*>\s*<\s*({_NUM})\s*>\s*\}}", FLAGS)

INTEGER = r"(?<![\w.])\d+(?!\w|\.\d)"
_NUMBER_WORD_ALT = alternation(NUMBER_WORDS)
NUMBER_RE = re.compile(rf"(?P<int>{INTEGER})|\b(?P<word>{_NUMBER_WORD_ALT})\b", FLAGS)
THERE_ARE_RE = re.compile(
    rf"\bthere\s+(?:is|are)\s+(?:(?P<int>{INTEGER})|(?P<word>{_NUMBER_WORD_ALT}))\s+instances?\b",
    FLAGS,
)

RELATION_RE = re.compile(
    rf"(?:the\s+)?\b(?P<c1>{_CATEGORY_ALT})\b\s+(?:is|are)\s+(?P<rel>{alternation(RELATION_PHRASES)})"
    rf"\s+(?:the\s+)?\b(?P<c2>{_CATEGORY_ALT})\b",
    FLAGS,
)
# The middle of every RELATION_RE match: where it finds nothing, RELATION_RE finds nothing.
# Its leading literal lets the scan skip ahead, where RELATION_RE's optional "the" tries every
# position.
RELATION_HINT_RE = re.compile(rf"(?:is|are)\s+(?:{alternation(RELATION_PHRASES)})", FLAGS)


def category_of(word: str) -> str:
    """Canonical category of a matched category word (singular or plural)."""
    hit = CATEGORY_WORDS.get(word)
    if hit is None:
        hit = CATEGORY_WORDS[word[:-1]]
    return hit
