"""InternVL2.5 (OpenGVLab/InternVL2_5-{1B,2B,4B,8B}).

Two checkpoint layouts, chosen from config.json:
- transformers format (`model_type: internvl`, e.g. converted with `sarbench convert-internvl`
  (model_adapters/internvl_chat.py) or transformers' script, and the tiny test models): native,
  batched, batch-invariant.
- the released layout (`model_type: internvl_chat`): backend=vllm runs it natively (vLLM's
  InternVLChatModel and image processing; sarbench supplies the config class so no checkpoint
  code runs). On backend=hf it is remote code, opt-in with `model.trust_remote_code=true`, run
  one sample at a time the way the model's own `chat()` does (dynamic 448-px tiling, up to 12
  tiles + thumbnail, `<img><IMG_CONTEXT>*256n</img>`).

Prompt: ChatML with the SARChat system prompt; the data's `<image>` becomes
`<img>...</img>\\n` (ms-swift template `internvl2_5`, swift/llm/template/template/internvl.py),
so the user turn is `<image tokens>\\n\\n{question}`.

Native boxes: `<ref>label</ref><box>[[x1, y1, x2, y2]]</box>` in [0, 1000] of the image
(PROTOCOL §6; peers.md §2.2; OpenGVLab/InternVL internvl_chat/eval/refcoco/evaluate_grounding.py;
OpenGVLab/InternVL#285 normalisation `int(x / width * 1000)`).
"""

from __future__ import annotations

from typing import Any

from model_adapters.base import GenerationRequest
from model_adapters.box_codecs import NormalizedBoxCodec
from model_adapters.family import Family, chatml
from model_adapters.hf_backend import image_of
from model_adapters.hf_images import to_rgb

INTERNVL_BOXES = NormalizedBoxCodec(
    name="internvl_brackets_per_mille",
    scale=1000,
    syntax="brackets",
    encode_wrapper=("<box>[", "]</box>"),
    strip_tokens=("<box>", "</box>", "<ref>", "</ref>"),
)
TILE = 448
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def tile_grid(width: int, height: int, min_num: int = 1, max_num: int = 12, tile: int = TILE) -> tuple[int, int]:
    """(columns, rows) of InternVL's `dynamic_preprocess`: the allowed grid whose aspect ratio is
    closest to the image's; ties go to the larger grid when the image has enough pixels."""
    ratios = sorted(
        {
            (i, j)
            for n in range(min_num, max_num + 1)
            for i in range(1, n + 1)
            for j in range(1, n + 1)
            if min_num <= i * j <= max_num
        },
        key=lambda r: r[0] * r[1],
    )
    aspect, area = width / height, width * height
    best, best_diff = (1, 1), float("inf")
    for ratio in ratios:
        diff = abs(aspect - ratio[0] / ratio[1])
        if diff < best_diff:
            best, best_diff = ratio, diff
        elif diff == best_diff and area > 0.5 * tile * tile * ratio[0] * ratio[1]:
            best = ratio
    return best


def tiles(image: Any, max_num: int = 12, tile: int = TILE, thumbnail: bool = True) -> list[Any]:
    """The 448-px crops InternVL2.5 sees (row-major), plus a whole-image thumbnail if tiled."""
    from PIL import Image

    columns, rows = tile_grid(*image.size, max_num=max_num, tile=tile)
    resized = image.resize((tile * columns, tile * rows), Image.BICUBIC)
    crops = [
        resized.crop(((i % columns) * tile, (i // columns) * tile, (i % columns + 1) * tile, (i // columns + 1) * tile))
        for i in range(columns * rows)
    ]
    if thumbnail and len(crops) != 1:
        crops.append(image.resize((tile, tile), Image.BICUBIC))
    return crops


class InternVL25(Family):
    backends = ("hf", "vllm")
    name = "internvl2_5"
    native_model_types = ("internvl",)
    remote_model_types = ("internvl_chat",)
    remote_code_transformers = "4"  # its released modeling code predates transformers 5
    image_placeholder = "<IMG_CONTEXT>\n"  # expanded to <img><IMG_CONTEXT>*n</img> by the processor
    native_codec = INTERNVL_BOXES
    stop_tokens = ("<|im_end|>",)  # ms-swift's internvl2 template; checkpoints' own eos may differ
    # vLLM's InternVLChatModel expands `<image>` into the same `<img><IMG_CONTEXT>*n</img>` tokens
    vllm_remote_types = ("internvl_chat",)
    vllm_image_placeholder = "<image>\n"
    remote_alternatives = (
        "backend=vllm (vLLM's own InternVLChatModel), or convert it once with "
        "`sarbench convert-internvl PATH NEW_FOLDER` and run model.path=NEW_FOLDER (Qwen2-based 1B/4B)"
    )

    def chat(self, system: str | None, user: str) -> str:
        return chatml(system, user)

    def prepare_vllm_config(self) -> None:
        from model_adapters.internvl_chat import register_config

        register_config()

    def load_remote(self, hf: Any, path: str) -> tuple[Any, Any]:
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(
            path, trust_remote_code=True, use_fast=False, revision=self.settings.revision
        )
        model = AutoModel.from_pretrained(path, trust_remote_code=True, **hf.model_kwargs())
        model.img_context_token_id = tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>")
        return tokenizer, hf.place(model)

    def pixel_values(self, image: Any) -> Any:
        import numpy as np
        import torch

        max_num = int((self.settings.processor_kwargs or {}).get("max_patches", 12))
        arrays = [np.asarray(t, dtype=np.float32) / 255.0 for t in tiles(image, max_num=max_num)]
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
        mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        return (batch - mean) / std

    def generate_remote(self, hf: Any, request: GenerationRequest, max_new_tokens: int) -> str:
        import torch

        tokenizer, model = hf.processor, hf.model
        image = to_rgb(image_of(request))
        pixels = self.pixel_values(image)
        context = "<img>" + "<IMG_CONTEXT>" * int(model.num_image_token) * len(pixels) + "</img>"
        prompt = self.render_prompt(request.prompt, image.size, hf.processor).replace("<IMG_CONTEXT>", context, 1)
        encoded = tokenizer(prompt, return_tensors="pt")
        device = hf.input_device()
        with torch.inference_mode():
            output = model.generate(
                pixel_values=pixels.to(device=device, dtype=model.dtype),
                input_ids=encoded["input_ids"].to(device),
                attention_mask=encoded["attention_mask"].to(device),
                **hf.generation_kwargs(max_new_tokens),
            )
        return tokenizer.batch_decode(output, skip_special_tokens=True)[0].strip()
