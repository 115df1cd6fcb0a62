"""Family declarations and backends built from the real config files, for tests."""

from pathlib import Path

from omegaconf import OmegaConf

from model_adapters import FAMILIES
from model_adapters.settings import CheckpointSettings, parse_settings

REPO = Path(__file__).resolve().parents[1]
CHECKPOINT_BASE = OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "model_base" / "checkpoint.yaml"))


def checkpoint_settings(family: str, **overrides) -> CheckpointSettings:
    config = {**CHECKPOINT_BASE, "name": family, "family": family, **overrides}
    return parse_settings(CheckpointSettings, config, where="test")


def make_family(family: str, **overrides):
    """The family declaration `family` with the shared checkpoint settings and `overrides`."""
    return FAMILIES.get(family)(checkpoint_settings(family, **overrides))


def model_config(family: str, **overrides) -> dict:
    """A `model:` config group for `family` on the shared checkpoint defaults."""
    return {**CHECKPOINT_BASE, "name": family, "family": family, **overrides}
