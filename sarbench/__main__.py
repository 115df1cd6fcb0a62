"""`python -m sarbench model=... task=... data=...`: the evaluation run (Hydra app).

See `python -m sarbench --help` for config groups and `--cfg job` for the resolved config.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from sarbench.app import RunError, run_from_config

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"

if not OmegaConf.has_resolver("basename"):
    OmegaConf.register_new_resolver("basename", lambda path: Path(str(path)).name)


@hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    try:
        result = run_from_config(cfg)
    except RunError as exc:
        logging.getLogger("sarbench").error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted: the predictions written so far are kept; re-run the same command to "
              "resume", file=sys.stderr)
        sys.exit(130)
    failures, samples = sum(result.get("inference_failures", {}).values()), sum(result.get("n", {}).values())
    if samples and failures == samples:  # e.g. a server that never answered: not a model's score
        print(f"error: all {samples} samples failed inference (see predictions/*.jsonl 'error'); "
              "fix the cause and re-run with runner.retry_failed=true", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
