"""Box codecs: a model family's native box syntax <-> protocol boxes `{<x1><y1><x2><y2>}`.

Protocol boxes are integer pixels of the original image (PROTOCOL §2, §6). `decode` rewrites
every native box in a response into a protocol box and leaves all other text alone; `encode`
rewrites the protocol boxes of a question into the family's native form (used with
`model.box_format: native`, so a base model reads boxes the way it was trained to).
A codec sees only the text and the image size, never a reference answer.
Pure Python: importable without torch.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

NUM = r"-?\d+(?:\.\d+)?"
PROTOCOL_BOX = re.compile(rf"\{{\s*<\s*({NUM})\s*>\s*<\s*({NUM})\s*>\s*<\s*({NUM})\s*>\s*<\s*({NUM})\s*>\s*\}}")
_QUAD = rf"\[\s*({NUM})\s*,\s*({NUM})\s*,\s*({NUM})\s*,\s*({NUM})\s*\]"
_QUAD_NC = rf"\[\s*{NUM}\s*,\s*{NUM}\s*,\s*{NUM}\s*,\s*{NUM}\s*\]"
# One box `[a, b, c, d]` or a list of them `[[a, b, c, d], [e, f, g, h]]`.
BRACKET_BOXES = re.compile(rf"\[\s*{_QUAD_NC}(?:\s*,\s*{_QUAD_NC})*\s*\]|{_QUAD_NC}")
QUAD = re.compile(_QUAD)

Box = tuple[float, float, float, float]


def protocol_box(box: Box) -> str:
    return "{" + "".join(f"<{int(round(v))}>" for v in box) + "}"


def _clip(box: Box, width: int, height: int) -> Box:
    x1, y1, x2, y2 = box
    return (min(max(x1, 0), width), min(max(y1, 0), height), min(max(x2, 0), width), min(max(y2, 0), height))


def _number(value: float) -> str:
    return str(int(round(value)))


@dataclass(frozen=True)
class SquareView:
    """Where normalised coordinates live: the image itself, or the square the model saw after
    padding (LLaVA `expand2square`) or centre-cropping (CLIP processors) the image."""

    kind: str = "image"  # image | pad_square | crop_square

    def frame(self, width: int, height: int) -> tuple[float, float, float, float]:
        """(left, top, frame width, frame height) of the normalised frame in image pixels."""
        if self.kind == "image":
            return 0.0, 0.0, float(width), float(height)
        side = float(max(width, height) if self.kind == "pad_square" else min(width, height))
        return (width - side) / 2, (height - side) / 2, side, side


class BoxCodec:
    """Identity codec (responses already carry protocol boxes)."""

    def decode(self, text: str, width: int, height: int) -> str:
        return text

    def encode(self, text: str, width: int, height: int) -> str:
        return text

    def describe(self) -> dict:
        return {"codec": "identity"}


@dataclass(frozen=True)
class NormalizedBoxCodec(BoxCodec):
    """Native boxes are numbers normalised by `scale` over `view` (e.g. 1000, 999, or 1).

    `fractions_when_at_most_1`: a box whose four numbers are all <= 1 is read as fractions of
    the frame whatever `scale` is (for families without a documented scale; the rule reads only
    the response's own syntax). `syntax` selects how boxes are written.
    """

    name: str
    scale: float
    syntax: str  # "pairs" (x1,y1),(x2,y2) | "brackets" [x1, y1, x2, y2] / [[...], [...]]
    view: SquareView = SquareView()
    fractions_when_at_most_1: bool = False
    encode_wrapper: tuple[str, str] = ("", "")
    strip_tokens: tuple[str, ...] = ()
    encode_decimals: int = 0
    max_value: float | None = None  # largest native value when encoding (999 for [0, 1000))

    def _to_pixels(self, values: Box, width: int, height: int) -> Box:
        scale = self.scale
        if self.fractions_when_at_most_1 and all(0 <= v <= 1 for v in values):
            scale = 1.0
        left, top, fw, fh = self.view.frame(width, height)
        x1, y1, x2, y2 = values
        box = (left + x1 / scale * fw, top + y1 / scale * fh, left + x2 / scale * fw, top + y2 / scale * fh)
        return _clip(box, width, height)

    def _from_pixels(self, box: Box, width: int, height: int) -> list[str]:
        left, top, fw, fh = self.view.frame(width, height)
        x1, y1, x2, y2 = box
        values = ((x1 - left) / fw, (y1 - top) / fh, (x2 - left) / fw, (y2 - top) / fh)
        if self.encode_decimals:  # written as fractions of the frame, e.g. LLaVA's [0.12, 0.34, ...]
            return [f"{min(max(v, 0.0), 1.0):.{self.encode_decimals}f}" for v in values]
        top_value = self.scale if self.max_value is None else self.max_value
        return [_number(min(max(v * self.scale, 0.0), top_value)) for v in values]

    def decode(self, text: str, width: int, height: int) -> str:
        for token in self.strip_tokens:
            text = text.replace(token, "")
        if self.syntax == "pairs":
            return PAIR_BOX.sub(lambda m: protocol_box(self._to_pixels(_floats(m), width, height)), text)

        def replace(match: re.Match) -> str:
            quads = [tuple(float(v) for v in q) for q in QUAD.findall(match.group(0))]
            return "".join(protocol_box(self._to_pixels(q, width, height)) for q in quads)

        return BRACKET_BOXES.sub(replace, text)

    def encode(self, text: str, width: int, height: int) -> str:
        opening, closing = self.encode_wrapper

        def replace(match: re.Match) -> str:
            v = self._from_pixels(_floats(match), width, height)
            body = f"({v[0]},{v[1]}),({v[2]},{v[3]})" if self.syntax == "pairs" else f"[{', '.join(v)}]"
            return opening + body + closing

        return PROTOCOL_BOX.sub(replace, text)

    def describe(self) -> dict:
        return {
            "codec": self.name,
            "scale": self.scale,
            "syntax": self.syntax,
            "view": self.view.kind,
            "fractions_when_at_most_1": self.fractions_when_at_most_1,
        }


PAIR_BOX = re.compile(rf"\(\s*({NUM})\s*,\s*({NUM})\s*\)\s*,\s*\(\s*({NUM})\s*,\s*({NUM})\s*\)")


def _floats(match: re.Match) -> Box:
    return tuple(float(match.group(i)) for i in range(1, 5))  # type: ignore[return-value]


def smart_resize(
    height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56, max_pixels: int = 14 * 14 * 4 * 1280
) -> tuple[int, int]:
    """Qwen2-VL/Qwen2.5-VL input size (qwen-vl-utils `smart_resize`, as in transformers'
    Qwen2VLImageProcessor): multiples of `factor`, area within [min_pixels, max_pixels]."""
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


JSON_BBOX_OBJECT = re.compile(r"\{[^{}]*\"bbox_2d\"\s*:\s*\[[^\]]*\][^{}]*\}")
JSON_BBOX_FIELD = re.compile(rf"\"bbox_2d\"\s*:\s*{_QUAD}")


@dataclass(frozen=True)
class ResizedPixelJsonCodec(BoxCodec):
    """Qwen2.5-VL: JSON `{"bbox_2d": [x1, y1, x2, y2], "label": "..."}` in absolute pixels of the
    smart-resized model input; the pixel budget is the image processor's (min/max pixels)."""

    factor: int = 28
    min_pixels: int = 56 * 56
    max_pixels: int = 28 * 28 * 16384
    name: str = "qwen2_5_vl_json_resized_pixels"

    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        h, w = smart_resize(height, width, self.factor, self.min_pixels, self.max_pixels)
        return w, h

    def decode(self, text: str, width: int, height: int) -> str:
        rw, rh = self.resized_size(width, height)

        def box(values: Box) -> str:
            x1, y1, x2, y2 = values
            return protocol_box(
                _clip((x1 * width / rw, y1 * height / rh, x2 * width / rw, y2 * height / rh), width, height)
            )

        def replace_object(match: re.Match) -> str:
            field = JSON_BBOX_FIELD.search(match.group(0))
            if field is None:
                return match.group(0)
            label = _json_label(match.group(0))
            return f"{label} {box(_floats(field))}" if label else box(_floats(field))

        text = JSON_BBOX_OBJECT.sub(replace_object, text)
        return JSON_BBOX_FIELD.sub(lambda m: box(_floats(m)), text)

    def encode(self, text: str, width: int, height: int) -> str:
        rw, rh = self.resized_size(width, height)

        def replace(match: re.Match) -> str:
            x1, y1, x2, y2 = _floats(match)
            values = [x1 * rw / width, y1 * rh / height, x2 * rw / width, y2 * rh / height]
            return '{"bbox_2d": [' + ", ".join(_number(v) for v in values) + "]}"

        return PROTOCOL_BOX.sub(replace, text)

    def describe(self) -> dict:
        return {"codec": self.name, "factor": self.factor, "min_pixels": self.min_pixels, "max_pixels": self.max_pixels}


def _json_label(obj: str) -> str | None:
    try:
        value = json.loads(obj).get("label")
    except (ValueError, AttributeError):
        match = re.search(r"\"label\"\s*:\s*\"([^\"]*)\"", obj)
        value = match.group(1) if match else None
    return str(value) if value else None


IDENTITY = BoxCodec()
