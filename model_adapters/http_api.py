"""HTTP for backend=openai: one JSON call with one overall deadline, and the retry loop that tells
the user what it is doing (a line per round of retries: which attempt failed, when the next is).

Retried: connection errors, timeouts and HTTP 408/409/425/429/5xx (a server that is loading,
overloaded or restarting may answer the same request later). Any other status is the server's
answer and is returned to the caller, never retried.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger("sarbench")

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
MAX_REPLY_BYTES = 64 * 2**20
RETRY_LINE_EVERY_S = 5.0  # concurrent requests failing together print one line, not one each
T = TypeVar("T")


class RetryableError(Exception):
    """A failure that may pass by itself (connection, timeout, 429/5xx)."""


def excerpt(data: bytes, limit: int = 300) -> str:
    return data[:limit].decode("utf-8", "replace").strip()


def call_json(
    method: str, url: str, body: bytes | None, headers: dict[str, str], deadline_s: float
) -> tuple[int, bytes]:
    """One HTTP call with one overall deadline: a timer shuts the socket down when it passes,
    which wakes any read blocked on a slow or trickling server."""
    parts = urllib.parse.urlsplit(url)
    connection_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_cls(parts.hostname, parts.port, timeout=deadline_s)
    expired = threading.Event()
    sockets: list[socket.socket] = []

    def cut() -> None:
        expired.set()
        for sock in sockets:  # the response keeps reading from it after the connection lets go
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(deadline_s, cut)
    timer.daemon = True
    timer.start()
    try:
        connection.connect()
        sockets.append(connection.sock)
        if expired.is_set():
            cut()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        data = reply.read(MAX_REPLY_BYTES + 1)
        if expired.is_set():
            raise TimeoutError(f"no complete reply within timeout_s={deadline_s:g}")
        if len(data) > MAX_REPLY_BYTES:
            raise ValueError(f"reply larger than {MAX_REPLY_BYTES} bytes")
        return reply.status, data
    except (OSError, http.client.HTTPException):
        if expired.is_set():
            raise TimeoutError(f"no complete reply within timeout_s={deadline_s:g}") from None
        raise
    finally:
        timer.cancel()
        connection.close()


@dataclass
class ApiClient:
    """JSON calls to one OpenAI-compatible API root (`base_url`, e.g. http://127.0.0.1:8000/v1)."""

    base_url: str
    api_key_env: str | None
    timeout_s: float

    def url(self, route: str) -> str:
        """`route` under the API root; one starting with "/" under the server's root (the API root
        without its /v1), where vLLM serves /tokenize."""
        base = self.base_url.rstrip("/")
        if route.startswith("/"):
            return base.removesuffix("/v1") + route
        return base + "/" + route

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env or "", "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def call(self, method: str, route: str, payload: Any = None, timeout_s: float | None = None) -> tuple[int, bytes]:
        """(status, body) of the server's answer; RetryableError for what may pass by itself."""
        # ensure_ascii: a lone surrogate in a prompt is escaped instead of failing to encode
        body = None if payload is None else json.dumps(payload, ensure_ascii=True).encode("ascii")
        url = self.url(route)
        try:
            status, data = call_json(method, url, body, self.headers(), float(timeout_s or self.timeout_s))
        except (OSError, http.client.HTTPException) as exc:  # TimeoutError and ConnectionError are OSErrors
            raise RetryableError(f"{type(exc).__name__}: {exc}") from None
        if status in RETRYABLE_STATUS:
            raise RetryableError(f"HTTP {status}: {excerpt(data)}")
        return status, data


@dataclass
class Retrying:
    """`attempts` tries with exponential backoff (`backoff_s` doubling up to `max_backoff_s`);
    `stop` ends the waiting at once (Ctrl-C). Each round of retries is said on the log."""

    attempts: int
    backoff_s: float
    max_backoff_s: float
    stop: threading.Event
    where: str
    _said: tuple[int, float] = field(default=(0, 0.0), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def run(self, call: Callable[[], T]) -> T:
        """`call()`'s result; its last RetryableError when every attempt failed or on stop."""
        delay = float(self.backoff_s)
        for attempt in range(1, self.attempts + 1):
            try:
                return call()
            except RetryableError as exc:
                if attempt == self.attempts or self.stop.is_set():
                    raise
                wait = min(delay, float(self.max_backoff_s))
                self.say(attempt, wait, exc)
                self.stop.wait(wait)
                delay *= 2
        raise AssertionError("unreachable")

    def say(self, attempt: int, wait: float, exc: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            last_attempt, last_time = self._said
            if attempt <= last_attempt and now - last_time < RETRY_LINE_EVERY_S:
                return  # another request already said this round (or a later one)
            self._said = (attempt, now)
        log.warning(
            "%s: attempt %d of %d failed (%s); attempt %d in %g s",
            self.where,
            attempt,
            self.attempts,
            exc,
            attempt + 1,
            wait,
        )
