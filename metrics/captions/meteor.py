"""METEOR 1.5 through pycocoevalcap's Java wrapper, or ``None`` when it cannot run.

METEOR has no pure-Python equivalent (nltk's METEOR gives different numbers), so it needs both
a ``java`` executable on PATH and pycocoevalcap (which ships ``meteor-1.5.jar``). The jar is
fed tokenised single-line text only: raw text with newlines makes it hang.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["meteor", "meteor_unavailable_reason"]


def meteor_unavailable_reason() -> str | None:
    """Why METEOR cannot be computed here, or ``None`` if it can."""
    if shutil.which("java") is None:
        return "no 'java' executable on PATH (METEOR 1.5 is a Java program)"
    try:
        spec = importlib.util.find_spec("pycocoevalcap")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return "pycocoevalcap is not installed (it ships meteor-1.5.jar); install sarbench[reference]"
    if not any(Path(p, "meteor", "meteor-1.5.jar").is_file() for p in spec.submodule_search_locations):
        return "pycocoevalcap's meteor/meteor-1.5.jar is missing"
    return None


def meteor(hyps: list[str], refs: list[str], scorer=None) -> float | None:
    """Corpus METEOR (not ×100) of tokenised hypothesis/reference strings, or ``None``.

    By default the jar is driven here with the same command and the same SCORE/EVAL protocol as
    pycocoevalcap's ``Meteor``, but pipelined: a writer thread streams every SCORE line while
    the statistics are read back, instead of one blocking round trip per pair. ``scorer``: a
    running pycocoevalcap ``Meteor`` to use instead (its own, sequential protocol).
    """
    if not hyps or (scorer is None and meteor_unavailable_reason() is not None):
        return None
    # The jar reads one line per request: a line break would desynchronise or hang it
    # (tokenised text has none; this only guards direct callers).
    hyps, refs = ([s.replace("\r", " ").replace("\n", " ") for s in side] for side in (hyps, refs))
    if scorer is not None:
        score, _ = scorer.compute_score({i: [r] for i, r in enumerate(refs)}, {i: [h] for i, h in enumerate(hyps)})
        return float(score)
    return _pipelined_meteor(hyps, refs)


def _jar_directory() -> str:
    spec = importlib.util.find_spec("pycocoevalcap")
    for location in spec.submodule_search_locations:
        candidate = Path(location, "meteor")
        if (candidate / "meteor-1.5.jar").is_file():
            return str(candidate)
    raise FileNotFoundError("pycocoevalcap's meteor/meteor-1.5.jar")


def _start_jar() -> subprocess.Popen:
    return subprocess.Popen(
        ["java", "-jar", "-Xmx2G", "meteor-1.5.jar", "-", "-", "-stdio", "-l", "en", "-norm"],
        cwd=_jar_directory(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _segment_stats(process: subprocess.Popen, lines: list[str]) -> list[str]:
    """Stream SCORE lines from a writer thread while reading the statistics back."""
    failure: list[BaseException] = []

    def write_all() -> None:
        try:
            for line in lines:
                process.stdin.write(f"{line}\n".encode())
            process.stdin.flush()
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            failure.append(exc)

    writer = threading.Thread(target=write_all, name="sarbench-meteor-writer", daemon=True)
    writer.start()
    stats = [process.stdout.readline().decode().strip() for _ in lines]
    writer.join()
    if failure or any(not s for s in stats):
        raise RuntimeError(f"METEOR jar stopped answering: {failure[0] if failure else 'empty reply'}")
    return stats


def meteor_workers(n_pairs: int) -> int:
    """JVMs to compute segment statistics in parallel: one per two cores, at most 4 (each takes
    up to 2 GB), none extra for small sets. On the 2-core dev box this is 1 (a second JVM made
    6,032 pairs slower there: 73 s vs 64 s under load)."""
    return max(1, min((os.cpu_count() or 1) // 2, 4, n_pairs // 500))


def _pipelined_meteor(hyps: list[str], refs: list[str], workers: int | None = None) -> float:
    # Exactly pycocoevalcap's Meteor: same jar options, same "SCORE ||| ref ||| hyp" lines (with
    # its '|||' removal and double-space squeeze on the hypothesis), then one EVAL line over all
    # segment statistics. Statistics are per segment, so several JVMs can compute them.
    lines = [" ||| ".join(("SCORE", ref, hyp.replace("|||", "").replace("  ", " "))) for hyp, ref in zip(hyps, refs)]
    workers = workers or meteor_workers(len(lines))
    size = -(-len(lines) // workers)
    chunks = [lines[i : i + size] for i in range(0, len(lines), size)]
    processes = [_start_jar() for _ in chunks]
    try:
        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            stats = [s for part in pool.map(_segment_stats, processes, chunks) for s in part]
        first = processes[0]
        first.stdin.write(("EVAL ||| " + " ||| ".join(stats) + "\n").encode())
        first.stdin.flush()
        for _ in lines:
            first.stdout.readline()  # per-segment scores; the corpus score follows
        return float(first.stdout.readline().strip())
    finally:
        for process in processes:
            process.stdin.close()
            process.kill()
            process.wait()
