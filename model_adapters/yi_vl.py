"""Yi-VL (01-ai/Yi-VL-6B): LLaVA architecture, 448-px images padded to a square
(huggingface.co/01-ai/Yi-VL-6B model card; ms-swift `YiVLTemplate` calls `expand2square`); the
adapter pads (`model.pad_to_square`, default true) before the processor.

Loading: transformers runs Yi-VL only in the llava-hf layout, so `model.path` must point at such
a conversion; the released folder (LlavaLlamaForCausalLM + separate ViT, needs 01-ai's own llava
package) is refused with that advice. Yi-VL's projector has LayerNorms plain LLaVA lacks: a
conversion flagged `is_yi_vl_derived_model` (BUAADreamer/Yi-VL-6B-hf) loads with Yi-VL's
projector (`yi_vl_model.py`); an unflagged one is plain LLaVA. The tiny test model
is a 56-px flagged conversion with that projector.

Prompt: ms-swift template `yi_vl` (swift/llm/template/template/yi.py):
`{system}\\n\\n### Human: {query}\\n### Assistant:` with the SARChat system prompt; the data's
`<image>` becomes `<image>\\n`.

Native boxes: no format is documented. 01-ai/Yi#376 (maintainer answer) says RefCOCO was in the
training data and outputs are normalised coordinates on a 0-999 scale, while the LLaVA-style
data it was trained on writes fractions. Explicit choice: `[x1, y1, x2, y2]` of the padded
square; read as fractions when all four numbers are <= 1, else divided by 999; questions get
two-decimal fractions.
"""

from __future__ import annotations

from typing import Any

from model_adapters.box_codecs import BoxCodec
from model_adapters.family import Family
from model_adapters.hf_backend import checkpoint_config
from model_adapters.llava1_5 import LlavaLayout, llava_boxes


class YiVL(LlavaLayout, Family):
    backends = ("hf",)
    name = "yi_vl"
    native_model_types = ("llava",)
    image_placeholder = "<image>\n"
    default_pad = True
    # ms-swift's yi_vl template ends every answer with "\n###" (token 8308), never with eos: the
    # fine-tuned models stop there, and would otherwise go on with a "Human:" turn.
    stop_tokens = ("###",)
    tokenizer_specials = False  # the template has no BOS (the authors' log: input starts at "You")

    def chat(self, system: str | None, user: str) -> str:
        head = f"{system}\n\n" if system else ""
        return f"{head}### Human: {user}\n### Assistant:"

    def load_native(self, hf: Any, path: str) -> tuple[Any, Any]:
        if not checkpoint_config(path, self.settings.revision).get("is_yi_vl_derived_model"):
            return super().load_native(hf, path)
        from model_adapters.yi_vl_model import yi_vl_projector

        with yi_vl_projector():
            return super().load_native(hf, path)

    def box_codec(self, processor: Any = None) -> BoxCodec:
        return llava_boxes(
            "pad_square" if self.pads_to_square() else "crop_square",
            scale=999,
            fractions_when_at_most_1=True,
            name="yi_vl_fractions_or_999",
        )
