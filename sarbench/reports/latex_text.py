"""Any string as pure-ASCII LaTeX text that pdflatex typesets with its default fonts.

TeX specials are escaped; non-ASCII characters are transliterated, so the table needs no
inputenc and never stops pdflatex with "Unicode character ... not set up for use with LaTeX":
Greek letters and arrows and a few symbols become their math-mode commands (α ->
\\ensuremath{\\alpha}, → -> \\ensuremath{\\rightarrow}), accented Latin letters their accent
commands (é -> \\'{e}), and anything else its code point in brackets ([U+4E2D]).
"""

from __future__ import annotations

import unicodedata

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # \$ in the default OT1 encoding comes from a TS1 font that a bare TeX install only has as
    # METAFONT source (a bitmap build at compile time); the math-mode dollar needs nothing
    "$": r"\ensuremath{\$}",
    # OT1 text fonts print these three as other glyphs (¡, ¿, —) when typed directly
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}

_GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
    "varsigma sigma tau upsilon phi chi psi omega"
).split()
_MATH = {chr(0x3B1 + i): "o" if name == "omicron" else rf"\{name}" for i, name in enumerate(_GREEK)}
_MATH.update(
    {
        chr(0x391 + i): rf"\{name.capitalize()}"
        for i, name in enumerate(_GREEK)
        if name.capitalize()
        in ("Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega")
    }
)
_MATH.update(
    {
        "→": r"\rightarrow",
        "←": r"\leftarrow",
        "↔": r"\leftrightarrow",
        "⇒": r"\Rightarrow",
        "↑": r"\uparrow",
        "↓": r"\downarrow",
        "×": r"\times",
        "±": r"\pm",
        "≤": r"\leq",
        "≥": r"\geq",
        "≠": r"\neq",
        "≈": r"\approx",
        "−": "-",
        "·": r"\cdot",
        "°": r"^\circ",
        "µ": r"\mu",
        "∞": r"\infty",
    }
)
_TEXT = {
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX")),  # capital Greek letters that look Latin
    # the text-mode daggers, section and paragraph signs and copyright come from a TS1 font that a
    # bare TeX install has only as METAFONT source (a bitmap built at compile time); math's do not
    "‡": r"\ensuremath{\ddagger}",
    "†": r"\ensuremath{\dagger}",
    "–": "--",
    "—": "---",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "…": r"\ldots{}",
    "ß": r"\ss{}",
    "æ": r"\ae{}",
    "Æ": r"\AE{}",
    "ø": r"\o{}",
    "Ø": r"\O{}",
    "œ": r"\oe{}",
    "Œ": r"\OE{}",
    "å": r"\aa{}",
    "Å": r"\AA{}",
    "ł": r"\l{}",
    "Ł": r"\L{}",
    "ı": r"\i{}",
    "§": r"\ensuremath{\S}",
    "¶": r"\ensuremath{\P}",
    "©": "(c)",
    "\u00a0": "~",
}
# combining mark -> OT1 accent command
_ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0327": "c",
}


def _accented(ch: str) -> str | None:
    base, *marks = unicodedata.normalize("NFD", ch)
    if not base.isascii() or not base.isalpha() or not marks or any(m not in _ACCENTS for m in marks):
        return None
    text = "\\i" if base == "i" else base  # a dotless i under the accent, as TeX does
    for mark in marks:
        command = _ACCENTS[mark]
        text = f"\\{command}{{{text}}}"
    return text


def latex_escape(text: str) -> str:
    out = []
    for ch in " ".join(str(text).split()):
        if ch in _SPECIALS:
            out.append(_SPECIALS[ch])
        elif ch.isascii():
            out.append(ch)
        elif ch in _TEXT:
            out.append(_TEXT[ch])
        elif ch in _MATH:
            out.append(rf"\ensuremath{{{_MATH[ch]}}}")
        elif (accented := _accented(ch)) is not None:
            out.append(accented)
        else:
            out.append(f"[U+{ord(ch):04X}]")
    return "".join(out)
