"""Snapshot tests of every family's rendered prompt: a template change must be deliberate.

Expected prompts live in tests/snapshots/prompts/<family>.txt. After an intended change,
regenerate them with `SARBENCH_UPDATE_SNAPSHOTS=1 pytest tests/test_prompts.py` and review the
diff (a changed prompt also changes `prompt_fingerprint`, so earlier predictions are refused).
"""

import os
from pathlib import Path

import pytest
from family_helpers import make_family

from model_adapters import FAMILIES as REGISTRY

SNAPSHOTS = Path(__file__).parent / "snapshots" / "prompts"
FAMILIES = REGISTRY.names()
QUESTION = "[identify] What can you identify within these coordinates: {<294><358><329><427>}?"
IMAGE_SIZE = (512, 512)


def adapter(family, **settings):
    return make_family(family, **settings)


def rendered(family: str) -> str:
    parts = []
    for box_format in ("sarchat", "native"):
        prompt = adapter(family, box_format=box_format).render_prompt(QUESTION, IMAGE_SIZE)
        parts.append(f"=== box_format: {box_format} ===\n{prompt}\n")
    return "".join(parts)


def test_every_hf_family_is_covered():
    assert {
        "qwen2_vl",
        "qwen2_5_vl",
        "internvl2_5",
        "llava1_5",
        "yi_vl",
        "deepseek_vl",
        "deepseek_vl2",
        "mplug_owl3",
        "phi3_5_vision",
        "glm_edge_v",
    } <= set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_rendered_prompt_matches_snapshot(family):
    path = SNAPSHOTS / f"{family}.txt"
    text = rendered(family)
    if os.environ.get("SARBENCH_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no snapshot {path}; create it with SARBENCH_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"{family} prompt changed; if intended, regenerate the snapshot"


@pytest.mark.parametrize("family", FAMILIES)
def test_question_follows_the_image_placeholder_once(family):
    a = adapter(family)
    prompt = a.render_prompt(QUESTION, IMAGE_SIZE)
    assert prompt.count(QUESTION) == 1
    assert prompt.count(a.image_placeholder) == 1
    assert prompt.index(a.image_placeholder) < prompt.index(QUESTION)


def test_system_prompt_is_the_authors_except_for_llava():
    for family in FAMILIES:
        expected = None if family == "llava1_5" else "You are a helpful assistant."
        assert adapter(family).system == expected, family
        assert "You are a helpful assistant." in adapter(family).render_prompt("q") or family == "llava1_5"
    assert "Be brief." in adapter("qwen2_vl", system_prompt="Be brief.").render_prompt("q")


@pytest.mark.parametrize("family", FAMILIES)
def test_prompt_fingerprint_tracks_template_system_and_box_format(family, monkeypatch):
    base = adapter(family).prompt_fingerprint()
    assert base == adapter(family).prompt_fingerprint()
    assert base["template"].count("{question}") == 1
    assert adapter(family, system_prompt="Other.").prompt_fingerprint() != base
    assert adapter(family, box_format="native").prompt_fingerprint() != base
    cls = REGISTRY.get(family)
    monkeypatch.setattr(cls, "chat", lambda self, system, user: f"changed {user}")
    assert adapter(family).prompt_fingerprint() != base


def test_native_question_boxes_are_rewritten_only_in_native_mode():
    sarchat = adapter("internvl2_5").render_prompt(QUESTION, IMAGE_SIZE)
    native = adapter("internvl2_5", box_format="native").render_prompt(QUESTION, IMAGE_SIZE)
    assert "{<294><358><329><427>}" in sarchat
    assert "<box>[[574, 699, 643, 834]]</box>" in native


def test_unknown_box_format_is_refused():
    from model_adapters import AdapterError

    with pytest.raises(AdapterError, match="box_format"):
        adapter("qwen2_vl", box_format="pixels")


def test_glm_edge_v_writes_the_literal_backslash_n_of_ms_swifts_template():
    prompt = adapter("glm_edge_v").render_prompt("[refer] Locate 1 ship.")
    assert prompt == (
        "<|system|>\\nYou are a helpful assistant.\\n<|user|>\\n<|begin_of_image|>\n"
        "[refer] Locate 1 ship.\\n<|assistant|>\\n"
    )
    real = adapter("glm_edge_v", escaped_newlines=False).render_prompt("[refer] Locate 1 ship.")
    assert real == (
        "<|system|>\nYou are a helpful assistant.\n<|user|>\n<|begin_of_image|>\n"
        "[refer] Locate 1 ship.\n<|assistant|>\n"
    )
    assert (
        adapter("glm_edge_v", escaped_newlines=False).prompt_fingerprint() != adapter("glm_edge_v").prompt_fingerprint()
    )


def test_stop_tokens_are_part_of_the_fingerprint_where_a_family_has_them(monkeypatch):
    assert adapter("yi_vl").prompt_fingerprint()["stop_tokens"] == ["###"]
    assert "stop_tokens" not in adapter("qwen2_vl").prompt_fingerprint()
    before = adapter("phi3_5_vision").prompt_fingerprint()
    monkeypatch.setattr(REGISTRY.get("phi3_5_vision"), "stop_tokens", ("<|end|>", "<|endoftext|>"))
    assert adapter("phi3_5_vision").prompt_fingerprint() != before
