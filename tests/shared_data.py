"""The project's shared data beside the checkout (`../shared`, or $SARBENCH_SHARED): reference
examples and a real SAR sample that cannot be committed. Tests that need it skip, with the path
and the fix in the reason (pytest prints skip reasons: `-rs` in pyproject.toml)."""

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("SARBENCH_SHARED") or Path(__file__).resolve().parents[2] / "shared")


def shared_path(relative: str, variable: str | None = None) -> Path:
    """`relative` under SHARED, or the path a more specific environment variable names."""
    return Path(os.environ[variable]) if variable and os.environ.get(variable) else SHARED / relative


def needs_shared(path: Path) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not path.exists(),
        reason=f"needs the shared data file {path} (not in the repository): put the project's shared/ "
        "folder beside the checkout or set SARBENCH_SHARED=/path/to/shared",
    )
