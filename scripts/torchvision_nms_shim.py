"""Lets PyPI's CUDA torchvision import next to a CPU torch build (vLLM CPU test tier only).

Such a torchvision cannot load its compiled ops (`_C`) against another torch build, and its
import then fails registering fake kernels for ops that were never defined ("operator
torchvision::nms does not exist"). Right before that step this shim defines the missing op
schemas, with a pure-torch CPU kernel for `nms` (the only one image processors reach). Where
torchvision's own ops loaded, it does nothing. Installed by scripts/setup_vllm_env.sh as a
`.pth` file, so every interpreter of that venv, vLLM's worker processes included, gets it.
Never imported by the library.
"""

from __future__ import annotations

import sys

TRIGGER = "torchvision._meta_registrations"  # imported after torchvision tried to load `_C`


def nms_kernel(dets, scores, iou_threshold: float):
    import torch

    order = scores.argsort(descending=True)
    boxes = dets[order].to(torch.float64)
    areas = (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool)
    keep = []
    for i in range(len(boxes)):
        if suppressed[i]:
            continue
        keep.append(i)
        top_left = torch.maximum(boxes[i, :2], boxes[i + 1 :, :2])
        bottom_right = torch.minimum(boxes[i, 2:], boxes[i + 1 :, 2:])
        inter = (bottom_right - top_left).clamp(min=0).prod(dim=1)
        iou = inter / (areas[i] + areas[i + 1 :] - inter)
        suppressed[i + 1 :] |= iou > iou_threshold
    return order[torch.tensor(keep, dtype=torch.long)]


def define_missing_ops() -> None:
    import torch

    extension = sys.modules.get("torchvision.extension")
    if extension is None or extension._has_ops():
        return
    library = torch.library.Library("torchvision", "FRAGMENT")  # noqa: TOR901
    # kept alive for the process lifetime: the ops are unregistered when the Library is collected
    globals()["_LIBRARY"] = library
    for name in ("nms", "qnms"):
        library.define(f"{name}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.impl(name, nms_kernel, "CompositeExplicitAutograd")


class _Hook:
    """Meta-path finder that runs `define_missing_ops` once, just before TRIGGER is imported."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == TRIGGER:
            sys.meta_path.remove(self)
            define_missing_ops()
        return None


def install() -> None:
    if not any(isinstance(f, _Hook) for f in sys.meta_path):
        sys.meta_path.insert(0, _Hook())
