"""Where sarbench's Hydra configs are (a checkout's conf/ or the installed sarbench.conf), and
the defaults that reports compare runs against."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from omegaconf import OmegaConf


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


def default_generation() -> dict:
    """The generation settings every task starts from (conf/task_base/generation.yaml), plus greedy
    decoding, the only decoding sarbench runs."""
    settings = OmegaConf.to_container(OmegaConf.load(find_conf_dir() / "task_base" / "generation.yaml"))
    return {**settings, "decoding": "greedy"}
