"""One writer per run folder: an exclusive `flock` on `<folder>/.lock`.

The kernel drops a flock when its holder dies (kill -9 included), so a lock file left behind by
a dead run is simply taken over; the file's text (pid, host, start) only names the holder in the
refusal message. The file is never deleted: unlinking it would let a process that opened the old
file and one that creates a new one both "hold" the lock.

`name` selects the lock file, so that parts of a folder (e.g. one shard's predictions) can get a
lock each: `RunLock(out, name=".lock-shard-3-of-8")`. `shared=True` takes the lock in shared mode:
the shards of a run share the folder's `.lock` (so an unsharded run, which wants it exclusive, is
refused while any shard runs) and each holds its own shard lock exclusively. `wait=True` blocks
until the lock is free (the short critical sections where shards update the folder's shared files).

On NFS: Linux (>= 2.6.12) emulates flock with POSIX byte-range locks on NFS, so the lock holds
across hosts on NFSv4 (locking is part of the protocol) and on NFSv3 only where the lock daemon
(lockd/statd) runs on client and server; with `nolock` mounts it is local to each host. A client
that loses its lease (NFSv4) or crashes frees the lock only after the server's grace period.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from sarbench.run_settings import RunError

log = logging.getLogger("sarbench")


class RunLocked(RunError):
    """Another process writes into the run folder."""


class RunLock:
    def __init__(self, folder: Path, name: str = ".lock", shared: bool = False, wait: bool = False) -> None:
        self.path = folder / name
        self.shared = shared
        self.wait = wait
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunError(f"cannot write {self.path} (the run folder's lock): {exc}") from None
        try:
            mode = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
            fcntl.flock(fd, mode if self.wait else mode | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder_text(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                what = (
                    "a sharded run: see `sarbench status`"
                    if holder == "holder unknown" and self.shared is False
                    else holder
                )
                raise RunLocked(
                    f"{self.path.parent} is being written by another sarbench run ({what}); "
                    "wait for it to finish (or stop it), or use another out= folder"
                ) from None
            raise RunError(
                f"cannot lock {self.path}: {exc} (the file system does not support "
                "locks; use an out= folder on a local or lock-capable file system)"
            ) from None
        self._fd = fd
        if self.shared:  # several holders: the file names none of them
            return
        previous = _holder_text(fd)
        if previous != "holder unknown":
            log.info("taking over %s, left by a run that has ended (%s)", self.path, previous)
        self._write_holder()

    def _write_holder(self) -> None:
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, (json.dumps(holder) + "\n").encode(), 0)
        except OSError as exc:
            self.release()
            raise RunError(f"cannot write {self.path} (the run folder's lock): {exc}") from None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if not self.shared:
                os.ftruncate(self._fd, 0)  # an empty file: nobody holds it
        except OSError:
            pass  # the lock itself is released with the descriptor below
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


def _holder_text(fd: int) -> str:
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"null")
    except (OSError, ValueError):
        holder = None
    if not isinstance(holder, dict):
        return "holder unknown"
    return f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"
