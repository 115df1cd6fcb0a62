import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

try:  # keep the CPU suite stable on 2-core machines (see ENVIRONMENT.md)
    import torch

    torch.set_num_threads(1)
except ImportError:
    pass

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def image(tmp_path):
    """An 8x8 grey PNG's path: a request's image where the pixels do not matter."""
    from PIL import Image

    path = tmp_path / "a.png"
    Image.new("L", (8, 8), 7).save(path)
    return str(path)
