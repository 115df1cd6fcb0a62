"""Where a checkpoint comes from: a local folder, or a hub id reached quickly or not at all.

Without this, a hub id on a machine that cannot reach the hub spends ~25 s in the hub client's
retries (each logged) and ends in a generic transformers error, and a local path that does not
exist is reported as a malformed repo id. Here a missing local folder is said as such, and a hub
id that is not in the local cache is refused at once -- with the hint to pass `model.path=` --
when the hub is offline (`HF_HUB_OFFLINE`) or its endpoint does not accept a connection.
"""

from __future__ import annotations

import os
import re
import socket
import urllib.parse
from pathlib import Path

from model_adapters.errors import ModelLoadError

PROBE_TIMEOUT_S = 3.0
# What the hub accepts as a repo id: `name` or `namespace/name` (huggingface_hub's validation).
HUB_ID = re.compile(r"^[\w.-]+(/[\w.-]+)?$")
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def local_or_hub(path: str) -> str:
    """`path` as a local folder (expanded) or a hub id; a path that can only mean a local folder
    (absolute, `~`, `./`, or more than one `/`) and does not exist is a ModelLoadError."""
    text = str(path)
    local = Path(text).expanduser()
    if text.startswith(("/", "~", ".")) or local.exists() or not HUB_ID.match(text):
        if not local.is_dir():
            what = "is a file, not a checkpoint folder" if local.exists() else "does not exist"
            raise ModelLoadError(
                f"model.path={text}: {local} {what}; give the folder of a checkpoint (config.json and "
                "weights) or a hub id such as Qwen/Qwen2-VL-7B-Instruct"
            )
        return str(local)
    return text


def endpoint_problem(endpoint: str, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """Why a TCP connection to the endpoint's host cannot be opened (None: it can)."""
    parts = urllib.parse.urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "", port), timeout=timeout_s).close()
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def check_hub_checkpoint(repo_id: str, revision: str | None) -> None:
    """Fail fast, saying what to do, when `repo_id` would have to be downloaded and cannot be.

    A repo in the local cache is used from there: when the hub cannot be reached, the hub client
    is put in offline mode for this process, so that it loads the cached files instead of
    retrying first. Behind a proxy the endpoint is not probed (the proxy decides)."""
    try:
        from huggingface_hub import constants, try_to_load_from_cache
    except ImportError:
        return  # transformers brings huggingface_hub; without it nothing is downloaded anyway
    cached = isinstance(try_to_load_from_cache(repo_id, "config.json", revision=revision), str)
    hint = "pass the checkpoint's folder with model.path=/path/to/checkpoint"
    if constants.HF_HUB_OFFLINE:
        if not cached:
            raise ModelLoadError(
                f"{repo_id} is not in the local hub cache ({constants.HF_HUB_CACHE}) and HF_HUB_OFFLINE is "
                f"set: {hint}, or unset HF_HUB_OFFLINE to download it"
            )
        return
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return
    problem = endpoint_problem(constants.ENDPOINT)
    if problem is None:
        return
    if not cached:
        raise ModelLoadError(
            f"cannot reach {constants.ENDPOINT} to download {repo_id} ({problem}) and it is not in the local "
            f"hub cache ({constants.HF_HUB_CACHE}): {hint}, or fix the network (HF_ENDPOINT, a proxy)"
        )
    # The hub client reads this flag at every call; set here it skips the retries of an
    # unreachable endpoint and serves the cached files.
    constants.HF_HUB_OFFLINE = True
