"""Remote-code families (InternVL2.5 released layout, DeepSeek-VL2, mPLUG-Owl3, Phi-3.5-Vision,
GLM-Edge-V) and real local checkpoints: everything short of weights here; loading and generation
only when SARBENCH_LOCAL_<FAMILY> points at a local checkpoint folder, e.g.

    SARBENCH_LOCAL_INTERNVL2_5=/ckpt/InternVL2_5-1B pytest tests/test_hf_remote.py
"""

import os
import re

import numpy as np
import pytest
from family_helpers import make_family, model_config
from PIL import Image

from model_adapters import GenerationRequest, build_model
from model_adapters.internvl2_5 import TILE, tiles

QUESTION = "[refer] Identify 2 ship."


def test_internvl_tiles_follow_dynamic_preprocess():
    wide = Image.new("RGB", (1600, 400))
    crops = tiles(wide)
    assert len(crops) == 4 + 1 and all(c.size == (TILE, TILE) for c in crops)  # 4x1 grid + thumbnail
    assert len(tiles(Image.new("RGB", (512, 512)))) == 1  # a single tile needs no thumbnail
    assert len(tiles(Image.new("RGB", (3000, 3000)), max_num=4)) == 4 + 1
    gradient = Image.fromarray(np.tile(np.arange(0, 256, 0.25).astype(np.uint8)[None, :], (256, 1))).convert("RGB")
    left, right = tiles(gradient, max_num=2)[:2]
    assert np.asarray(left).mean() < np.asarray(right).mean()  # row-major order, left tile first


def test_internvl_remote_pixel_values_are_normalised_tiles():
    pytest.importorskip("torch")
    adapter = make_family("internvl2_5", processor_kwargs={"max_patches": 6})
    pixels = adapter.pixel_values(Image.new("RGB", (1344, 448), (124, 116, 104)))
    assert tuple(pixels.shape) == (4, 3, TILE, TILE)  # 3x1 grid + thumbnail
    assert float(pixels.abs().max()) < 0.05  # the ImageNet mean colour normalises to ~0


def build_text_qwen(messages):
    """mPLUG-Owl3's own processor (`mPLUGOwl3Processor.build_text_qwen`, inference mode)."""
    text = []
    for turn, message in enumerate(messages):
        if turn == 0 and message["role"] != "system":
            text.append("<|im_start|>system\n<|im_end|>")
        if message["role"] == "system":
            text.append(f"<|im_start|>system\n{message['content']}<|im_end|>")
        elif message["role"] == "user":
            text.append(f"\n<|im_start|>user\n{message['content']}<|im_end|>")
        else:
            text.append("\n<|im_start|>assistant\n")
    return "".join(text)


@pytest.mark.parametrize("settings", [{}, {"system_prompt": ""}, {"box_format": "native"}])
def test_mplug_owl3_messages_render_exactly_the_snapshotted_prompt(settings):
    adapter = make_family("mplug_owl3", **settings)
    question = "What is at {<10><20><30><40>}?"
    assert build_text_qwen(adapter.messages(question, (100, 100))) == adapter.render_prompt(question, (100, 100))


LOCAL = {  # env var -> (adapter, settings)
    "SARBENCH_LOCAL_INTERNVL2_5": ("internvl2_5", {"trust_remote_code": True}),
    "SARBENCH_LOCAL_DEEPSEEK_VL2": ("deepseek_vl2", {"trust_remote_code": True}),
    "SARBENCH_LOCAL_MPLUG_OWL3": ("mplug_owl3", {"trust_remote_code": True}),
    "SARBENCH_LOCAL_PHI3_5_VISION": ("phi3_5_vision", {"trust_remote_code": True}),
    "SARBENCH_LOCAL_GLM_EDGE_V": ("glm_edge_v", {"trust_remote_code": True}),
    "SARBENCH_LOCAL_QWEN2_VL": ("qwen2_vl", {}),
    "SARBENCH_LOCAL_QWEN2_5_VL": ("qwen2_5_vl", {}),
    "SARBENCH_LOCAL_LLAVA1_5": ("llava1_5", {}),
    "SARBENCH_LOCAL_YI_VL": ("yi_vl", {}),
    "SARBENCH_LOCAL_DEEPSEEK_VL": ("deepseek_vl", {}),
}


@pytest.mark.parametrize("variable", sorted(LOCAL))
def test_local_checkpoint_loads_and_answers(variable):
    path = os.environ.get(variable)
    if not path:
        pytest.skip(f"set {variable}=/path/to/checkpoint to run")
    pytest.importorskip("torch")
    family, settings = LOCAL[variable]
    adapter = build_model(model_config(family, path=path, **settings), "hf")
    picture = Image.new("RGB", (512, 384), (40, 40, 40))
    requests = [
        GenerationRequest(f"refer_multi/{i}", "refer_multi", QUESTION + " " * i, "", picture, 32) for i in range(2)
    ]
    singles = [adapter.generate([r])[0] for r in requests]
    assert all(isinstance(r, str) and r for r in singles)
    if adapter.capabilities.batch_safe:
        assert adapter.generate(requests) == singles
    assert (
        re.search(r"\{<\d+><\d+><\d+><\d+>\}", adapter.to_protocol("[[1, 2, 3, 4]]", requests[0]))
        or adapter.family.box_format == "sarchat"
    )
    adapter.close()
