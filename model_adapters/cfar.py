"""`backend=cfar` (`model=cfar`): a classical CFAR detector answering the tasks a detector can
address, in the benchmark's own formats (PROTOCOL §2). docs/cfar.md has the literature, the rules
and how the parameters were chosen.

- count: every detection is taken to be of the asked category (a CFAR detector has no classes):
  `There are N instances. {box}...`.
- refer: the N strongest detections, N being the number the question asks for (all detections
  when it names none), each with its grid cell: `{box} (cell)...`.
- identify: the cell, size and shape words of the question's own box (PROTOCOL §2 geometry; no
  detection is involved and no category is named): a floor, not detector skill.
- classify, describe and grounding need a category per object: not attempted (absent from
  tables, never scored as zeros).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from metrics.attributes import grid_cell, shape_word, size_word
from metrics.benchmark import SUBSET_TABLE, subset
from metrics.parsing import find_boxes, find_count
from model_adapters.base import Capabilities, GenerationRequest, InferenceFailure, ModelAdapter
from model_adapters.cfar_detector import CFARParams, Detection, detect
from model_adapters.errors import AdapterError
from model_adapters.settings import CFARSettings

_NEEDS_CATEGORY = "needs a category per object; a CFAR detector has none"
NOT_ATTEMPTED_TASKS = {
    "classify": "names the categories in the scene; a CFAR detector has none",
    "describe": _NEEDS_CATEGORY,
    "grounding": _NEEDS_CATEGORY + "; grounding boxes match only with equal categories",
}
NOT_ATTEMPTED = {s.name: NOT_ATTEMPTED_TASKS[s.task] for s in SUBSET_TABLE if s.task in NOT_ATTEMPTED_TASKS}
_CACHED_IMAGES = 1024  # an image is asked about in count, refer and identify: detect it once


def box_text(box) -> str:
    return "{" + "".join(f"<{int(v)}>" for v in box) + "}"


def count_answer(detections: list[Detection]) -> str:
    boxes = "".join(box_text(d.box) for d in detections)
    if len(detections) == 1:
        return f"There is 1 instance. {boxes}"
    return f"There are {len(detections)} instances. {boxes}".rstrip()


def refer_answer(detections: list[Detection], question: str, width: int, height: int) -> str:
    asked = find_count(question.lower(), 0)
    chosen = detections if asked is None else detections[:asked]
    if not chosen:
        return "No target detected."
    return "".join(f"{box_text(d.box)} ({grid_cell(d.box, width, height)})" for d in chosen)


def identify_answer(question: str, width: int, height: int) -> str | InferenceFailure:
    boxes = find_boxes(question.lower())
    if not boxes:
        return InferenceFailure("identify question names no {<x1><y1><x2><y2>} box")
    box = boxes[0][1]
    return (
        f"The object is {size_word(box, width, height)}, in the {grid_cell(box, width, height)} "
        f"portion of the image. It appears to be {shape_word(box)} in shape."
    )


def amplitude_pixels(image: Any) -> np.ndarray:
    """H x W grey values of a decoded image (colour channels averaged, alpha dropped)."""
    if image.mode in ("RGBA", "LA"):
        image = image.convert("RGB" if image.mode == "RGBA" else "L")
    pixels = np.asarray(image, dtype=np.float64)
    return pixels.mean(axis=2) if pixels.ndim == 3 else pixels


@dataclass
class CFARBackend(ModelAdapter):
    capabilities = Capabilities(batch_safe=True, needs_image=True)
    params: CFARParams | None = None

    @classmethod
    def create(cls, settings: CFARSettings, family: Any, backend_settings: dict) -> CFARBackend:
        if family is not None:
            raise AdapterError("backend=cfar is a classical detector; it takes no model family")
        fields = {f.name for f in dataclasses.fields(CFARParams)}
        try:
            params = CFARParams(**{k: v for k, v in dataclasses.asdict(settings).items() if k in fields})
        except ValueError as exc:
            raise AdapterError(f"model {settings.name!r}: {exc}") from None
        return cls(name=settings.name, settings=settings, params=params)

    def __post_init__(self) -> None:
        self._detections: OrderedDict[str, list[Detection]] = OrderedDict()

    def not_attempted(self) -> dict[str, str]:
        return dict(NOT_ATTEMPTED)

    def detections(self, request: GenerationRequest) -> list[Detection]:
        key = request.image_path
        if key in self._detections:
            self._detections.move_to_end(key)
            return self._detections[key]
        found = detect(amplitude_pixels(request.image), self.params)
        self._detections[key] = found
        if len(self._detections) > _CACHED_IMAGES:
            self._detections.popitem(last=False)
        return found

    def answer(self, request: GenerationRequest) -> str | InferenceFailure:
        width, height = request.image.size
        task = subset(request.subset).task
        if task == "identify":
            return identify_answer(request.prompt, width, height)
        if task == "count":
            return count_answer(self.detections(request))
        if task == "refer":
            return refer_answer(self.detections(request), request.prompt, width, height)
        return InferenceFailure(f"model {self.name} does not attempt {request.subset}")

    def generate(self, requests: list[GenerationRequest]) -> list[str | InferenceFailure]:
        return [self.answer(r) for r in requests]
