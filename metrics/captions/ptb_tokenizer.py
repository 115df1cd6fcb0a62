"""Pure-Python PTB tokenisation, equal to pycocoevalcap 1.2's ``PTBTokenizer``.

pycocoevalcap joins the captions with newlines, runs Stanford CoreNLP 3.4.1's PTBTokenizer
(``-preserveLines -lowerCase``) on them in Java and drops the tokens in ``PUNCTUATIONS``.
:func:`tokenize` does the same without Java: a longest-match lexer whose rules, priorities and
token rewrites reproduce CoreNLP's JFlex grammar (``-LRB-`` style brackets, LaTeX quotes,
``n't``/``'s`` splitting, abbreviations, numbers, URLs, SGML tags...). Lower-casing turns the
bracket tokens into ``-lrb-`` etc., which the upper-case punctuation filter does not remove.

The character classes (which characters are letters, digits, upper case) are the ones the jar
uses (measured on every BMP character), so the result does not depend on Python's Unicode
version. Characters outside the BMP (emoji...) are deleted, unless inside a URL- or e-mail-like
token, as in Java.

Matching runs on Python regular expressions, one per JFlex rule (trailing contexts become
consumed groups), and keeps JFlex's semantics: the longest match wins, ties go to the earlier
rule, and pushed-back characters are read again. It was checked against the jar on every BMP
character in nine contexts, on every 1-4-letter word before a period, and on ~550,000
generated strings (SARChat-like sentences, numbers, punctuation, quotes, URLs, tags, Greek,
CJK, Arabic, Indic, emoji...) without a difference outside the cases below.

Known differences from pycocoevalcap (none occurs in SARChat text or plausible VLM answers):

* A caption containing a line break other than ``\\n`` (``\\r``, ``\\v``, ``\\f``, U+2028,
  U+2029) makes the Java tokenizer emit an extra output line, so pycocoevalcap shifts every
  later caption onto the wrong sample (or fails on a missing key). Here such a character ends
  tokens like a line break but stays inside its caption.
* Python's backtracking returns the first match, not the longest: rules where that can matter
  (URLs, e-mails, hyphenated and slashed words, file names) are re-tried for a longer match up
  to the next blank (at most 64 characters on); others (phone numbers, "1 1/2" fractions, SGML
  tags) are written so that the first match is the longest one for ordinary input.
* An SGML tag whose quoted attribute value spans a line break is not recognised (Java's would
  join two captions).
* Characters outside the BMP count as one character, not two UTF-16 units, when rules compete
  on length (only inside URL- or e-mail-like tokens).
* Java lower-cases a Greek capital sigma as final or not by the JDK word BreakIterator; its
  word rules are emulated for BMP letters, digits, marks and the usual joiners, not for a
  "Σ" next to characters outside the BMP (emoji, math letters) within one token.
"""

from __future__ import annotations

import re
import unicodedata

from .ptb_grammar import _D, _FLAGS, _JL, _L, _M, _RULES, ACRONYM, DUP, NL, SKIP, _chars, _cls, _expand, _first3, _keep

__all__ = ["PUNCTUATIONS", "tokenize"]

PUNCTUATIONS = frozenset(
    ["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--", "...", ";"]
)


def _named_chars() -> set[str]:
    """Non-ASCII characters that some pattern names explicitly (escapes, ranges)."""
    source = " ".join([*_M.values(), *(first + pat for first, pat, _ in _RULES)])
    named = set()
    for m in re.finditer(r"\\(?:u(\w{4})|x(\w{2}))(?:-\\(?:u(\w{4})|x(\w{2})))?", source):
        lo = int(m.group(1) or m.group(2), 16)
        hi = int(m.group(3) or m.group(4) or "%x" % lo, 16)
        named.update(map(chr, range(max(lo, 0x80), hi + 1)))
    return named


# The letter/digit classes have ~400 ranges, which makes Python's regex compiler slow. Instead,
# matching runs on a same-length copy of the text in which every non-ASCII character that no
# pattern names is folded onto one private-use stand-in per class (letter, upper-case letter,
# mark, digit, other upper-case, anything else); the classes then stay small.
_KEEP = set(map(chr, range(128))) | _named_chars()
_UPPER = {c for c in _JL if c.isupper()} - _chars("13a0-13f4") | _chars("2160-216f 24b6-24cf")
_MARK, _UPLETTER, _LETTER, _DIGIT, _UPOTHER = "\ue000", "\ue001", "\ue002", "\ue003", "\ue004"
_FOLD = ["\ue0ff"] * 0x10000  # str.translate table indexed by code point (BMP)
for _c in _KEEP:
    _FOLD[ord(_c)] = _c
for _group, _rep in (
    (_L - _JL, _MARK),
    (_JL & _UPPER, _UPLETTER),
    (_JL - _UPPER, _LETTER),
    (_D, _DIGIT),
    (_UPPER - _L, _UPOTHER),
):
    for _c in _group - _KEEP:
        _FOLD[ord(_c)] = _rep
_FOLD = "".join(_FOLD)
_M.update(
    {
        "L": _cls(_L & _KEEP | {_MARK, _UPLETTER, _LETTER}),
        "JL": _cls(_JL & _KEEP | {_UPLETTER, _LETTER}),
        "D": _cls(_D & _KEEP | {_DIGIT}),
        "LD": _cls((_L | _D) & _KEEP | {_MARK, _UPLETTER, _LETTER, _DIGIT}),
        "JLD": _cls((_JL | _D) & _KEEP | {_UPLETTER, _LETTER, _DIGIT}),
        "UP": "(?-i:" + _cls(_UPPER & _KEEP | {_UPLETTER, _UPOTHER}) + ")",
        "RUNL": _cls(_L & _KEEP - {"\xad"} | {_MARK, _UPLETTER, _LETTER}),
        "RUNLD": _cls((_L | _D) & _KEEP - {"\xad"} | {_MARK, _UPLETTER, _LETTER, _DIGIT}),
    }
)
_COMPILED: dict[tuple, tuple] = {}
_BY_CHAR: dict[str, tuple] = {}
# Fast path for the bulk of caption text: words of letters and digits (starting with a letter),
# each followed by a blank (or by one of ",;:." and a blank), are always WORD tokens and the
# punctuation a token of its own -- except abbreviations before a period, ". . ." ellipses and
# words with a soft hyphen (which CoreNLP deletes).
_RUN = re.compile(
    _expand(
        r"(?:(?:{RUNL}{RUNLD}*[,;:]?(?=[ \t\n]|\Z)"
        r"|(?!{ABBREV1}|{ABBREV4}\.|(?:ca|figs?|prop|nos?|art|bldg|pp|op|pt[ey])\.)"  # abbreviations
        r"{RUNL}{RUNLD}*\.(?![ \xa0]\.)(?=[ \t\n]|\Z))[ \t\xa0\u2000-\u200a\u3000]*)+"
    ),
    _FLAGS,
)
_RUN_TOKENS = re.compile(r"[^\s,;:.]+|[,;:.]")
_SPLIT = re.compile(r"\b(?:cannot|gonna|gotta|lemme|gimme|wanna)\b", re.I)
_BLANKS = re.compile(r"[ \t][ \t\u00a0\u2000-\u200a\u3000]*")
_BLANK = re.compile(r"[ \t\n\r\f\x0b]")


_FIRSTS = [re.compile(_expand(first), _FLAGS) for first, _, _ in _RULES]


def _candidates(ch: str) -> tuple:
    """One regex trying, at a position starting with ``ch``, every rule that can start there.

    Each rule sits in its own optional lookahead with a capturing group, so a single match
    reports every rule's match length at once (JFlex's longest match is then picked in Python).
    """
    entry = _BY_CHAR.get(ch)
    if entry is None:
        rules = tuple(i for i, first in enumerate(_FIRSTS) if first.match(ch))
        entry = _COMPILED.get(rules)
        if entry is None:
            pats = [_expand(_RULES[i][1].lstrip("~")).replace("(?P<t>", f"(?P<t{i}>") for i in rules]
            rx = re.compile("".join(f"(?:(?=(?P<r{i}>{p}))|)" for i, p in zip(rules, pats)), _FLAGS)
            entry = _COMPILED[rules] = (
                rx,
                [
                    (
                        rx.groupindex[f"r{i}"],
                        rx.groupindex.get(f"t{i}"),
                        f"t{i}",
                        _RULES[i][2],
                        re.compile(p, _FLAGS) if _RULES[i][1].startswith("~") else None,
                    )
                    for i, p in zip(rules, pats)
                ],
            )
        _BY_CHAR[ch] = entry
    return entry


def _longer(rx, text: str, pos: int, end: int):
    """A longer match of ``rx`` at ``pos`` (up to the next blank), or None.

    Used for the "~" patterns, which Python's first-match backtracking can stop short (JFlex
    always takes the longest match)."""
    stop = _BLANK.search(text, end, end + 64)
    for longer in range(stop.start() if stop else min(len(text), end + 64), end, -1):
        m = rx.fullmatch(text, pos, longer)
        if m is not None:
            return m
    return None


def _step(shadow: str, text: str, pos: int):
    """Longest match at ``pos``: returns (token or SKIP/NL, characters consumed)."""
    rx, rules = _candidates(shadow[pos])
    regs = rx.match(shadow, pos).regs
    best_end, tok_end, best = pos, pos, None
    for group, tgroup, tname, action, extend in rules:
        end = regs[group][1]
        if end < 0:
            continue
        t_end = regs[tgroup][1] if tgroup else end
        if extend is not None:
            m = _longer(extend, shadow, pos, end)
            if m is not None:
                end = m.end()
                t_end = m.end(tname) if tgroup else end
        if end > best_end:
            best_end, tok_end, best = end, t_end, action
    tok, action = text[pos:tok_end], best
    if action is DUP:  # the abbreviation keeps its period and the period is also re-read
        return tok, len(tok) - 1
    if action is ACRONYM:  # "I." before a sentence start: "I" + "."; "U.S." -> "U.S." + "."
        return (tok[0], 1) if len(tok) == 2 else (tok, len(tok) - 1)
    if action is SKIP or action is NL:
        return action, len(tok)
    if action is _keep:
        return tok, len(tok)
    if action is _first3:
        return tok[:3], 3
    return action(tok), len(tok)


def _lex(text: str) -> list[list[str]]:
    """Tokens of ``text``, one list per ``\\n``-separated line (other line breaks end tokens)."""
    shadow = text if text.isascii() else text.translate(_FOLD)
    lines: list[list[str]] = [[]]
    out, pos, n = lines[0], 0, len(text)
    while pos < n:
        if shadow[pos] == "\n":
            out = []
            lines.append(out)
            pos += 1
            continue
        m = _RUN.match(shadow, pos) or _BLANKS.match(shadow, pos)
        if m is not None:  # plain words and blanks
            run = text[pos : m.end()]
            if _SPLIT.search(run):  # CoreNLP splits these after 3 letters: "can not", "gon na"
                run = _SPLIT.sub(lambda w: w.group()[:3] + " " + w.group()[3:], run)
            out.extend(_RUN_TOKENS.findall(run))
            pos = m.end()
            continue
        tok, used = _step(shadow, text, pos)
        if tok is NL:
            if shadow.startswith("\r\n", pos):  # "\r" closing a caption + the separator
                out = []
                lines.append(out)
        elif tok is not SKIP:
            out.append(tok)
        pos += used
    return lines


_OTHER_CASED = _chars("2b0-2b8 2c0-2c1 2e0-2e4 345 37a 1d2c-1d61 2160-217f 24b6-24e9")


def _kind(c: str) -> str:
    """Classes of the JDK's word BreakIterator: Letter, eXtending mark, Number, Mid, or none."""
    if "\u3040" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" or c > "\uffff":
        return ""  # kana, ideographs (and, approximately, supplementary characters) break words
    cat = unicodedata.category(c)
    if c in "-_.'\"\xad\u2027,\u066b" or cat == "Pd":
        return "M"
    if cat[0] == "L" or cat == "Mc":
        return "L"
    return "X" if cat in ("Mn", "Me", "Cf") else "N" if cat[0] == "N" else ""


def _joined(tok: str, kinds: list[str], k: int) -> bool:
    """No word boundary between tok[k] and tok[k + 1] (marks already took their base's kind)."""
    a, b = kinds[k], kinds[k + 1]
    if b == "M":
        b, mid = kinds[k + 2] if k + 2 < len(tok) else "", tok[k + 1]
    elif a == "M":
        a, mid = kinds[k - 1] if k > 0 else "", tok[k]
    else:
        return bool(a) and bool(b)
    if a == b == "L":  # letter, joiner, letter
        return mid not in ",\u066b"
    return a == b == "N" and mid in ",\u066b.'\""  # digit, joiner, digit


def _cased(c: str) -> bool:
    return unicodedata.category(c) in ("Lu", "Ll", "Lt") or c in _OTHER_CASED


def _sigma(tok: str, i: int) -> str:
    """Java's final-sigma rule: a cased letter before Σ and none after it, within its word."""
    kinds: list[str] = []
    for c in tok:
        kind = _kind(c)
        kinds.append(kinds[-1] if kind == "X" and kinds and kinds[-1] in ("L", "N") else "" if kind == "X" else kind)
    start, end = i, i
    while start > 0 and _joined(tok, kinds, start - 1):
        start -= 1
    while end + 1 < len(tok) and _joined(tok, kinds, end):
        end += 1
    before = any(_cased(c) for c in tok[start:i])
    return "\u03c2" if before and not any(_cased(c) for c in tok[i + 1 : end + 1]) else "\u03c3"


def _lower(tok: str) -> str:
    if "\u03a3" not in tok:
        return tok.lower()
    return "".join(_sigma(tok, i) if c == "\u03a3" else c.lower() for i, c in enumerate(tok))


def _finish(tokens: list[str]) -> str:
    """pycocoevalcap's handling of one output line: ``line.rstrip().split(' ')``, drop punctuation.

    Tokens never contain " " (CoreNLP turns inner spaces into U+00A0), so lower-casing the
    joined line equals lower-casing each token, except for Java's own final-sigma rule.
    """
    line = " ".join(map(_lower, tokens)) if "\u03a3" in "".join(tokens) else " ".join(tokens).lower()
    return " ".join([w for w in line.rstrip().split(" ") if w not in PUNCTUATIONS])


def tokenize(captions: list[str]) -> list[str]:
    """Tokenised captions, as pycocoevalcap's PTBTokenizer returns them for the same list.

    Captions are lexed as one text, joined by newlines like pycocoevalcap does, because a
    few rules look at the start of the next line (e.g. ``etc.`` before a capital). ``None``
    is read as the empty caption.
    """
    if not captions:
        return []
    text = "\n".join(("" if c is None else str(c)).replace("\n", " ") for c in captions)
    return [_finish(tokens) for tokens in _lex(text)]
