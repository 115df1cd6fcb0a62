"""Prompt fidelity against the authors' stack: ms-swift 4.6's own templates (what `swift infer`
encodes) vs sarbench's prompts, token for token, on the first sample of every subset of the
bundled sample, with the tiny checkpoints' processors. Runs in .venv-swift
(bash scripts/setup_swift_env.sh); skipped where ms-swift is not importable.

Families whose processor can be built here and that ms-swift encodes without the model's remote
code: qwen2_vl and qwen2_5_vl (equal, image tokens included); llava1_5_hf (equal after the BOS:
ms-swift writes `<s>` itself, sarbench leaves it to the tokenizer, which the real llava-hf Llama
tokenizer adds and the tiny one does not). ms-swift hard-codes the real checkpoints' image token
ids (Qwen `<|image_pad|>` = 151655); the test points them at the tiny tokenizer's id of the same
token, and gives ms-swift the tiny checkpoints' pixel budget (the real ones' is its default).
"""

import importlib.util
import os

import pytest

from model_adapters.tiny.qwen2_vl import MAX_PIXELS, MIN_PIXELS

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("swift") is None,
    reason="the ms-swift tier runs in .venv-swift (scripts/setup_swift_env.sh)",
)
os.environ.setdefault("USE_HF", "1")
# ms-swift sizes Qwen-VL images with qwen_vl_utils' pixel budget from the environment (defaults: the
# real checkpoints' processor budget); sarbench reads the checkpoint's processor. Same budget here.
os.environ["MIN_PIXELS"], os.environ["MAX_PIXELS"] = str(MIN_PIXELS), str(MAX_PIXELS)

# (tiny builder, ms-swift model type = template type, sarbench family, image token ms-swift hard-codes)
CASES = [
    ("qwen2_vl", "qwen2_vl", "qwen2_vl", "<|image_pad|>"),
    ("qwen2_5_vl", "qwen2_5_vl", "qwen2_5_vl", "<|image_pad|>"),
    ("llava", "llava1_5_hf", "llava1_5", None),
]


def first_samples():
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sarbench.__main__ import CONF_DIR
    from sarbench.evaluate import load_run_data
    from sarbench.images import load_image

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        config = compose(config_name="config", overrides=["data=sample"])
    data = load_run_data(OmegaConf.to_container(config.data, resolve=True), list(config.task.subsets))
    return [(samples[0].prompt, load_image(samples[0].image)) for samples in data.samples.values()]


@pytest.mark.parametrize("builder, swift_type, family_name, image_token", CASES)
def test_sarbench_prompts_equal_ms_swift_templates_token_for_token(
    builder, swift_type, family_name, image_token, tmp_path
):
    from family_helpers import make_family
    from swift.model import get_processor
    from swift.template import get_template
    from transformers import AutoProcessor

    from model_adapters.base import GenerationRequest
    from model_adapters.hf_backend import native_inputs
    from model_adapters.tiny import ensure_tiny_model

    path = ensure_tiny_model(builder, tmp_path / "tiny")
    family = make_family(family_name, path=str(path))
    swift_processor = get_processor(str(path), model_type=swift_type)
    template = get_template(swift_processor, template_type=swift_type, default_system=family.system)
    template.set_mode("transformers")
    if image_token:
        template.image_token_id = swift_processor.tokenizer.convert_tokens_to_ids(image_token)
    ours_processor = AutoProcessor.from_pretrained(path)
    samples = first_samples()
    assert len(samples) == 9
    for question, image in samples:
        system = [{"role": "system", "content": family.system}] if family.system is not None else []
        theirs = template.encode(
            {"messages": [*system, {"role": "user", "content": f"<image>\n{question}"}], "images": [image]}
        )
        text, prepared = native_inputs(family, GenerationRequest("s/0", "s", question, "", image), ours_processor)
        ours = ours_processor(text=[text], images=[prepared])["input_ids"][0]
        theirs_ids = list(theirs["input_ids"])
        if family_name == "llava1_5":
            assert theirs_ids[0] == swift_processor.tokenizer.bos_token_id
            theirs_ids = theirs_ids[1:]
        assert list(ours) == theirs_ids, (question, text)
