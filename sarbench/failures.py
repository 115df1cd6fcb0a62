"""Inference failures are not answers: their kinds, which ones a re-run predicts again, when a
run stops on them, and how a run's results say it has them.

A sample whose request failed (a server that did not answer, an unreadable image) is recorded
with `error` and `error_kind` in its prediction line and scored as an empty answer, so its
subset's numbers stay comparable in size; everything that reports the run marks it (metrics.json
`inference_failure_summary`, the console table, the leaderboard's dagger and footnote, compare),
and the run exits with EXIT_FAILURES (or EXIT_ALL_FAILED) unless `runner.allow_failures=true`.

Kinds: `transient` where the cause may pass by itself (connection lost, timeout, HTTP 429/5xx;
an adapter says so with `InferenceFailure(transient=True)`), `permanent` where the same request
would fail the same way (HTTP 400/404, a corrupt or missing image). A re-run predicts the samples
that `runner.retry_failed` names again: `transient` (default), `all` or `none`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sarbench.run_settings import RunError, RunnerSettings

TRANSIENT, PERMANENT = "transient", "permanent"
ERROR_KINDS = (TRANSIENT, PERMANENT)

# Exit statuses of `python -m sarbench` (README "Failures and exit status").
EXIT_OK, EXIT_REFUSED, EXIT_ALL_FAILED, EXIT_FAILURES, EXIT_INTERRUPTED = 0, 2, 3, 4, 130


def exception_kind(exc: BaseException) -> str:
    """The kind of a failure an adapter raised instead of answering: OS-level errors
    (connection refused or reset, timeouts) may pass; anything else would happen again."""
    return TRANSIENT if isinstance(exc, OSError) else PERMANENT


def record_kind(record: dict) -> str | None:
    """The failure kind of a prediction line (None: an answer). A line written before kinds were
    recorded counts as transient: a failure is retried rather than kept as an answer."""
    if "error" not in record:
        return None
    return record.get("error_kind") or TRANSIENT


def to_retry(records: Iterable[dict], mode: str) -> set[str]:
    """Ids of the recorded failures that `runner.retry_failed=mode` predicts again."""
    if mode == "none":
        return set()
    return {r["id"] for r in records if record_kind(r) is not None and (mode == "all" or record_kind(r) == TRANSIENT)}


class FailureStreak:
    """Stops a run on a run of failures (sample by sample, in the order they were answered):
    `max_consecutive_failures` of any kind, or `max_consecutive_permanent_failures` that a retry
    cannot fix (a wrong served model name, a server that refuses every request) -- instead of a
    table of zeros."""

    def __init__(self, settings: RunnerSettings) -> None:
        self.limit_any = settings.max_consecutive_failures
        self.limit_permanent = settings.max_consecutive_permanent_failures
        self.failed = 0
        self.permanent = 0

    def update(self, records: list[dict]) -> None:
        for record in records:
            kind = record_kind(record)
            self.failed = self.failed + 1 if kind else 0
            self.permanent = self.permanent + 1 if kind == PERMANENT else 0
            if self.permanent >= self.limit_permanent:
                raise RunError(
                    f"stopped: {self.permanent} samples in a row failed for a reason a retry cannot fix "
                    f"(runner.max_consecutive_permanent_failures); last error: {record['error']}. The "
                    "predictions so far are saved; fix the cause, then re-run with runner.retry_failed=all "
                    "(a plain re-run keeps permanent failures)"
                )
            if self.failed >= self.limit_any:
                raise RunError(
                    f"stopped: {self.failed} samples failed in a row (runner.max_consecutive_failures); last "
                    f"error: {record['error']}. The predictions so far are saved; when the cause is fixed, "
                    "re-run the same command: transient failures are tried again (runner.retry_failed=all "
                    "also retries permanent ones)"
                )


def failure_summary(kinds: list[str | None]) -> dict:
    """metrics.json `inference_failure_summary` of the scored samples' failure kinds (None: answered)."""
    failed = sum(k is not None for k in kinds)
    return {
        "failed": failed,
        "samples": len(kinds),
        "percent": round(100.0 * failed / len(kinds), 2) if kinds else 0.0,
        TRANSIENT: kinds.count(TRANSIENT),
        PERMANENT: kinds.count(PERMANENT),
    }


def mark_failures(result: dict, kinds: dict[str, list[str | None]]) -> None:
    """Add `inference_failures` (per subset) and `inference_failure_summary` to a metrics.json
    document, from each scored sample's failure kind (None: answered)."""
    result["inference_failures"] = {subset: sum(k is not None for k in items) for subset, items in kinds.items()}
    result["inference_failure_summary"] = failure_summary([k for items in kinds.values() for k in items])


def failure_counts(result: dict) -> tuple[int, int]:
    """(failed, scored samples) of a metrics.json; from the per-subset counts when it predates
    the summary, (0, n) for a file of `sarbench.score` (no inference, nothing failed)."""
    summary = result.get("inference_failure_summary")
    if isinstance(summary, dict) and isinstance(summary.get("failed"), int):
        return summary["failed"], int(summary.get("samples") or 0)
    per_subset = result.get("inference_failures") or {}
    failed = sum(v for v in per_subset.values() if isinstance(v, int)) if isinstance(per_subset, dict) else 0
    n = result.get("n") or {}
    return failed, sum(v for v in n.values() if isinstance(v, int)) if isinstance(n, dict) else 0


def failure_percent(result: dict) -> float:
    """Share of a metrics.json's scored samples that failed inference, in percent."""
    failed, samples = failure_counts(result)
    return 100.0 * failed / samples if samples else (100.0 if failed else 0.0)


def failure_text(result: dict) -> str | None:
    """One line for a run with inference failures (None without): count, percent and kinds."""
    failed, samples = failure_counts(result)
    if not failed:
        return None
    summary = result.get("inference_failure_summary") or {}
    kinds = ", ".join(f"{summary[k]} {k}" for k in ERROR_KINDS if summary.get(k))
    percent = 100.0 * failed / samples if samples else 100.0
    return (
        f"inference failures: {failed} of {samples} samples ({percent:.2f} %{'; ' + kinds if kinds else ''}), "
        "scored as empty answers; see predictions/*.jsonl 'error'"
    )


def exit_status(result: dict, allow_failures: bool) -> int:
    """EXIT_ALL_FAILED when no sample was answered, EXIT_FAILURES when some failed (0 with
    `runner.allow_failures=true`), else EXIT_OK."""
    failed, samples = failure_counts(result)
    if samples and failed == samples:
        return EXIT_ALL_FAILED
    if failed and not allow_failures:
        return EXIT_FAILURES
    return EXIT_OK
