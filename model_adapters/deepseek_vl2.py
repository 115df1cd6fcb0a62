"""DeepSeek-VL2 (deepseek-ai/deepseek-vl2-tiny): not in transformers.

- backend=vllm runs the released layout natively: vLLM's own DeepseekVLV2ForCausalLM, config class
  and image processing (DeepseekVLV2Processor: global view + local tiles from the checkpoint's
  candidate_resolutions), no checkpoint code; needs `timm` (vLLM builds the SigLIP tower with it).
- backend=hf needs the `deepseek_vl2` package (github.com/deepseek-ai/DeepSeek-VL2) and the opt-in
  `model.trust_remote_code=true`, and is refused up front on transformers 5 (that code is written
  for transformers 4); samples run one at a time (batch 1), as its README does.

Prompt: ms-swift template `deepseek_vl2` (swift/llm/template/template/deepseek.py):
`{system}<|User|>: {query}\\n\\n<|Assistant|>:` after the BOS, with the SARChat system prompt; the
data's `<image>` becomes `<image>\\n`. The rendered text goes to the package's processor as
`prompt=` (it adds the BOS and expands `<image>` into the tiled image tokens); on backend=vllm
the tokenizer adds the BOS and vLLM's processor expands `<image>` the same way.

Native boxes: `<|ref|>label<|/ref|><|det|>[[x1, y1, x2, y2], ...]<|/det|>`, normalised to
[0, 999] of the image: x = x1 / 999 * W (DeepSeek-VL2 README "visual grounding" example;
deepseek-ai/DeepSeek-VL2#100 maintainer answer; the authors' note in
huggingface.co/AskUI/PTA-1/discussions/2).
"""

from __future__ import annotations

from typing import Any

from model_adapters.base import GenerationRequest
from model_adapters.box_codecs import NormalizedBoxCodec
from model_adapters.errors import ModelLoadError
from model_adapters.family import Family
from model_adapters.hf_backend import image_of
from model_adapters.hf_images import to_rgb

DEEPSEEK_VL2_BOXES = NormalizedBoxCodec(
    name="deepseek_vl2_det_per_999",
    scale=999,
    syntax="brackets",
    encode_wrapper=("<|det|>[", "]<|/det|>"),
    strip_tokens=("<|det|>", "<|/det|>", "<|ref|>", "<|/ref|>"),
)


class DeepSeekVL2(Family):
    batch_safe = False
    backends = ("hf", "vllm")
    name = "deepseek_vl2"
    remote_model_types = ("deepseek_vl_v2",)
    remote_code_transformers = "4"  # its released modeling code predates transformers 5
    vllm_remote_types = ("deepseek_vl_v2",)  # vLLM ships the config class too: nothing to register
    vllm_image_placeholder = "<image>\n"
    remote_alternatives = "backend=vllm (vLLM's own DeepseekVLV2ForCausalLM; pip install timm)"
    image_placeholder = "<image>\n"
    native_codec = DEEPSEEK_VL2_BOXES

    def chat(self, system: str | None, user: str) -> str:
        return f"{system or ''}<|User|>: {user}\n\n<|Assistant|>:"

    def load_remote(self, hf: Any, path: str) -> tuple[Any, Any]:
        try:
            from deepseek_vl2.models import DeepseekVLV2ForCausalLM, DeepseekVLV2Processor
        except ImportError:
            raise ModelLoadError(
                "DeepSeek-VL2 needs the deepseek_vl2 package: "
                "pip install git+https://github.com/deepseek-ai/DeepSeek-VL2"
            ) from None
        processor = DeepseekVLV2Processor.from_pretrained(path)
        model = DeepseekVLV2ForCausalLM.from_pretrained(path, trust_remote_code=True, **hf.model_kwargs())
        return processor, hf.place(model)

    def generate_remote(self, hf: Any, request: GenerationRequest, max_new_tokens: int) -> str:
        import torch

        image = to_rgb(image_of(request))
        tokenizer = hf.processor.tokenizer
        inputs = hf.processor(
            prompt=self.render_prompt(request.prompt, image.size, hf.processor),
            images=[image],
            force_batchify=True,
            system_prompt="",
        )
        inputs = inputs.to(hf.input_device(), dtype=hf.model.dtype)
        with torch.inference_mode():
            embeds = hf.model.prepare_inputs_embeds(**inputs)
            output = hf.model.language.generate(
                inputs_embeds=embeds,
                attention_mask=inputs.attention_mask,
                pad_token_id=tokenizer.eos_token_id,
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                use_cache=True,
                **hf.generation_kwargs(max_new_tokens),
            )
        return tokenizer.decode(output[0].cpu().tolist(), skip_special_tokens=True).strip()
