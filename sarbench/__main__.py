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
from importlib import resources
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from sarbench.evaluate import RunError, run_from_config

LOG_NAME = "sarbench.log"
LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"


def find_conf_dir() -> Path:
    """`conf/` of the checkout this package was imported from, else the installed `sarbench.conf`.

    A checkout (also an editable install) is recognised by its pyproject.toml next to conf/; an
    installed wheel carries the same files as the package `sarbench.conf` (see pyproject.toml).
    """
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "conf" / "config.yaml").is_file():
        return checkout / "conf"
    try:
        installed = Path(str(resources.files("sarbench.conf")))
    except ModuleNotFoundError:
        installed = None
    if installed is None or not (installed / "config.yaml").is_file():
        raise SystemExit(
            f"error: sarbench's configs (conf/config.yaml) are neither in {checkout / 'conf'} nor "
            "installed as the package sarbench.conf; reinstall sarbench"
        )
    return installed


CONF_DIR = find_conf_dir()

if not OmegaConf.has_resolver("basename"):
    OmegaConf.register_new_resolver("basename", lambda path: Path(str(path)).name)


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


def close_out_folder(created: list[Path], handler: logging.Handler, refused: bool) -> None:
    """Stop logging into `out`; after a refused run, remove the folders this run created if
    they hold nothing but its log (a folder with predictions or anything else is kept)."""
    logging.getLogger().removeHandler(handler)
    handler.close()
    if not refused:
        return
    for folder in created:  # innermost first
        log_file = folder / LOG_NAME
        if log_file.is_file() and [p.name for p in folder.iterdir()] == [LOG_NAME]:
            log_file.unlink()
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def exit_on_all_failed(result: dict) -> None:
    failures, samples = sum(result.get("inference_failures", {}).values()), sum(result.get("n", {}).values())
    if samples and failures == samples:  # e.g. a server that never answered: not a model's score
        print(
            f"error: all {samples} samples failed inference (see predictions/*.jsonl 'error'); "
            "fix the cause and re-run with runner.retry_failed=true",
            file=sys.stderr,
        )
        sys.exit(3)


@hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    try:
        out = check_command_line(cfg)
        created, handler = open_out_folder(out)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    refused = False
    try:
        result = run_from_config(cfg)
    except RunError as exc:
        refused = True
        logging.getLogger("sarbench").error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(
            "interrupted: the predictions written so far are kept; re-run the same command to resume", file=sys.stderr
        )
        sys.exit(130)
    finally:
        close_out_folder(created, handler, refused)
    exit_on_all_failed(result)


if __name__ == "__main__":
    main()
