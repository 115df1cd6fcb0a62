"""Benchmark builder: SAR detection annotations -> a SARChat-format test set (the 9 subset files).

    python -m sarbench.build --annotations PATH --format {coco,voc,jsonl} --out DIR [--seed N]
    python -m sarbench.build.sample          # regenerate the bundled synthetic sample

See README.md in this folder for the decisions behind the generated text.
"""

from __future__ import annotations

from pathlib import Path

from sarbench.build.pipeline import BuildError, BuildOptions, build
from sarbench.build.readers import AnnotationError

__all__ = ["AnnotationError", "BuildError", "BuildOptions", "build", "sample_data_dir"]


def sample_data_dir() -> Path:
    """The folder holding the 9 files of the bundled synthetic sample (regenerated if missing)."""
    from sarbench.build.sample import ensure_sample

    return ensure_sample()
