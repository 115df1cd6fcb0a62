"""`python -m sarbench.score INPUT...`: score swift-infer style result files (PROTOCOL §4).

INPUT is a result file or a directory of them (JSONL or JSON array of objects with `response`
and `labels`). The subset comes from the file name: `<subset id>.json[l]` or one containing a
SARChat test stem (`SARChat_classify_count_test_final_results.jsonl`, longest stem wins).
A file reached twice (named twice, via a symlink or its folder) or a copy with identical bytes
under another name is scored once: the later one is skipped with a warning naming both.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sarbench.failures import mark_failures
from sarbench.records import DataError
from sarbench.reports.console import format_metrics
from sarbench.result_files import DuplicateFile, load_predictions, result_files
from sarbench.run_settings import RunError
from sarbench.score_files import ScoredFiles, score_files_in_workers
from sarbench.score_predictions import score_predictions
from sarbench.score_workers import WorkerError, default_workers
from sarbench.shards import refuse_partial


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sarbench.score",
        description="Score SARChat result files (swift infer JSONL/JSON or sarbench predictions).",
        epilog="A file given twice (by name, symlink or folder) or a copy with identical content "
        "is scored once: later ones are skipped, listed in 'duplicate_files' and warned "
        "about on stderr.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="result file or directory")
    parser.add_argument("--out", type=Path, help="write metrics JSON here")
    parser.add_argument("--details", type=Path, help="write one JSON line per sample here")
    meteor = parser.add_mutually_exclusive_group()
    meteor.add_argument("--no-meteor", action="store_true", help="skip Java METEOR (reported absent)")
    meteor.add_argument("--meteor", action="store_true", help="require Java METEOR (error if Java is missing)")
    parser.add_argument(
        "--collect-errors",
        action="store_true",
        help="report malformed records and go on instead of stopping at the first",
    )
    parser.add_argument(
        "--image-root", type=Path, help="directory the results' image paths are relative to (for size breakdowns)"
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=default_workers(),
        help="processes that score (default: this machine's cores, %(default)s); 1 scores in this process. "
        "The numbers are the same for any count",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the table")
    return parser


@contextmanager
def paused_gc(freeze: bool) -> Iterator[None]:
    """No cyclic garbage collection while reading and scoring: they make no reference cycles, and
    the collector's passes over the ~2 million objects of a full test set cost ~15 % of the time.
    `freeze` (a process that ends after scoring): those objects are then left out of every later
    collection, the one at exit included (gc.freeze), instead of being scanned once or twice more
    (~10 % more). An in-process caller keeps an ordinary collector."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _load_and_score(args: argparse.Namespace, meteor: bool | None, duplicates: list[DuplicateFile]) -> ScoredFiles:
    in_workers = score_files_in_workers(
        args.inputs,
        workers=args.workers,
        meteor=meteor,
        details=args.details,
        collect_errors=args.collect_errors,
        image_root=args.image_root,
    )
    if in_workers is not None:
        scored, repeated = in_workers
        duplicates.extend(repeated)
        return scored
    by_subset, issues, used = load_predictions(
        args.inputs, collect_errors=args.collect_errors, image_root=args.image_root, duplicates=duplicates
    )
    if not by_subset:
        raise DataError(", ".join(args.inputs), None, "no result records found")
    result = score_predictions(
        by_subset,
        meteor=meteor,
        details=args.details,
        issues=issues,
        malformed_reference="collect" if args.collect_errors else "raise",
        workers=args.workers,
    )
    missing = {subset: sum(p.no_response_field for p in items) for subset, items in by_subset.items()}
    failures = {subset: [p.failure for p in items] for subset, items in by_subset.items()}
    return ScoredFiles(result, used, missing, failures)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    meteor = False if args.no_meteor else (True if args.meteor else None)
    duplicates: list[DuplicateFile] = []
    try:
        for item in args.inputs:
            if Path(item).is_dir():
                refuse_partial(Path(item))
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with paused_gc(freeze=argv is None):  # argv None: the process's own command line
            scored = _load_and_score(args, meteor, duplicates)
    except (DataError, WorkerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result, used = scored.result, scored.used
    missing = {subset: n for subset, n in scored.no_response_field.items() if n}
    if missing:
        result["no_response_field"] = missing
    if any(k for items in scored.failures.values() for k in items):  # a run's recorded inference failures
        mark_failures(result, scored.failures)
    for duplicate in duplicates:
        print(f"warning: {duplicate.message()}", file=sys.stderr)
    repeated = {d.path for d in duplicates}
    skipped = [str(p) for p in result_files(args.inputs) if p not in used and p not in repeated]
    result["inputs"] = [str(p) for p in used]
    if skipped:
        result["skipped_files"] = skipped
    if duplicates:
        result["duplicate_files"] = [d.to_dict() for d in duplicates]
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    if not args.quiet:
        print(format_metrics(result))
        for path in skipped:
            print(f"note: skipped {path} (a JSON object, not result records)")
        if missing:
            print(
                f"note: {sum(missing.values())} records have no 'response' field ({', '.join(missing)}); "
                "scored as empty answers: are these model outputs?"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
