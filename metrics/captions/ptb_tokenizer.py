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

__all__ = ["PUNCTUATIONS", "tokenize"]

PUNCTUATIONS = frozenset(["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-",
                          ".", "?", "!", ",", ":", "-", "--", "...", ";"])

# Characters CoreNLP's WORD macro accepts as letters (hex code-point ranges, measured).
_LETTERS = (
    "41-5a 61-7a aa ad b5 ba c0-d6 d8-f6 f8-37d 384-386 388-38a 38c 38e-3a1 3a3-481 483-487 "
    "48a-527 531-556 559-55f 561-587 591-5bd 5bf 5c1-5c2 5c4-5c5 5c7 5d0-5ea 5f0-5f2 615-61a "
    "620-65e 66e-6d3 6d5-6ef 6fa-6ff 70f-7b1 7ca-7f5 7fa 800-815 81a 824 828 840-858 8a0 8a2-8ac "
    "900-939 93c-94e 950-955 958-963 971-977 979-97f 981-983 985-98c 98f-990 993-9a8 9aa-9b0 9b2 "
    "9b6-9b9 9bc-9c4 9c7-9c8 9cb-9ce 9d7 9dc-9dd 9df-9e3 9f0-9f1 a01-a03 a05-a0a a0f-a10 a13-a28 "
    "a2a-a30 a32-a33 a35-a36 a38-a39 a3c a3e-a4f a59-a5c a5e a72-a74 a81-a83 a85-a8d a8f-a91 "
    "a93-aa8 aaa-ab0 ab2-ab3 ab5-ab9 abc-ad0 ae0-ae1 b05-b0c b0f-b10 b13-b28 b2a-b30 b32-b33 "
    "b35-b39 b3d b5c-b5d b5f-b61 b71 b82-b83 b85-b8a b8e-b90 b92-b95 b99-b9a b9c b9e-b9f ba3-ba4 "
    "ba8-baa bae-bb9 bbe-bc2 bc6-bc8 bca-bcd bd0 c01-c03 c05-c0c c0e-c10 c12-c28 c2a-c33 c35-c39 "
    "c3d-c56 c58-c59 c60-c61 c85-c8c c8e-c90 c92-ca8 caa-cb3 cb5-cb9 cbd cde ce0-ce1 cf1-cf2 "
    "d05-d0c d0e-d10 d12-d3a d3d-d44 d46-d48 d4e d60-d61 d7a-d7f d85-d96 d9a-db1 db3-dbb dbd "
    "dc0-dc6 e01-e3a e40-e4e e81-e82 e84 e87-e88 e8a e8d e94-e97 e99-e9f ea1-ea3 ea5 ea7 eaa-eab "
    "ead-ebd ec0-ec4 ec6 ec8-ecd edc-edf f00 f40-f47 f49-f6c f88-f8c 1000-102a 103f 1050-1055 "
    "105a-105d 1061 1065-1066 106e-1070 1075-1081 108e 10a0-10c5 10c7 10cd 10d0-10fa 10fc-1248 "
    "124a-124d 1250-1256 1258 125a-125d 1260-1288 128a-128d 1290-12b0 12b2-12b5 12b8-12be 12c0 "
    "12c2-12c5 12c8-12d6 12d8-1310 1312-1315 1318-135a 1380-138f 13a0-13f4 1401-166c 166f-167f "
    "1681-169a 16a0-16ea 1700-170c 170e-1711 1720-1731 1740-1751 1760-176c 176e-1770 1780-17b3 "
    "17d7 17dc 1820-1877 1880-18a8 18aa 18b0-18f5 1900-191c 1950-196d 1970-1974 1980-19ab "
    "19c1-19c7 1a00-1a16 1a20-1a54 1aa7 1b05-1b33 1b45-1b4b 1b83-1ba0 1bae-1baf 1bba-1be5 "
    "1c00-1c23 1c4d-1c4f 1c5a-1c7d 1ce9-1cec 1cee-1cf1 1cf5-1cf6 1d00-1dbf 1e00-1f15 1f18-1f1d "
    "1f20-1f45 1f48-1f4d 1f50-1f57 1f59 1f5b 1f5d 1f5f-1f7d 1f80-1fb4 1fb6-1fbc 1fbe 1fc2-1fc4 "
    "1fc6-1fcc 1fd0-1fd3 1fd6-1fdb 1fe0-1fec 1ff2-1ff4 1ff6-1ffc 2071 207f 2090-209c 2102 2107 "
    "210a-2113 2115 2119-211d 2124 2126 2128 212a-212d 212f-2139 213c-213f 2145-2149 214e "
    "2183-2184 2c00-2c2e 2c30-2c5e 2c60-2ce4 2ceb-2cee 2cf2-2cf3 2d00-2d25 2d27 2d2d 2d30-2d67 "
    "2d6f 2d80-2d96 2da0-2da6 2da8-2dae 2db0-2db6 2db8-2dbe 2dc0-2dc6 2dc8-2dce 2dd0-2dd6 "
    "2dd8-2dde 2e2f 3005-3006 3031-3035 303b-303c 3041-3096 309d-309f 30a1-30fa 30fc-30ff "
    "3105-312d 3131-318e 31a0-31ba 31f0-31ff 3400-4db5 4e00-9fcc a000-a48c a4d0-a4fd a500-a60c "
    "a610-a61f a62a-a62b a640-a66e a67f-a697 a6a0-a6e5 a717-a71f a722-a788 a78b-a78e a790-a793 "
    "a7a0-a7aa a7f8-a801 a803-a805 a807-a80a a80c-a822 a840-a873 a882-a8b3 a8f2-a8f7 a8fb "
    "a90a-a925 a930-a946 a960-a97c a984-a9b2 a9cf aa00-aa28 aa40-aa42 aa44-aa4b aa60-aa76 aa7a "
    "aa80-aaaf aab1 aab5-aab6 aab9-aabd aac0 aac2 aadb-aadd aae0-aaea aaf2-aaf4 ab01-ab06 "
    "ab09-ab0e ab11-ab16 ab20-ab26 ab28-ab2e abc0-abe2 ac00-d7a3 d7b0-d7c6 d7cb-d7fb f900-fa6d "
    "fa70-fad9 fb00-fb06 fb13-fb17 fb1d fb1f-fb28 fb2a-fb36 fb38-fb3c fb3e fb40-fb41 fb43-fb44 "
    "fb46-fbb1 fbd3-fd3d fd50-fd8f fd92-fdc7 fdf0-fdfb fe70-fe74 fe76-fefc ff21-ff3a ff41-ff5a "
    "ff66-ffbe ffc2-ffc7 ffca-ffcf ffd2-ffd7 ffda-ffdc "
)
_DIGITS = ("30-39 660-669 6f0-6f9 7c0-7c9 966-96f 9e6-9ef a66-a6f ae6-aef b66-b6f be6-bef "
           "c66-c6f ce6-cef d66-d6f e50-e59 ed0-ed9 f20-f29 1040-1049 1090-1099 17e0-17e9 "
           "1810-1819 1946-194f 19d0-19d9 1a80-1a89 1a90-1a99 1b50-1b59 1bb0-1bb9 1c40-1c49 "
           "1c50-1c59 a620-a629 a8d0-a8d9 a900-a909 a9d0-a9d9 aa50-aa59 abf0-abf9 ff10-ff19")
# CoreNLP adds these marks to WORD letters; JFlex's own [:letter:] (used elsewhere) lacks them.
_MARKS = ("ad 2c2-2c5 2d2-2df 2e5-2eb 2ed 2ef-36f 375 378-379 384-385 3f6 483-487 55a-55f "
          "591-5bd 5bf 5c1-5c2 5c4-5c5 5c7 615-61a 64b-65e 670 6d6-6e4 6e7-6ed 6fd-6fe 70f 711 "
          "730-74c 7a6-7b0 7eb-7f3 900-903 93c 93e-94e 951-955 962-963 981-983 9bc 9be-9c4 "
          "9c7-9c8 9cb-9cd 9d7 9e2-9e3 a01-a03 a3c a3e-a4f a81-a83 abc abe-acf b82 bbe-bc2 "
          "bc6-bc8 bca-bcd c01-c03 c3e-c56 d3e-d44 d46-d48 e31 e34-e3a e47-e4e eb1 eb4-ebc ec8-ecd")


def _chars(table: str) -> set[str]:
    out = set()
    for item in table.split():
        lo, _, hi = item.partition("-")
        out.update(map(chr, range(int(lo, 16), int(hi or lo, 16) + 1)))
    return out


def _cls(chars: set[str]) -> str:
    codes = sorted(map(ord, chars))
    starts = [c for c, p in zip(codes, [-2] + codes) if c != p + 1]
    ends = [c for c, q in zip(codes, codes[1:] + [-2]) if q != c + 1]
    return "[" + "".join("\\u%04x" % a + ("-\\u%04x" % b if b > a else "")
                         for a, b in zip(starts, ends)) + "]"


_L = _chars(_LETTERS)
_JL = _L - _chars(_MARKS)
_D = _chars(_DIGITS)

# JFlex-style macros; (?-i:...) marks character classes that %caseless leaves case-sensitive.
_M = {
    "SPACE": "[ \\t\\u00a0\\u2000-\\u200a\\u3000]",
    "NL": "(?:\\r\\n|[\\r\\n\\x0b\\x0c\\x85\\u2028\\u2029])",
    "SPACENL": "(?:{SPACE}|{NL})",
    "NAME": "[A-Za-z][A-Za-z0-9_:.-]*",
    "SGML": "<(?:[!?][A-Za-z-][^>\\r\\n]*|{NAME}(?: +(?:{NAME} *= *(?:'[^'\\n]*'|\"[^\"\\n]*\")|{NAME}))*"
            " */?|/{NAME}) *>",
    "SENTEND": "{SPACENL}(?:{SPACENL}|{UP}|{SGML})",
    "LETTER": "(?:{L}|&[aeiou](?:acute|grave|uml);)",
    "LETTERD": "(?:{LD}|&[aeiou](?:acute|grave|uml);)",
    "WORD": "{LETTER}{LETTERD}*(?:[.!?]{LETTER}{LETTERD}*)*",
    "APOS": "(?:['\\x92\\u2019]|&apos;)",
    "APOSETC": "(?:{APOS}|[`\\x91\\u2018\\u201b])",
    "REDAUX": "{APOS}(?:[msd]|re|ve|ll)",
    "NUM": "(?:{D}*(?:[.:,\\xad\\u066b\\u066c]{D}+)+|{D}+)",
    "HYPHEN": "[-_\\u058a\\u2010\\u2011]",
    "THINGP": "(?:[dDoOlL]{APOSETC}{JLD})?{JLD}+",
    "ACRO": "(?:(?:Canada|Sino|Korean|EU|Japan|non)-U\\.S|U\\.S\\.-(?:U\\.K|U\\.S\\.S\\.R)"
            "|[A-Za-z](?:\\.[A-Za-z])*)",
    "ACRO2": "(?:(?:Canada|Sino|Korean|EU|Japan|non)-U\\.S|U\\.S\\.-(?:U\\.K|U\\.S\\.S\\.R)"
             "|[A-Za-z](?:\\.[A-Za-z])+)",
    "HTHING": "[A-Za-z0-9][A-Za-z0-9.,\\xad]*(?:-(?:{ACRO2}\\.|[A-Za-z0-9\\xad]+))+",
    "THING": "{THINGP}(?:{HYPHEN}{THINGP})*",
    "THINGA": "(?-i:[A-Z]+(?:(?:[+&]|&(?i:amp);)[A-Z]+)+)",
    "ABBREV1": "(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|Mon|Tues?|Wed|Thu(?:rs)?|Fri"
               "|Ala|Ariz|(?-i:A)z|(?-i:A)rk|Calif|Colo|Conn|Ct|Dak|(?-i:D)el|Fla|Ga|(?-i:I)ll|Ind|Kans?"
               "|Ky|(?-i:L)a|(?-i:M)ass|Md|Mich|Minn|(?-i:M)iss|Mo|Mont|Neb|Nev|Okla|(?-i:O)re"
               "|(?-i:P)a|Penn|Tenn|(?-i:T)ex|Va|Vt|(?-i:W)ash|Wisc?|Wyo|Inc|Cos?|Corp"
               "|Pp?t(?-i:[ye])s?|Ltd|Plc|Rt|Bancorp|Bhd|Assn|Univ|Intl|Sys|tel|est|ext|sq|Jr|Sr"
               "|Bros|(?:Ed|Ph)\\.D|Blvd|Rd|Esq|etc|al|seq|Bldg)\\.",
    "ABBREV4": "(?:Mrs?|Ms|(?-i:M)iss|Drs?|Profs?|Sens?|Reps?|Attys?|Lt|Col|Gen|Messrs|Govs?|Adm"
               "|Rev|Maj|Sgt|Cpl|Pvt|Capt|Ste?|Ave|Pres|Lieut|Hon|Brig|Co?mdr|Pfc|Spc|Supts?|Det"
               "|Mt|Ft|Adj|Adv|Asst|Assoc|Ens|Insp|Mlle|Mme|Msgr|Sfc|Invt|Elec|Natl|M[ft]g|Dept"
               "|Ph|vs|Alex|Wm|Jos|Cie|a\\.k\\.a|cf|TREAS|{ACRO})",
    "NEXTWORD": "(?-i:A)(?i:bout|ccording|dditionally|fter|n|s|t|)|(?-i:B)(?i:ut)"
                "|(?-i:E)(?i:arlier)|(?-i:H)(?i:e|er|ere|owever)|(?-i:I)(?i:f|n|t)"
                "|(?-i:L)(?i:ast)|(?-i:M)(?i:any|ore|r\\.|s\\.)|(?-i:N)(?i:ow)"
                "|(?-i:O)(?i:nce|ne|ther|ur)|(?-i:S)(?i:he|ince|o|ome|uch)"
                "|(?-i:T)(?i:hat|he|heir|hen|here|hese|hey|his)|(?-i:W)(?i:e|hen|hile|hat)"
                "|(?-i:Y)(?i:et|ou)|{SGML}",
    "NOTURL": "[^ \\t\\n\\f\\r\"<>|()]",
    "URLEND": "[^ \\t\\n\\f\\r\"<>|.!?(){},-]",
    "QUOTECH": "[`\\u2018\\u2019\\u201a\\u201b\\u201c\\u201d\\x91-\\x94\\u201e\\u201f\\u2039"
               "\\u203a\\xab\\xbb]",
    "MISC": "[+%&~^|\\\\\\xa6\\xa7\\xa8\\xa9\\xac\\xae\\xaf\\xb0-\\xba\\xd7\\xf7\\u0387\\u05be"
            "\\u05c0\\u05c3\\u05c6\\u05f3\\u05f4\\u0600-\\u0603\\u0606-\\u060a\\u060c\\u0614"
            "\\u061b\\u061e\\u066a\\u066d\\u0703-\\u070d\\u07f6-\\u07f8\\u0964\\u0965\\u0e4f"
            "\\u1fbd\\u2016\\u2017\\u2020-\\u2023\\u2030-\\u2038\\u203b\\u203e-\\u2042\\u2044"
            "\\u207a-\\u207f\\u208a-\\u208e\\u2100-\\u214f\\u2190-\\u21ff\\u2200-\\u2bff\\u3012"
            "\\u30fb\\uff01-\\uff0f\\uff1a-\\uff20\\uff3b-\\uff40\\uff5b-\\uff65]",
}


def _expand(pattern: str) -> str:
    while re.search(r"\{[A-Z][A-Z0-9]*\}", pattern):
        pattern = re.sub(r"\{([A-Z][A-Z0-9]*)\}", lambda m: _M[m.group(1)], pattern)
    return pattern


def _quotes(tok: str, left: bool = False) -> str:
    """CoreNLP's LaTeX quote normalisation (ASCII quotes by guessed side, curly ones by shape)."""
    tok = tok.replace("&apos;", "'").replace("&quot;", '"')
    tok = tok.replace('"', "``" if left else "''").replace("'", "`" if left else "'")
    for chars, rep in (("\x91\u2018\u201b\u2039", "`"), ("\x92\u2019\u203a", "'"),
                       ("\x93\u201c\xab", "``"), ("\x94\u201d\xbb", "''")):
        for ch in chars:
            tok = tok.replace(ch, rep)
    return tok


_FRACTIONS = {"\xbc": "1/4", "\xbd": "1/2", "\xbe": "3/4", "\u2153": "1/3", "\u2154": "2/3"}
_CURRENCY = {"\xa2": "cents", "\xa3": "#", "\x80": "$", "\xa4": "$", "\u20a0": "$", "\u20ac": "$"}
_BRACKETS = {"(": "-LRB-", ")": "-RRB-", "{": "-LCB-", "}": "-RCB-", "[": "-LSB-", "]": "-RSB-"}
_AMP = re.compile("&amp;", re.I)
SKIP, NL, DUP, ACRONYM = object(), object(), object(), object()  # special actions


def _keep(t): return t
def _nosoft(t): return t.replace("\xad", "") or "-"
def _amp(t): return _AMP.sub("&", t)
def _space(t): return t.replace(" ", "\xa0")
def _parens(t): return t.replace("(", "-LRB-").replace(")", "-RRB-")
def _phone(t): return _parens(_space(t))
def _dashes(t): return "--" if 3 <= len(t) <= 4 else t
def _currency(t): return _CURRENCY.get(t, t)
def _fraction(t): return _FRACTIONS.get(t, t)
def _bracket(t): return _BRACKETS[t]
def _right(t): return _quotes(t)
def _left(t): return _quotes(t, left=True)
def _first3(t): return t[:3]


# (first-character class, pattern with optional trailing context after (?P<t>...), action).
# Order is JFlex rule priority; at each position the longest match wins, ties go to the earlier.
_RULES = [
    ("[cC]", "(?P<t>can)not", _keep),
    ("[gGlLwW]", "gonna|gotta|lemme|gimme|wanna", _first3),
    ("'", "(?P<t>'t)(?:is|was)", _keep),
    ("[cCfF]", "c\\+\\+|[cf]#", _keep),
    ("<", "{SGML}", _space),
    ("[&\\x96\\x97\\u2013-\\u2015]", "&(?:MD|mdash|ndash);|[\\x96\\x97\\u2013-\\u2015]", lambda t: "--"),
    ("&", "&amp;", lambda t: "&"),
    ("&", "&(?:HT|TL|UR|LR|QC|QL|QR|odq|cdq|#[0-9]+);", _keep),
    ("{LETTER}|&", "(?P<t>{WORD}){REDAUX}", _nosoft),
    ("[A-Za-z\\xad]", "(?P<t>[A-Za-z\\xad]*[A-MO-Za-mo-z]\\xad*)n{APOSETC}t", _nosoft),
    ("{LETTER}|&", "{WORD}", _nosoft),
    ("['\\x92\\u2019&]", "{APOS}n{APOS}?|{APOS}em|{APOS}[2-9]0s|{APOS}till?|{APOS}cause", _keep),
    ("[lLdDjJ]", "[lLdDjJ]{APOS}", _keep),
    ("[dDsSoO]", "Dunkin{APOS}|somethin{APOS}|ol{APOS}|O{APOSETC}o", _keep),
    ("[A-HJ-XZn]", "(?-i:[A-HJ-XZn]){APOSETC}{JL}{2}{JL}*", _keep),
    ("{JL}", "{JL}+(?-i:[aeiouyAEIOUY]){APOSETC}(?-i:[aeiouA-Z]){JL}*", _keep),
    ("[cCtTnNeEsSlL']", "cont'd\\.?|'twas|nor'easter|c'mon|e'er|s'mores|ev'ry|li'l|nat'l", _keep),
    ("[yY]", "(?P<t>y{APOS}){JL}", _keep),
    ("[hH]", "https?://[^ \\t\\n\\f\\r\"<>|(){}]+[^ \\t\\n\\f\\r\"<>|.!?(){},-]", _keep),
    ("[^ \\t\\n\\f\\r\"<>|.!?(){},]",
     "~(?:www\\.(?:[^ \\t\\n\\f\\r\"<>|.!?(){},]+\\.)+[a-zA-Z]{2,4}"
     "|(?:(?-i:[^ \\t\\n\\f\\r\"`'<>|.!?(){}\\x2c-\\x5f$])+\\.)+(?:com|net|org|edu))"
     "(?:/{NOTURL}+{URLEND})?", _keep),
    ("[a-zA-Z0-9<&]", "~(?:&lt;|<)?[a-zA-Z0-9][^ \\t\\n\\f\\r\"<>|()\\xa0{}]*@"
     "(?:[^ \\t\\n\\f\\r\"<>|(){}.\\xa0]+\\.)*[^ \\t\\n\\f\\r\"<>|(){}.\\xa0]+(?:&gt;|>)?", _keep),
    ("[@#]", "@[a-zA-Z_][a-zA-Z_0-9]*|#{LETTER}+", _keep),
    ("['\\x92\\u2019&]", "(?P<t>{REDAUX})[^A-Za-z]", _right),
    ("[nN]", "n{APOSETC}t", _right),
    ("{D}", "{D}{1,2}[-/]{D}{1,2}[-/]{D}{2,4}", _keep),
    ("[-+.:,\\xad\\u066b\\u066c]|{D}", "[-+]?{NUM}", _nosoft),
    ("[\\u207a\\u207b\\u208a\\u208b\\u2070\\xb9\\xb2\\xb3\\u2074-\\u2079\\u2080-\\u2089]",
     "[\\u207a\\u207b\\u208a\\u208b]?(?:[\\u2070\\xb9\\xb2\\xb3\\u2074-\\u2079]+|[\\u2080-\\u2089]+)", _keep),
    ("{D}", "(?:{D}{1,4}[- \\xa0])?{D}{1,4}(?:\\\\?/|\\u2044){D}{1,4}", _space),
    ("[\\xbc\\xbd\\xbe\\u2153-\\u215e]", "[\\xbc\\xbd\\xbe\\u2153-\\u215e]", _fraction),
    ("[-cCpPaAsS]", "-(?:RRB|LRB|RCB|LCB|RSB|LSB)-|C\\.D\\.s|pro-|anti-|S(?:&|&amp;)P-500"
     "|S(?:&|&amp;)Ls|Cap{APOS}n|c{APOS}est", _amp),
    ("[A-Za-z0-9]", "~[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\\\?/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}", _keep),
    ("[A-Z$#]", "(?-i:[A-Z]*)\\$|#", _keep),
    ("[\\xa2-\\xa5\\x80\\u20a0\\u20ac\\u060b\\u0e3f\\u20a4\\uffe0\\uffe1\\uffe5\\uffe6]",
     "[\\xa2-\\xa5\\x80\\u20a0\\u20ac\\u060b\\u0e3f\\u20a4\\uffe0\\uffe1\\uffe5\\uffe6]", _currency),
    ("[A-Za-z]", "(?P<t>{ACRO}\\.){SPACENL}+(?:{NEXTWORD}){SPACENL}", ACRONYM),
    ("[cCfFpPnNaAbBoO]", "(?P<t>(?:ca|figs?|prop|nos?|art|bldg|pp|op)\\.){SPACENL}?{D}", _keep),
    ("[pPcC]", "(?P<t>(?:pt[eyEY]|co)\\.){SPACE}(?:ltd|lim)", _keep),
    ("[A-Za-z]", "(?P<t>{ABBREV1}){SENTEND}", DUP),
    ("[A-Za-z]", "(?P<t>{ABBREV1})[\\s\\S]{2}", _keep),
    ("[A-Za-z]", "{ABBREV1}", DUP),
    ("[A-Za-z]", "{ABBREV4}\\.", _keep),
    ("[A-Za-z]", "(?P<t>{ABBREV4}){SPACE}", _keep),
    ("[A-Za-z]", "(?P<t>{ACRO}){SPACENL}", _keep),
    ("['\\x92\\u2019&]", "(?P<t>{APOS}[0-9][0-9]){SPACENL}", _keep),
    ("{LD}", "~(?P<t>{LD}+(?:\\.{LD}+)*\\.(?:bat|bmp|c|class|cgi|cpp|dll|docx?|exe|gif|gz|h|html?|jar"
     "|java|jpeg|jpg|mov|mp3|pdf|php|pl|png|ppt|ps|py|sql|tar|txt|wav|x|xml|zip))(?:{SPACENL}|[.?!,])", _keep),
    ("{LETTER}|&", "(?P<t>{WORD}\\.)[,;:\\u3001]", _nosoft),
    ("[0-9(+]", "(?:\\([0-9]{2,3}\\)[ \\xa0]?|(?:\\+\\+?)?(?:[0-9]{2,4}[- \\xa0])?[0-9]{2,4}[- \\xa0])"
     "[0-9]{3,4}[- \\xa0]?[0-9]{3,5}|(?:(?:\\+\\+?)?[0-9]{2,4}\\.)?[0-9]{2,4}\\.[0-9]{3,4}\\.[0-9]{3,5}",
     _phone),
    ("[\"&]", "(?P<t>\"|&quot;)[A-Za-z0-9$]", _left),
    ("[\"&]", "\"|&quot;", _right),
    ("[<&]", "<|&lt;", lambda t: "<"),
    ("[>&]", ">|&gt;", lambda t: ">"),
    ("[<>:;=]", "(?P<t>(?-i:[<>]?[:;=][-o*']?[()DPdpO\\\\{@|\\[\\]]))[^A-Za-z0-9]", _parens),
    ("[-\\^x=~<>'(]", "(?-i:[\\^x=~<>]\\.\\[\\^(?i:x)=~<>\\]|[-\\^x=~<>']_[-\\^x=~<>']"
     "|\\([-\\^x=~<>'][_.]?[-\\^x=~<>']\\)|\\([\\^x=~<>']-[\\^x=~<>'`]\\))", _parens),
    ("[][(){}]", "[][(){}]", _bracket),
    ("-", "-+", _dashes),
    ("[.\\x85\\u2026]", "\\.{3,5}|(?:\\.[ \\xa0]){2,4}\\.|[\\x85\\u2026]", lambda t: "..."),
    ("[@#_]", "@+|#+|_+", _keep),
    ("[*\\\\]", "\\*+|(?:\\\\\\*){1,3}", _keep),
    ("[,;:\\u3001]", "[,;:\\u3001]", _keep),
    ("[?!]", "[?!]+", _keep),
    ("[.\\xbf\\xa1\\u037e\\u0589\\u061f\\u06d4\\u0700-\\u0702\\u07fa\\u3002]",
     "[.\\xbf\\xa1\\u037e\\u0589\\u061f\\u06d4\\u0700-\\u0702\\u07fa\\u3002]", _keep),
    ("=", "=", _keep),
    ("/", "/", _keep),
    ("[A-Za-z0-9]", "~(?P<t>{HTHING}\\.)[,;:\\u3001]", _nosoft),
    ("[A-Za-z0-9]", "~{HTHING}", _nosoft),
    ("{JLD}|[dDoOlL]", "~(?P<t>{THING}\\.)[,;:\\u3001]", _nosoft),
    ("{JLD}|[dDoOlL]", "~{THING}", _nosoft),
    ("[A-Z]", "(?P<t>{THINGA}\\.)[,;:\\u3001]", _amp),
    ("[A-Z]", "{THINGA}", _amp),
    ("'", "(?P<t>')[A-Za-z][^ \\t\\n\\r\\xa0]", _left),
    ("['\\x92\\u2019&]", "{REDAUX}", _right),
    ("['&]|{QUOTECH}", "''|{QUOTECH}{1,2}|{APOS}", _right),
    ("[<>]", "<<|>>", _keep),
    ("{MISC}", "{MISC}", _keep),
    ("[\\x00\\u200b\\u200e\\u200f\\ufeff]|{SPACE}", "\\x00|{SPACE}+|[\\u200b\\u200e\\u200f\\ufeff]", SKIP),
    ("&", "&nbsp;", SKIP),
    ("{NL}", "{NL}", NL),
    ("[^\\n]", "[^\\n]", SKIP),  # untokenizable: CoreNLP deletes it (and logs a warning)
]
_FLAGS = re.I | re.A


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
for _group, _rep in ((_L - _JL, _MARK), (_JL & _UPPER, _UPLETTER), (_JL - _UPPER, _LETTER),
                     (_D, _DIGIT), (_UPPER - _L, _UPOTHER)):
    for _c in _group - _KEEP:
        _FOLD[ord(_c)] = _rep
_FOLD = "".join(_FOLD)
_M.update({
    "L": _cls(_L & _KEEP | {_MARK, _UPLETTER, _LETTER}),
    "JL": _cls(_JL & _KEEP | {_UPLETTER, _LETTER}),
    "D": _cls(_D & _KEEP | {_DIGIT}),
    "LD": _cls((_L | _D) & _KEEP | {_MARK, _UPLETTER, _LETTER, _DIGIT}),
    "JLD": _cls((_JL | _D) & _KEEP | {_UPLETTER, _LETTER, _DIGIT}),
    "UP": "(?-i:" + _cls(_UPPER & _KEEP | {_UPLETTER, _UPOTHER}) + ")",
    "RUNL": _cls(_L & _KEEP - {"\xad"} | {_MARK, _UPLETTER, _LETTER}),
    "RUNLD": _cls((_L | _D) & _KEEP - {"\xad"} | {_MARK, _UPLETTER, _LETTER, _DIGIT}),
})
_COMPILED: dict[tuple, tuple] = {}
_BY_CHAR: dict[str, tuple] = {}
# Fast path for the bulk of caption text: words of letters and digits (starting with a letter),
# each followed by a blank (or by one of ",;:." and a blank), are always WORD tokens and the
# punctuation a token of its own -- except abbreviations before a period, ". . ." ellipses and
# words with a soft hyphen (which CoreNLP deletes).
_RUN = re.compile(_expand(
    r"(?:(?:{RUNL}{RUNLD}*[,;:]?(?=[ \t\n]|\Z)"
    r"|(?!{ABBREV1}|{ABBREV4}\.|(?:ca|figs?|prop|nos?|art|bldg|pp|op|pt[ey])\.)"  # abbreviations
    r"{RUNL}{RUNLD}*\.(?![ \xa0]\.)(?=[ \t\n]|\Z))[ \t\xa0\u2000-\u200a\u3000]*)+"), _FLAGS)
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
            entry = _COMPILED[rules] = (rx, [
                (rx.groupindex[f"r{i}"], rx.groupindex.get(f"t{i}"), f"t{i}", _RULES[i][2],
                 re.compile(p, _FLAGS) if _RULES[i][1].startswith("~") else None)
                for i, p in zip(rules, pats)])
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
            run = text[pos:m.end()]
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
    if "\u3040" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" \
            or c > "\uffff":
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
        kinds.append(kinds[-1] if kind == "X" and kinds and kinds[-1] in ("L", "N") else
                     "" if kind == "X" else kind)
    start, end = i, i
    while start > 0 and _joined(tok, kinds, start - 1):
        start -= 1
    while end + 1 < len(tok) and _joined(tok, kinds, end):
        end += 1
    before = any(_cased(c) for c in tok[start:i])
    return "\u03c2" if before and not any(_cased(c) for c in tok[i + 1:end + 1]) else "\u03c3"


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
