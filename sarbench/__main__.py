"""`python -m sarbench model=... task=... data=...`: the evaluation run (Hydra app).

See `python -m sarbench --help` for config groups and `--cfg job` for the resolved config.
Hydra's own run folder is the current directory (it creates nothing there); the run's `out`
folder and its `sarbench.log` are made here, after the config has been checked, so that a bad
command line gets the project's message and exit status 2 instead of a Hydra error, and a run
refused before any work leaves no empty `out` behind.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from sarbench.configs import find_conf_dir
from sarbench.evaluate import RunError, run_from_config
from sarbench.failures import (
    EXIT_ALL_FAILED,
    EXIT_FAILURES,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    exit_status,
    failure_counts,
)
from sarbench.run_folder import path_segment

LOG_NAME = "sarbench.log"
LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"


CONF_DIR = find_conf_dir()

if not OmegaConf.has_resolver("basename"):
    OmegaConf.register_new_resolver("basename", lambda path: Path(str(path)).name)
if not OmegaConf.has_resolver("segment"):
    OmegaConf.register_new_resolver("segment", lambda name: path_segment(str(name)))


def unset_keys(config: dict, prefix: str = "") -> list[str]:
    """Dotted keys still holding OmegaConf's `???` (read without resolving interpolations, which
    would fail on them first: data.name is ${basename:${data.root}})."""
    keys = []
    for key, value in config.items():
        if isinstance(value, dict):
            keys += unset_keys(value, f"{prefix}{key}.")
        elif value == "???":
            keys.append(f"{prefix}{key}")
    return keys


def check_command_line(cfg: DictConfig) -> Path:
    """The checks Hydra would otherwise fail on first; returns the run's `out` folder."""
    missing = unset_keys(OmegaConf.to_container(cfg, resolve=False))
    if missing:
        example = "data.root=/path/to/data" if "data.root" in missing else f"{missing[0]}=..."
        raise RunError(f"{', '.join(missing)} not set; give it on the command line, e.g. {example}")
    out = Path(str(cfg.out)).expanduser()
    if out.exists() and not out.is_dir():
        raise RunError(f"out={out} is a file; give a folder for the run's results")
    return out


def open_out_folder(out: Path) -> tuple[list[Path], logging.Handler]:
    """Create `out` (returning the folders created, innermost first) and log into it."""
    created = [folder for folder in (out, *out.parents) if not folder.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(out / LOG_NAME, mode="a", encoding="utf-8")
    except OSError as exc:
        raise RunError(f"cannot create out={out}: {exc.strerror or exc}") from None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger().addHandler(handler)
    return created, handler


def close_out_folder(created: list[Path], handler: logging.Handler) -> None:
    """Stop logging into `out`, and remove the folders this run created if they hold nothing
    but its log: a run that never started (refused, or a crash before any work) leaves no empty
    result folder; a folder with predictions or anything else is kept."""
    logging.getLogger().removeHandler(handler)
    handler.close()
    for folder in created:  # innermost first
        log_file = folder / LOG_NAME
        if log_file.is_file() and [p.name for p in folder.iterdir()] == [LOG_NAME]:
            log_file.unlink()
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def exit_on_failures(result: dict, allow_failures: bool) -> None:
    """Exit non-zero when samples failed inference: their scores are not the model's."""
    status = exit_status(result, allow_failures)
    failed, samples = failure_counts(result)
    if status == EXIT_ALL_FAILED:  # e.g. a server that never answered
        print(
            f"error: all {samples} samples failed inference (see predictions/*.jsonl 'error'); fix the "
            "cause and re-run the same command (transient failures are retried; runner.retry_failed=all "
            "retries every one)",
            file=sys.stderr,
        )
    elif status == EXIT_FAILURES:
        print(
            f"error: {failed} of {samples} samples failed inference; the results are written and marked. "
            "Re-run the same command to retry transient failures (runner.retry_failed=all: every one), "
            f"or accept them with runner.allow_failures=true (exit status {EXIT_OK})",
            file=sys.stderr,
        )
    if status != EXIT_OK:
        sys.exit(status)


@hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    try:
        out = check_command_line(cfg)
        created, handler = open_out_folder(out)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_REFUSED)
    try:
        result = run_from_config(cfg)
    except RunError as exc:
        logging.getLogger("sarbench").error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_REFUSED)
    except KeyboardInterrupt:
        message = "interrupted: the predictions written so far are kept; re-run the same command to resume"
        logging.getLogger("sarbench").warning("%s", message)
        print(message, file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # the traceback goes to stderr; the log keeps what happened
        logging.getLogger("sarbench").error("the run crashed: %r", exc)
        raise
    finally:
        close_out_folder(created, handler)
    exit_on_failures(result, bool(cfg.runner.allow_failures))


if __name__ == "__main__":
    main()
