"""LLaVA-1.5 (llava-hf/llava-1.5-7b-hf, the transformers conversion of liuhaotian/llava-v1.5-7b).

Prompt: no system prompt (the SARChat authors used none for LLaVA-1.5, PROTOCOL §1.2; ms-swift 3.x's
template takes none); ms-swift template `llava1_5_hf` (swift/llm/template/template/llava.py):
`USER: {query}\\nASSISTANT:` with the data's `<image>` becoming `<image>\\n`; the tokenizer adds `<s>`.
A configured `model.system_prompt` is written as ms-swift 4.x does: `{system}\\n` after the `<s>`.

Native boxes: `[x1, y1, x2, y2]` as fractions in [0, 1] with two decimals, relative to the
square the model saw: LLaVA-1.5's training data normalised boxes to the image padded to a square
(haotian-liu/LLaVA#606, comment 1774076879; #822). With `model.pad_to_square: true` the adapter
pads like the original LLaVA (`image_aspect_ratio: pad`, `expand2square`) and boxes are read on
that square; by default (false) images go to llava-hf's CLIP processor as the authors ran it
(resize + centre crop) and boxes are read on the centre crop.
Original LLaVA layouts (`mm_vision_tower` in config.json) are refused: convert to llava-hf.
"""

from __future__ import annotations

from typing import Any

from model_adapters.box_codecs import BoxCodec, NormalizedBoxCodec, SquareView
from model_adapters.errors import ModelLoadError
from model_adapters.family import Family

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)


def llava_boxes(
    view: str, scale: float = 1.0, fractions_when_at_most_1: bool = False, name: str = "llava_fractions"
) -> NormalizedBoxCodec:
    return NormalizedBoxCodec(
        name=name,
        scale=scale,
        syntax="brackets",
        view=SquareView(view),
        fractions_when_at_most_1=fractions_when_at_most_1,
        encode_decimals=2,
    )


class LlavaLayout:
    """Shared by LLaVA-1.5 and Yi-VL: llava-hf checkpoints only; optional LLaVA `expand2square`
    padding (filled with the processor's mean colour) done here, as processors differ on it."""

    default_pad = False

    def pads_to_square(self) -> bool:
        configured = self.settings.pad_to_square
        return self.default_pad if configured is None else bool(configured)

    def prepare_image(self, image: Any, processor: Any = None) -> Any:
        if not self.pads_to_square() or image.width == image.height:
            return image
        from PIL import Image

        mean = getattr(getattr(processor, "image_processor", None), "image_mean", None) or CLIP_MEAN
        side = max(image.size)
        square = Image.new(image.mode, (side, side), tuple(int(v * 255) for v in mean))
        square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
        return square

    def check_config(self, config: dict, native: bool) -> None:
        if "mm_vision_tower" in config:
            raise ModelLoadError(
                "this is an original LLaVA-style layout (separate vision tower, "
                f"{config.get('architectures')}); transformers cannot load it. Convert it "
                "to the llava-hf format (LlavaForConditionalGeneration) and set model.path"
            )
        super().check_config(config, native)


class Llava15(LlavaLayout, Family):
    backends = ("hf", "vllm")
    name = "llava1_5"
    native_model_types = ("llava",)
    default_system = None
    image_placeholder = "<image>\n"

    def chat(self, system: str | None, user: str) -> str:
        # ms-swift 3.x's llava1_5_hf takes no system prompt; a configured one goes where 4.x puts it
        head = f"{system}\n" if system else ""
        return f"{head}USER: {user}\nASSISTANT:"

    def box_codec(self, processor: Any = None) -> BoxCodec:
        return llava_boxes("pad_square" if self.pads_to_square() else "crop_square")
