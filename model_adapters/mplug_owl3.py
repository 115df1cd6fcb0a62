"""mPLUG-Owl3 (mPLUG/mPLUG-Owl3-7B-240728, mPLUG/mPLUG-Owl3-2B-241014, mPLUG/mPLUG-Owl3-1B-241014):
remote code only (`model_type: mplugowl3`); opt in with `model.trust_remote_code=true`. Loading
and generation follow the model card (`model.init_processor(tokenizer)`, messages in, text out);
samples run one at a time (batch 1).

Prompt: ChatML, as the model's own processor (`build_text_qwen`) and ms-swift template
`mplug_owl3` render it, with the SARChat system prompt; the data's `<image>` becomes
`<|image|>\\n` (ms-swift `replace_tag`), which the processor expands into the image's cut tokens.

Native boxes: mPLUG-Owl3 documents no grounding format (model cards, X-PLUG/mPLUG-Owl repo);
X-PLUG/mPLUG-Owl#199 says the family's boxes are [0, 1] fractions. The generic codec
(model_adapters/generic_boxes.py) reads fractions, else per-mille: an explicit choice.
"""

from __future__ import annotations

from typing import Any

from model_adapters.base import GenerationRequest
from model_adapters.family import Family, chatml
from model_adapters.generic_boxes import GENERIC_BOXES
from model_adapters.hf_backend import image_of
from model_adapters.hf_images import to_rgb


class MPlugOwl3(Family):
    batch_safe = False
    backends = ("hf",)
    name = "mplug_owl3"
    remote_model_types = ("mplugowl3",)
    remote_code_transformers = "4"  # its released modeling code predates transformers 5
    image_placeholder = "<|image|>\n"
    native_codec = GENERIC_BOXES

    def chat(self, system: str | None, user: str) -> str:
        return chatml(system or "", user)  # the processor writes an empty system turn when none

    def messages(self, question: str, size: tuple[int, int]) -> list[dict[str, str]]:
        """The model processor's input; it renders exactly `render_prompt(question, size)`."""
        if self.box_format == "native":
            question = self.box_codec().encode(question, *size)
        system = [{"role": "system", "content": self.system}] if self.system is not None else []
        return system + [
            {"role": "user", "content": f"{self.image_placeholder}\n{question}"},
            {"role": "assistant", "content": ""},
        ]

    def load_remote(self, hf: Any, path: str) -> tuple[Any, Any]:
        from transformers import AutoModel, AutoTokenizer

        kwargs = hf.model_kwargs()
        kwargs.setdefault("attn_implementation", "sdpa")
        model = AutoModel.from_pretrained(path, trust_remote_code=True, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(path, revision=self.settings.revision)
        return model.init_processor(tokenizer), hf.place(model)

    def generate_remote(self, hf: Any, request: GenerationRequest, max_new_tokens: int) -> str:
        import torch

        image = to_rgb(image_of(request))
        inputs = hf.processor(self.messages(request.prompt, image.size), images=[image], videos=None)
        inputs.to(hf.input_device())
        inputs.update(
            {"tokenizer": hf.processor.tokenizer, "decode_text": True, **hf.generation_kwargs(max_new_tokens)}
        )
        with torch.inference_mode():
            return str(hf.model.generate(**inputs)[0]).strip()
