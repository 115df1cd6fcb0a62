"""`sarbench status RUN`: how far a run folder is (every shard of a sharded run).

Shards are done, running, killed (recorded running on this host by a process that no longer
exists: re-run it), running elsewhere (another host: trusted as recorded) or missing (never
started). Exit status 0 when the run is complete (metrics.json written), 1 when not.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path

from sarbench.run_folder import RunFolderError, read_manifest
from sarbench.run_settings import RunError
from sarbench.shards import SHARDS_FILE, Shard, count_lines, read_shards


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, TypeError, ValueError):
        return True
    return True


def shard_state(entry: dict | None) -> str:
    if not isinstance(entry, dict):
        return "missing"
    state = entry.get("state")
    if state != "running":
        return str(state)
    if entry.get("host") != socket.gethostname():
        return "running elsewhere"
    return "running" if _alive(entry.get("pid")) else "killed"


def _seconds_since(iso: str | None) -> float | None:
    try:
        return (datetime.now(timezone.utc) - datetime.fromisoformat(str(iso))).total_seconds()
    except ValueError:
        return None


def shard_rows(out: Path, document: dict) -> list[dict]:
    count = document["num_shards"]
    subsets = {
        subset
        for entry in document["shards"].values()
        if isinstance(entry, dict)
        for subset in (entry.get("selection") or {}).get("subsets", [])
    }
    rows = []
    for index in range(count):
        entry = document["shards"].get(str(index))
        files = [out / "predictions" / Shard(index, count).file_name(s) for s in sorted(subsets)]
        row = {"shard": index, "state": shard_state(entry), "done": count_lines(files), "rate": None}
        row["samples"] = entry.get("samples") if isinstance(entry, dict) else None
        if row["state"] == "done":
            row["rate"] = entry.get("samples_per_second")
        elif row["state"] in ("running", "running elsewhere"):
            elapsed = _seconds_since(entry.get("started"))
            made = row["done"] - int(entry.get("done_at_start") or 0)
            row["rate"] = made / elapsed if elapsed and made > 0 else None
        rows.append(row)
    return rows


def report(out: Path) -> tuple[str, bool]:
    complete = (out / "metrics.json").is_file()
    document = read_shards(out)
    if document is None:
        lines = count_lines(sorted((out / "predictions").glob("*.jsonl")))
        manifest = read_manifest(out / "manifest.json") or {}
        state = "complete (metrics.json)" if complete else "not complete (no metrics.json)"
        if not complete and manifest.get("finished") is None and manifest.get("started"):
            state += f"; a session started {manifest['started']} has not finished (running or killed)"
        return f"{out}: unsharded run, {lines} predictions, {state}", complete
    rows = shard_rows(out, document)
    done = sum(r["state"] == "done" for r in rows)
    count = document["num_shards"]
    table = [f"{'shard':>5}  {'state':<17} {'done':>8} {'samples':>8} {'samples/s':>10}"]
    for r in rows:
        rate = f"{r['rate']:.2f}" if r["rate"] else "-"
        samples = r["samples"] if r["samples"] is not None else "?"
        hint = f"  (re-run with runner.shard={r['shard']})" if r["state"] in ("killed", "missing") else ""
        table.append(f"{r['shard']:>5}  {r['state']:<17} {r['done']:>8} {samples:>8} {rate:>10}{hint}")
    made = sum(r["done"] for r in rows)
    known = all(r["samples"] is not None for r in rows)
    total = sum(r["samples"] or 0 for r in rows)
    running_rate = sum(r["rate"] or 0 for r in rows if r["state"].startswith("running"))
    summary = f"{done}/{count} shards done, {made}/{total if known else '?'} samples"
    if running_rate:
        summary += f", {running_rate:.2f} samples/s"
        if known:
            summary += f", ETA {_duration((total - made) / running_rate)}"
    summary += "; scored (metrics.json)" if complete else "; not scored yet"
    return "\n".join([f"{out}: sharded run, {summary}", *table]), complete


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sarbench status",
        description=f"Progress of run folders: shards done/running/killed/missing ({SHARDS_FILE}), "
        "samples, samples/s, ETA. Exit status 0 when every run is complete.",
    )
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="a run folder (the run's out=)")
    parser.add_argument("--json", action="store_true", help="print the shard rows as JSON")
    args = parser.parse_args(argv)
    all_complete = True
    for out in args.runs:
        if not out.is_dir():
            print(f"error: {out} is not a run folder", file=sys.stderr)
            return 2
        try:
            text, complete = report(out)
            if args.json:
                document = read_shards(out)
                text = json.dumps(shard_rows(out, document) if document else [], indent=2)
        except (RunFolderError, RunError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(text)
        all_complete = all_complete and complete
    return 0 if all_complete else 1


if __name__ == "__main__":
    sys.exit(main())
