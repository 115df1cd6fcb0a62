"""Reading record files (JSON array or JSONL) and the ms-swift record fields, with located errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from metrics.benchmark import PROMPT_TAG_PATTERN, TASK_TABLE, Task, subset, task_of_tag


class DataError(ValueError):
    """A malformed input file or record; the message names the file, the record and the problem."""

    def __init__(self, path: str | Path, index: int | None, problem: str) -> None:
        self.path = str(path)
        self.index = index
        self.problem = problem
        where = f"{self.path}" if index is None else f"{self.path}, record {index}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # raised in a scoring worker process, re-raised in its parent
        return DataError, (self.path, self.index, self.problem)


@dataclass(frozen=True)
class RecordIssue:
    """A malformed record collected instead of raised (counted and reported, never dropped silently)."""

    path: str
    index: int | None
    problem: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "index": self.index, "problem": self.problem}


UTF8_BOM = b"\xef\xbb\xbf"


def first_content_byte(path: Path) -> bytes:
    """The first non-blank byte of a file (after a UTF-8 BOM), b"" for a blank file."""
    with open(path, "rb") as handle:
        start = True
        while True:
            chunk = handle.read(4096)
            if not chunk:
                return b""
            if start and chunk.startswith(UTF8_BOM):
                chunk = chunk[len(UTF8_BOM) :]
            start = False
            stripped = chunk.lstrip()
            if stripped:
                return stripped[:1]


def is_json_array(path: Path) -> bool:
    """PROTOCOL §4: a JSON array if the first non-blank character is `[`, else JSONL."""
    return first_content_byte(path) == b"["


TOO_DEEP = "invalid JSON: nested too deeply (Python's recursion limit)"


def _decode_problem(exc: Exception, line_number: int) -> str:
    if isinstance(exc, RecursionError):
        return f"{TOO_DEEP} on line {line_number}"
    kind = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "invalid JSON"
    return f"{kind} on line {line_number}: {exc}"


_FAST_DECODE = msgspec.json.Decoder().decode
# A line with fewer brackets than this nests less deeply, far from where either decoder hits
# Python's recursion limit (json at ~990 levels, msgspec a few levels deeper).
FAST_MAX_BRACKETS = 500


def decode_json_line(line: bytes) -> Any:
    """`json.loads(line)`, about twice as fast: msgspec decodes the lines it accepts, to the same
    values as json (tests/test_json_lines.py); what it refuses (NaN, Infinity, numbers beyond
    float range, lone surrogates, text that is not UTF-8, invalid JSON) and lines that might
    nest near the recursion limit go to json, which returns or raises what it always did."""
    if line.count(b"[") + line.count(b"{") < FAST_MAX_BRACKETS:
        try:
            return _FAST_DECODE(line)
        except msgspec.DecodeError:
            pass
    return json.loads(line)


def read_records(path: str | Path, tolerant: bool = False) -> Iterator[tuple[int, Any]]:
    """Yield (index, object) for each record of a JSON-array or JSONL file.

    JSONL indices count non-blank lines; an unparsable line raises DataError naming it, or,
    when `tolerant`, is yielded as that DataError in place of the record.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "file not found")
    if is_json_array(path):
        try:
            with open(path, "rb") as handle:
                records = json.load(handle)
        except json.JSONDecodeError as exc:
            raise DataError(path, None, f"invalid JSON: {exc}") from None
        except UnicodeDecodeError as exc:
            raise DataError(path, None, f"not UTF-8 text ({exc})") from None
        except RecursionError:
            raise DataError(path, None, TOO_DEEP) from None
        if not isinstance(records, list):
            raise DataError(path, None, "expected a JSON array of records")
        yield from enumerate(records)
        return
    index = 0
    with open(path, "rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            if line_number == 1 and line.startswith(UTF8_BOM):
                line = line[len(UTF8_BOM) :]
            if not line.strip():
                continue
            try:
                record = decode_json_line(line)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
                error = DataError(path, index, _decode_problem(exc, line_number))
                if not tolerant:
                    raise error from None
                record = error
            yield index, record
            index += 1


def message_text(record: dict, role: str) -> str | None:
    """Content of the first message with `role` (ms-swift `messages`), or None."""
    messages = record.get("messages")
    if not isinstance(messages, list):
        return None
    for message in messages:
        if isinstance(message, dict) and message.get("role") == role:
            content = message.get("content")
            return content if isinstance(content, str) else None
    return None


def strip_image_tag(text: str) -> str:
    """User text without the leading `<image>` placeholder the ms-swift format carries."""
    stripped = text.lstrip()
    if stripped.startswith("<image>"):
        return stripped[len("<image>") :].lstrip("\n")
    return text


def route_by_content(question: str | None, reference: str) -> str:
    """Subset of a record whose file name names none (documented fallback, PROTOCOL §1.1).

    Tagged prompts go to their task; single vs multi for grounding and refer follows the
    reference's box count (grounding lists every object of the image, refer every object of
    the asked category). Identification cannot be split from one record (the image's object
    count is not in it): it goes to `identify_multi`, which holds nearly all of the paper's
    identification samples. Untagged prompts that list at least three categories (the
    option list) are classification, other untagged prompts description.
    """
    from metrics.lexicon import BOX_RE, CATEGORY_RE, category_of

    question = question or ""
    tag = PROMPT_TAG_PATTERN.search(question)
    if tag is not None:
        return _tagged_subset(task_of_tag(tag.group(1)), reference, BOX_RE)
    categories = {category_of(m.group()) for m in CATEGORY_RE.finditer(question.lower())}
    lists_options = len(categories) >= 3
    untagged = [t for t in TASK_TABLE if t.prompt_tag is None and t.lists_options == lists_options]
    return untagged[0].subsets[0]


def _tagged_subset(tagged: Task, reference: str, box_re) -> str:
    """One of a tagged task's subsets: single vs multi by the reference's box count."""
    if len(tagged.subsets) == 1:
        return tagged.subsets[0]
    if tagged.unsplit_subset is not None:
        return tagged.unsplit_subset
    arity = "single" if len(box_re.findall(reference.lower())) <= 1 else "multi"
    return next(name for name in tagged.subsets if subset(name).arity == arity)
