"""Runner settings (the `runner:` config group), checked up front, and the run's error type.

The values and their defaults live in conf/config.yaml only; `RunnerSettings` holds the types
and the set of valid keys. A key it does not know (a typo, or `+runner.batchsize=4`) is refused
with the list of valid ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from model_adapters.errors import AdapterError
from model_adapters.settings import parse_settings

__all__ = ["RunError", "RunnerSettings", "runner_settings"]

# transient: connection errors, timeouts, HTTP 429/5xx; all: every recorded failure; none
RetryChoice = Literal["transient", "all", "none"]


class RunError(RuntimeError):
    """A run that cannot start or continue; the message says what to do."""


@dataclass(frozen=True)
class RunnerSettings:
    batch_size: int  # samples per adapter call (forced to 1 for batch-unsafe adapters)
    limit: int | None  # first N samples of each subset (None: all)
    overwrite: bool  # discard predictions made under a different configuration
    retry_failed: RetryChoice  # which recorded failures a re-run predicts again (sarbench/failures.py)
    allow_failures: bool  # exit 0 although some samples failed inference
    image_workers: int
    prefetch_batches: int
    max_consecutive_failures: int  # stop when this many samples fail in a row
    max_consecutive_permanent_failures: int  # ... for a reason a retry cannot fix
    fsync: bool
    progress: bool
    seed: int
    num_shards: int  # sarbench/shards.py (checked there)
    shard: int

    def __post_init__(self) -> None:
        for name in (
            "batch_size",
            "image_workers",
            "prefetch_batches",
            "max_consecutive_failures",
            "max_consecutive_permanent_failures",
        ):
            _check_count(f"runner.{name}", getattr(self, name))
        if self.limit is not None:
            _check_count("runner.limit", self.limit, "null for all samples")


def runner_settings(config: Mapping[str, Any]) -> RunnerSettings:
    """The `runner:` group as settings: unknown or missing keys and wrong types are named."""
    try:
        return parse_settings(
            RunnerSettings, dict(config), where="runner", missing_hint="conf/config.yaml sets every runner key"
        )
    except AdapterError as exc:
        raise RunError(str(exc)) from None


def _check_count(name: str, value, alternative: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RunError(
            f"{name} must be a whole number >= 1{' (or ' + alternative + ')' if alternative else ''}, got {value!r}"
        )
