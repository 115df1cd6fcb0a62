"""Runner settings (the `runner:` config group), checked up front, and the run's error type."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RunError", "RunnerSettings"]


class RunError(RuntimeError):
    """A run that cannot start or continue; the message says what to do."""


@dataclass
class RunnerSettings:
    batch_size: int = 8
    limit: int | None = None
    overwrite: bool = False
    retry_failed: bool = False
    image_workers: int = 4
    prefetch_batches: int = 4
    max_consecutive_failures: int = 64
    fsync: bool = True
    progress: bool = True
    seed: int = 0
    num_shards: int = 1  # sarbench/shards.py
    shard: int = 0

    def __post_init__(self) -> None:
        for name in ("batch_size", "image_workers", "prefetch_batches", "max_consecutive_failures"):
            _check_count(f"runner.{name}", getattr(self, name))
        if self.limit is not None:
            _check_count("runner.limit", self.limit, "null for all samples")


def _check_count(name: str, value, alternative: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RunError(
            f"{name} must be a whole number >= 1{' (or ' + alternative + ')' if alternative else ''}, got {value!r}"
        )
