"""`records.decode_json_line` (msgspec where it accepts a line, else json) gives exactly what
`json.loads` gives: the same value, or the same kind of error."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sarbench.records import FAST_MAX_BRACKETS, decode_json_line


def outcome(decode, line: bytes):
    try:
        return "value", repr(decode(line))  # repr tells 1, 1.0, True and -0.0 apart
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
        return "error", type(exc).__name__


def same_as_json(line: bytes) -> None:
    assert outcome(decode_json_line, line) == outcome(json.loads, line), line[:200]


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
)


@settings(max_examples=200, deadline=None)
@given(values, st.booleans())
def test_every_json_value_decodes_as_json_decodes_it(value, ascii_only):
    same_as_json(json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))


JSON_BYTES = list(b'{}[]":,.-+eE0123456789 \t\n\\/abfnrtuNaIinfty') + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xED, 0xA0, 0xFF]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(JSON_BYTES), max_size=40).map(bytes))
def test_arbitrary_bytes_decode_or_fail_as_json_does(line):
    same_as_json(line)


@settings(max_examples=200, deadline=None)
@given(values, st.integers(0, 30), st.sampled_from([b"", b"x", b",", b" 1", b"\xff", b"NaN"]))
def test_corrupted_record_lines_fail_as_json_does(value, cut, tail):
    line = json.dumps({"response": value, "labels": "It is ship."}).encode()
    same_as_json(line[: len(line) - cut] + tail)


def test_the_values_msgspec_refuses_come_from_json():
    for text in ("NaN", "-Infinity", "1e400", '"\\ud800"', "1" * 30, "1" * 5000):
        line = f'{{"response": {text}}}'.encode()
        same_as_json(line)
    same_as_json('{"labels": "\ud800"}'.encode("utf-8", "surrogatepass"))  # lone surrogate bytes
    same_as_json(b'\xef\xbb\xbf{"labels": "x"}')  # a BOM json accepts on bytes


def test_deep_nesting_fails_as_json_does():
    for depth in (FAST_MAX_BRACKETS - 1, FAST_MAX_BRACKETS, 990, 995, 998, 1000, 5000):
        same_as_json(b"[" * depth + b"]" * depth)
        same_as_json(b'{"a":' * depth + b"1" + b"}" * depth)
