import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

try:  # keep the CPU suite stable on 2-core machines (see ENVIRONMENT.md)
    import torch

    torch.set_num_threads(1)
except ImportError:
    pass

REPO = Path(__file__).resolve().parents[1]
