"""Sharded runs: `runner.num_shards=N runner.shard=K` processes writing into one run folder.

Every sample belongs to exactly one shard, chosen by a hash of its id (so membership does not
depend on batch size, task selection, `runner.limit` or resume). Shard K appends to its own
`predictions/<subset>.shard-K-of-N.jsonl`, holds its own lock (`.lock-shard-K-of-N`, exclusive)
and the folder's `.lock` in shared mode (an unsharded run wants it exclusive, so it is refused
while any shard runs, and the other way round). The folder's shared files (run_key.json,
manifest.json, shards.json, metrics.json) are changed only under `.lock-meta`, held for
moments. `shards.json` records each shard's state; the shard that finds all N done scores the
union and writes metrics.json: a shard alone is never scored (CIDEr is corpus-level).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sarbench.run_folder import read_document, read_prediction_lines, write_document
from sarbench.run_lock import RunLock
from sarbench.run_settings import RunError

SHARDS_FILE = "shards.json"
SHARD_FILE = re.compile(r"^(?P<subset>[^.]+)\.shard-(?P<index>\d+)-of-(?P<count>\d+)\.jsonl$")


def shard_of(sample_id: str, count: int) -> int:
    """The shard a sample belongs to: stable across processes, machines and Python versions."""
    return int.from_bytes(hashlib.sha256(sample_id.encode("utf-8")).digest()[:8], "big") % count


@dataclass(frozen=True)
class Shard:
    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise RunError(f"runner.num_shards must be a whole number >= 1, got {self.count!r}")
        if isinstance(self.index, bool) or not isinstance(self.index, int) or not 0 <= self.index < self.count:
            raise RunError(
                f"runner.shard must be a whole number from 0 to runner.num_shards-1={self.count - 1}, "
                f"got {self.index!r}"
            )

    @property
    def sharded(self) -> bool:
        return self.count > 1

    @property
    def label(self) -> str:
        return f"shard {self.index}/{self.count}"

    def owns(self, sample_id: str) -> bool:
        return not self.sharded or shard_of(sample_id, self.count) == self.index

    def file_name(self, subset: str, index: int | None = None) -> str:
        if not self.sharded:
            return f"{subset}.jsonl"
        return f"{subset}.shard-{self.index if index is None else index}-of-{self.count}.jsonl"

    def sibling_files(self, folder: Path, subset: str) -> list[Path]:
        return [folder / self.file_name(subset, k) for k in range(self.count)]

    def locks(self, out: Path) -> list[RunLock]:
        """The locks a writer of this shard holds for the whole session."""
        if not self.sharded:
            return [RunLock(out)]
        return [RunLock(out, shared=True), RunLock(out, name=f".lock-shard-{self.index}-of-{self.count}")]


def meta_lock(out: Path) -> RunLock:
    """Held for moments while a process changes the folder's shared files."""
    return RunLock(out, name=".lock-meta", wait=True)


def check_layout(out: Path, shard: Shard, overwrite: bool) -> None:
    """Refuse predictions of another shard layout (unsharded, or another N) in the folder;
    with runner.overwrite=true they are discarded."""
    folder = out / "predictions"
    foreign = [p for p in sorted(folder.glob("*.jsonl")) if _layout(p.name) != shard.count] if folder.is_dir() else []
    if not foreign:
        return
    if not overwrite:
        layout = _layout(foreign[0].name)
        described = "an unsharded run" if layout == 1 else f"runner.num_shards={layout}"
        raise RunError(
            f"{out} holds predictions of {described} ({foreign[0].name}); this run has "
            f"runner.num_shards={shard.count}. Use the same runner.num_shards, another out=DIR, "
            "or runner.overwrite=true to discard them."
        )
    for path in foreign:
        path.unlink()


def _layout(name: str) -> int:
    match = SHARD_FILE.match(name)
    return int(match["count"]) if match else 1


def read_shards(out: Path) -> dict | None:
    document = read_document(out / SHARDS_FILE, "shard record")
    if document is not None and not (
        isinstance(document.get("num_shards"), int) and isinstance(document.get("shards"), dict)
    ):
        raise RunError(f"{out / SHARDS_FILE} lacks num_shards or shards; move it aside and re-run the shards")
    return document


class ShardBook:
    """This shard's entry in shards.json and its sessions in the manifest; for an unsharded run
    every method does nothing. Call the methods under `meta_lock`."""

    def __init__(self, out: Path, shard: Shard, samples: dict[str, list], limit: int | None) -> None:
        self.out, self.shard = out, shard
        self.label = shard.label if shard.sharded else None
        self.selection = {"subsets": sorted(samples), "limit": limit}
        self.samples = sum(map(len, samples.values()))
        self.files = [out / "predictions" / shard.file_name(subset) for subset in samples]

    def start(self, started: str) -> None:
        if self.shard.sharded:
            done = count_lines(self.files)
            self._record("running", started=started, samples=self.samples, done_at_start=done)

    def finish(self, stats: dict) -> str | None:
        """Record this shard done; None when every shard is done (score the union), else 'k/N shards'."""
        if not self.shard.sharded:
            return None
        rate = stats["samples_per_second"]
        self._record(
            "done", samples=self.samples, samples_generated=stats["samples_generated"], samples_per_second=rate
        )
        done = done_shards(read_shards(self.out), self.selection)
        return None if len(done) == self.shard.count else f"{len(done)}/{self.shard.count} shards"

    def stop(self, outcome: str) -> None:
        if self.shard.sharded:
            self._record(outcome)

    def previous(self, at_start: dict | None, started: str) -> dict | None:
        """The manifest to add this session to: siblings write theirs meanwhile, so a shard
        re-reads it and replaces its own entry (written at its start)."""
        if not self.shard.sharded:
            return at_start
        try:
            current = read_document(self.out / "manifest.json", "manifest")
        except RunError:
            return at_start
        if current is None:
            return None
        sessions = [
            s
            for s in current.get("sessions") or []
            if not (isinstance(s, dict) and (s.get("started"), s.get("shard")) == (started, self.label))
        ]
        return {**current, "sessions": sessions}

    def _record(self, state: str, **fields) -> None:
        document = read_shards(self.out)
        if document is None or document["num_shards"] != self.shard.count:
            document = {"num_shards": self.shard.count, "shards": {}}
        key = str(self.shard.index)
        entry = {} if state == "running" else document["shards"].get(key, {})
        entry.update(state=state, host=socket.gethostname(), pid=os.getpid(), selection=self.selection, **fields)
        if state != "running":
            entry["finished"] = now()
        document["shards"][key] = entry
        write_document(self.out / SHARDS_FILE, document)


def done_shards(document: dict | None, selection: dict) -> list[int]:
    """Shards recorded done for this selection (subsets and limit)."""
    if document is None:
        return []
    return sorted(
        int(k)
        for k, entry in document["shards"].items()
        if isinstance(entry, dict) and entry.get("state") == "done" and entry.get("selection") == selection
    )


def read_union(paths: list[Path]) -> tuple[dict[str, dict], dict[str, Path]]:
    """The records of a subset's prediction files (one per shard) by id, and the file of each."""
    records: dict[str, dict] = {}
    where: dict[str, Path] = {}
    for path in paths:
        for record in read_prediction_lines(path):
            if record["id"] in where:
                raise RunError(f"sample {record['id']} is in both {where[record['id']]} and {path}; delete one line")
            records[record["id"]], where[record["id"]] = record, path
    return records, where


def partial_note(out: Path) -> str | None:
    """For readers: 'k/N shards' when `out` is a sharded run not yet complete, else None."""
    if (out / "metrics.json").is_file():
        return None
    try:
        document = read_shards(out)
    except RunError as exc:
        return f"unreadable {SHARDS_FILE} ({exc})"
    if document is None:
        return None
    done = sum(isinstance(e, dict) and e.get("state") == "done" for e in document["shards"].values())
    return f"{done}/{document['num_shards']} shards"


def refuse_partial(folder: Path) -> None:
    """Readers that need a complete run refuse a partial sharded folder with this message."""
    for candidate in (folder, folder.parent):
        note = partial_note(candidate) if (candidate / SHARDS_FILE).exists() else None
        if note:
            raise RunError(
                f"{candidate} is a sharded run not yet complete ({note}): it is scored when its "
                f"last shard finishes; see `sarbench status {candidate}`"
            )


def count_lines(paths: list[Path]) -> int:
    """Complete prediction lines in `paths` (a partial last line is not counted)."""
    total = 0
    for path in paths:
        try:
            with open(path, "rb") as handle:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        except FileNotFoundError:
            continue
    return total


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
