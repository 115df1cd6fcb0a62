"""CoreNLP 3.4.1's PTBTokenizer grammar, as data for ptb_tokenizer.py: the character classes the
jar uses (hex code-point ranges, measured on every BMP character), the JFlex macros, and the
rules in JFlex's priority order with their token rewrites. See ptb_tokenizer.py for how they run
and how they were checked against the jar.
"""

from __future__ import annotations

import re

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
_DIGITS = (
    "30-39 660-669 6f0-6f9 7c0-7c9 966-96f 9e6-9ef a66-a6f ae6-aef b66-b6f be6-bef "
    "c66-c6f ce6-cef d66-d6f e50-e59 ed0-ed9 f20-f29 1040-1049 1090-1099 17e0-17e9 "
    "1810-1819 1946-194f 19d0-19d9 1a80-1a89 1a90-1a99 1b50-1b59 1bb0-1bb9 1c40-1c49 "
    "1c50-1c59 a620-a629 a8d0-a8d9 a900-a909 a9d0-a9d9 aa50-aa59 abf0-abf9 ff10-ff19"
)
# CoreNLP adds these marks to WORD letters; JFlex's own [:letter:] (used elsewhere) lacks them.
_MARKS = (
    "ad 2c2-2c5 2d2-2df 2e5-2eb 2ed 2ef-36f 375 378-379 384-385 3f6 483-487 55a-55f "
    "591-5bd 5bf 5c1-5c2 5c4-5c5 5c7 615-61a 64b-65e 670 6d6-6e4 6e7-6ed 6fd-6fe 70f 711 "
    "730-74c 7a6-7b0 7eb-7f3 900-903 93c 93e-94e 951-955 962-963 981-983 9bc 9be-9c4 "
    "9c7-9c8 9cb-9cd 9d7 9e2-9e3 a01-a03 a3c a3e-a4f a81-a83 abc abe-acf b82 bbe-bc2 "
    "bc6-bc8 bca-bcd c01-c03 c3e-c56 d3e-d44 d46-d48 e31 e34-e3a e47-e4e eb1 eb4-ebc ec8-ecd"
)


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
    return "[" + "".join("\\u%04x" % a + ("-\\u%04x" % b if b > a else "") for a, b in zip(starts, ends)) + "]"


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
    "ACRO": "(?:(?:Canada|Sino|Korean|EU|Japan|non)-U\\.S|U\\.S\\.-(?:U\\.K|U\\.S\\.S\\.R)|[A-Za-z](?:\\.[A-Za-z])*)",
    "ACRO2": "(?:(?:Canada|Sino|Korean|EU|Japan|non)-U\\.S|U\\.S\\.-(?:U\\.K|U\\.S\\.S\\.R)|[A-Za-z](?:\\.[A-Za-z])+)",
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
    "NOTURL": '[^ \\t\\n\\f\\r"<>|()]',
    "URLEND": '[^ \\t\\n\\f\\r"<>|.!?(){},-]',
    "QUOTECH": "[`\\u2018\\u2019\\u201a\\u201b\\u201c\\u201d\\x91-\\x94\\u201e\\u201f\\u2039\\u203a\\xab\\xbb]",
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
    for chars, rep in (
        ("\x91\u2018\u201b\u2039", "`"),
        ("\x92\u2019\u203a", "'"),
        ("\x93\u201c\xab", "``"),
        ("\x94\u201d\xbb", "''"),
    ):
        for ch in chars:
            tok = tok.replace(ch, rep)
    return tok


_FRACTIONS = {"\xbc": "1/4", "\xbd": "1/2", "\xbe": "3/4", "\u2153": "1/3", "\u2154": "2/3"}
_CURRENCY = {"\xa2": "cents", "\xa3": "#", "\x80": "$", "\xa4": "$", "\u20a0": "$", "\u20ac": "$"}
_BRACKETS = {"(": "-LRB-", ")": "-RRB-", "{": "-LCB-", "}": "-RCB-", "[": "-LSB-", "]": "-RSB-"}
_AMP = re.compile("&amp;", re.I)
SKIP, NL, DUP, ACRONYM = object(), object(), object(), object()  # special actions


def _keep(t):
    return t


def _nosoft(t):
    return t.replace("\xad", "") or "-"


def _amp(t):
    return _AMP.sub("&", t)


def _space(t):
    return t.replace(" ", "\xa0")


def _parens(t):
    return t.replace("(", "-LRB-").replace(")", "-RRB-")


def _phone(t):
    return _parens(_space(t))


def _dashes(t):
    return "--" if 3 <= len(t) <= 4 else t


def _currency(t):
    return _CURRENCY.get(t, t)


def _fraction(t):
    return _FRACTIONS.get(t, t)


def _bracket(t):
    return _BRACKETS[t]


def _right(t):
    return _quotes(t)


def _left(t):
    return _quotes(t, left=True)


def _first3(t):
    return t[:3]


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
    ("[hH]", 'https?://[^ \\t\\n\\f\\r"<>|(){}]+[^ \\t\\n\\f\\r"<>|.!?(){},-]', _keep),
    (
        '[^ \\t\\n\\f\\r"<>|.!?(){},]',
        '~(?:www\\.(?:[^ \\t\\n\\f\\r"<>|.!?(){},]+\\.)+[a-zA-Z]{2,4}'
        "|(?:(?-i:[^ \\t\\n\\f\\r\"`'<>|.!?(){}\\x2c-\\x5f$])+\\.)+(?:com|net|org|edu))"
        "(?:/{NOTURL}+{URLEND})?",
        _keep,
    ),
    (
        "[a-zA-Z0-9<&]",
        '~(?:&lt;|<)?[a-zA-Z0-9][^ \\t\\n\\f\\r"<>|()\\xa0{}]*@'
        '(?:[^ \\t\\n\\f\\r"<>|(){}.\\xa0]+\\.)*[^ \\t\\n\\f\\r"<>|(){}.\\xa0]+(?:&gt;|>)?',
        _keep,
    ),
    ("[@#]", "@[a-zA-Z_][a-zA-Z_0-9]*|#{LETTER}+", _keep),
    ("['\\x92\\u2019&]", "(?P<t>{REDAUX})[^A-Za-z]", _right),
    ("[nN]", "n{APOSETC}t", _right),
    ("{D}", "{D}{1,2}[-/]{D}{1,2}[-/]{D}{2,4}", _keep),
    ("[-+.:,\\xad\\u066b\\u066c]|{D}", "[-+]?{NUM}", _nosoft),
    (
        "[\\u207a\\u207b\\u208a\\u208b\\u2070\\xb9\\xb2\\xb3\\u2074-\\u2079\\u2080-\\u2089]",
        "[\\u207a\\u207b\\u208a\\u208b]?(?:[\\u2070\\xb9\\xb2\\xb3\\u2074-\\u2079]+|[\\u2080-\\u2089]+)",
        _keep,
    ),
    ("{D}", "(?:{D}{1,4}[- \\xa0])?{D}{1,4}(?:\\\\?/|\\u2044){D}{1,4}", _space),
    ("[\\xbc\\xbd\\xbe\\u2153-\\u215e]", "[\\xbc\\xbd\\xbe\\u2153-\\u215e]", _fraction),
    (
        "[-cCpPaAsS]",
        "-(?:RRB|LRB|RCB|LCB|RSB|LSB)-|C\\.D\\.s|pro-|anti-|S(?:&|&amp;)P-500|S(?:&|&amp;)Ls|Cap{APOS}n|c{APOS}est",
        _amp,
    ),
    ("[A-Za-z0-9]", "~[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\\\?/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}", _keep),
    ("[A-Z$#]", "(?-i:[A-Z]*)\\$|#", _keep),
    (
        "[\\xa2-\\xa5\\x80\\u20a0\\u20ac\\u060b\\u0e3f\\u20a4\\uffe0\\uffe1\\uffe5\\uffe6]",
        "[\\xa2-\\xa5\\x80\\u20a0\\u20ac\\u060b\\u0e3f\\u20a4\\uffe0\\uffe1\\uffe5\\uffe6]",
        _currency,
    ),
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
    (
        "{LD}",
        "~(?P<t>{LD}+(?:\\.{LD}+)*\\.(?:bat|bmp|c|class|cgi|cpp|dll|docx?|exe|gif|gz|h|html?|jar"
        "|java|jpeg|jpg|mov|mp3|pdf|php|pl|png|ppt|ps|py|sql|tar|txt|wav|x|xml|zip))(?:{SPACENL}|[.?!,])",
        _keep,
    ),
    ("{LETTER}|&", "(?P<t>{WORD}\\.)[,;:\\u3001]", _nosoft),
    (
        "[0-9(+]",
        "(?:\\([0-9]{2,3}\\)[ \\xa0]?|(?:\\+\\+?)?(?:[0-9]{2,4}[- \\xa0])?[0-9]{2,4}[- \\xa0])"
        "[0-9]{3,4}[- \\xa0]?[0-9]{3,5}|(?:(?:\\+\\+?)?[0-9]{2,4}\\.)?[0-9]{2,4}\\.[0-9]{3,4}\\.[0-9]{3,5}",
        _phone,
    ),
    ('["&]', '(?P<t>"|&quot;)[A-Za-z0-9$]', _left),
    ('["&]', '"|&quot;', _right),
    ("[<&]", "<|&lt;", lambda t: "<"),
    ("[>&]", ">|&gt;", lambda t: ">"),
    ("[<>:;=]", "(?P<t>(?-i:[<>]?[:;=][-o*']?[()DPdpO\\\\{@|\\[\\]]))[^A-Za-z0-9]", _parens),
    (
        "[-\\^x=~<>'(]",
        "(?-i:[\\^x=~<>]\\.\\[\\^(?i:x)=~<>\\]|[-\\^x=~<>']_[-\\^x=~<>']"
        "|\\([-\\^x=~<>'][_.]?[-\\^x=~<>']\\)|\\([\\^x=~<>']-[\\^x=~<>'`]\\))",
        _parens,
    ),
    ("[][(){}]", "[][(){}]", _bracket),
    ("-", "-+", _dashes),
    ("[.\\x85\\u2026]", "\\.{3,5}|(?:\\.[ \\xa0]){2,4}\\.|[\\x85\\u2026]", lambda t: "..."),
    ("[@#_]", "@+|#+|_+", _keep),
    ("[*\\\\]", "\\*+|(?:\\\\\\*){1,3}", _keep),
    ("[,;:\\u3001]", "[,;:\\u3001]", _keep),
    ("[?!]", "[?!]+", _keep),
    (
        "[.\\xbf\\xa1\\u037e\\u0589\\u061f\\u06d4\\u0700-\\u0702\\u07fa\\u3002]",
        "[.\\xbf\\xa1\\u037e\\u0589\\u061f\\u06d4\\u0700-\\u0702\\u07fa\\u3002]",
        _keep,
    ),
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
