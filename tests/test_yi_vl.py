"""Yi-VL loads with its own LayerNorm projector; incomplete checkpoints are refused, not run."""

import json
import shutil

import pytest
from hydra import compose, initialize_config_dir

from sarbench.__main__ import CONF_DIR
from sarbench.evaluate import build_adapter
from sarbench.runner import RunError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from safetensors.torch import load_file, save_file  # noqa: E402

from model_adapters.tiny import ensure_tiny_model  # noqa: E402


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "tiny-models"


def adapter_for(*overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        cfg = compose(config_name="config", overrides=list(overrides))
    adapter = build_adapter(dict(cfg.model), "auto")
    adapter.load()
    return adapter


def test_tiny_yi_vl_is_saved_like_the_hub_conversion(tiny_cache):
    path = ensure_tiny_model("yi_vl", tiny_cache)
    config = json.loads((path / "config.json").read_text())
    assert config["is_yi_vl_derived_model"] is True
    assert config["architectures"] == ["LlavaForConditionalGeneration"]
    names = set(load_file(path / "model.safetensors"))
    assert {f"multi_modal_projector.linear_{i}.weight" for i in (1, 2, 3, 4)} <= names
    assert load_file(path / "model.safetensors")["multi_modal_projector.linear_2.weight"].ndim == 1  # a LayerNorm


def test_yi_vl_loads_every_projector_weight_into_its_layernorm_projector(tiny_cache):
    from transformers.models.llava import modeling_llava

    from model_adapters.yi_vl_model import YiVLProjector

    original = modeling_llava.LlavaMultiModalProjector
    adapter = adapter_for("model=tiny-yivl", f"model.tiny.cache_dir={tiny_cache}")
    projector = adapter.model.model.multi_modal_projector
    assert isinstance(projector, YiVLProjector)
    assert modeling_llava.LlavaMultiModalProjector is original  # the swap does not outlive the load
    saved = load_file(ensure_tiny_model("yi_vl", tiny_cache) / "model.safetensors")
    for name, tensor in projector.state_dict().items():
        assert torch.equal(tensor, saved[f"multi_modal_projector.{name}"]), name
    features = torch.randn(2, 3, projector.linear_1.in_features)
    hidden = torch.nn.functional.gelu(
        torch.nn.functional.layer_norm(
            projector.linear_1(features),
            (projector.linear_2.normalized_shape[0],),
            projector.linear_2.weight,
            projector.linear_2.bias,
        )
    )
    expected = torch.nn.functional.layer_norm(
        projector.linear_3(hidden), hidden.shape[-1:], projector.linear_4.weight, projector.linear_4.bias
    )
    assert torch.allclose(projector(features), expected, atol=1e-6)


def test_an_unflagged_llava_checkpoint_loads_as_plain_llava_under_the_yi_vl_adapter(tiny_cache, monkeypatch):
    from transformers.models.llava.modeling_llava import LlavaMultiModalProjector

    from model_adapters.yi_vl import YiVL

    monkeypatch.setattr(YiVL, "stop_tokens", ())  # the tiny LLaVA's tokenizer has no "###"
    llava = ensure_tiny_model("llava", tiny_cache)
    adapter = adapter_for("model=yi-vl-6b", f"model.path={llava}", "model.device=cpu", "model.dtype=float32")
    assert isinstance(adapter.model.model.multi_modal_projector, LlavaMultiModalProjector)


def test_a_checkpoint_missing_weights_is_refused_naming_them(tiny_cache, tmp_path):
    broken = tmp_path / "llava-without-projector"
    shutil.copytree(ensure_tiny_model("llava", tiny_cache), broken)
    weights = load_file(broken / "model.safetensors")
    save_file(
        {k: v for k, v in weights.items() if not k.startswith("multi_modal_projector.linear_2")},
        broken / "model.safetensors",
        metadata={"format": "pt"},
    )
    with pytest.raises(RunError, match=r"lacks 2 weights .*multi_modal_projector\.linear_2\.bias"):
        adapter_for("model=llava-1.5-7b", f"model.path={broken}", "model.device=cpu", "model.dtype=float32")


def test_unused_checkpoint_weights_are_recorded_in_the_events(tiny_cache, tmp_path):
    extra = tmp_path / "llava-with-extra"
    shutil.copytree(ensure_tiny_model("llava", tiny_cache), extra)
    weights = load_file(extra / "model.safetensors")
    weights["multi_modal_projector.linear_9.weight"] = torch.zeros(2)
    save_file(weights, extra / "model.safetensors", metadata={"format": "pt"})
    adapter = adapter_for("model=llava-1.5-7b", f"model.path={extra}", "model.device=cpu", "model.dtype=float32")
    assert any("not used by the model: 1" in e and "linear_9" in e for e in adapter.events)


def yi_request(i=0):
    from PIL import Image

    from model_adapters import GenerationRequest

    return GenerationRequest(
        sample_id=f"count/{i}",
        subset="count",
        image_path="",
        max_new_tokens=10,
        prompt="[count] Count the ship in this satellite image." + " x" * i,
        image=Image.new("RGB", (80, 60), (30 * i, 60, 90)),
    )


def test_yi_vl_stops_at_its_template_turn_end_and_cuts_it(tiny_cache, monkeypatch):
    adapter = adapter_for("model=tiny-yivl", f"model.tiny.cache_dir={tiny_cache}")
    tokenizer = adapter.tokenizer
    hash_id = tokenizer.convert_tokens_to_ids("###")
    assert adapter.eos_token_ids() == [tokenizer.eos_token_id, hash_id]
    assert adapter.generation_kwargs(10)["eos_token_id"] == [tokenizer.eos_token_id, hash_id]
    assert adapter.family.strip_stop_text("{<1><2><3><4>} (top left)\n###") == "{<1><2><3><4>} (top left)"
    assert adapter.family.strip_stop_text("### Human: hi") == "### Human: hi"  # only a final one is cut
    # generation stops at a stop token: make the 3rd token of an unstopped answer one
    monkeypatch.setattr(type(adapter.family), "stop_tokens", ())
    text, image = adapter.native_inputs(yi_request())
    inputs = adapter.to_model(adapter.processor(text=[text], images=[image], return_tensors="pt"))
    full = adapter.model.generate(**inputs, do_sample=False, max_new_tokens=10, min_new_tokens=10)
    new = full[0, inputs["input_ids"].shape[1] :].tolist()
    stop = tokenizer.convert_ids_to_tokens(new[2])
    assert new.index(new[2]) == 2, "pick a request whose 3rd token is new"
    monkeypatch.setattr(type(adapter.family), "stop_tokens", (stop,))
    [answer] = adapter.generate([yi_request()])
    assert answer == tokenizer.decode(new[:3], skip_special_tokens=True).strip()


def test_a_stop_token_missing_from_the_tokenizer_is_refused_at_load(tiny_cache, monkeypatch):
    from model_adapters.yi_vl import YiVL

    monkeypatch.setattr(YiVL, "stop_tokens", ("<|no such turn end|>",))
    with pytest.raises(RunError, match="stop token '<\\|no such turn end\\|>' .* not one token"):
        adapter_for("model=tiny-yivl", f"model.tiny.cache_dir={tiny_cache}")


def test_yi_vl_prompts_get_no_bos_even_from_a_tokenizer_that_adds_one(tiny_cache, monkeypatch):
    """ms-swift's yi_vl template has no BOS and adds none; a conversion's tokenizer may add one."""
    adapter = adapter_for("model=tiny-yivl", f"model.tiny.cache_dir={tiny_cache}")
    adapter.tokenizer.add_bos_token = True
    assert adapter.tokenizer("hi").input_ids[0] == adapter.tokenizer.bos_token_id
    seen = []
    original = adapter._model.generate
    monkeypatch.setattr(adapter._model, "generate", lambda **kw: seen.append(kw["input_ids"]) or original(**kw))
    adapter.generate([yi_request()])
    assert seen and seen[0][0, 0].item() != adapter.tokenizer.bos_token_id
    assert adapter.prompt_fingerprint()["tokenizer_specials"] is False
