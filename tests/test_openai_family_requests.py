"""Family-exact served requests (model.family set): the family's pixels, its chat template sent
with each request, and the /tokenize preflight, against HTTP servers on 127.0.0.1."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_openai_adapter import SPECIAL_IDS, Server, adapter, render, request, run_served
from test_run import make_dataset, run

from model_adapters import FAMILIES
from model_adapters.openai_preflight import first_difference
from model_adapters.served_family import FamilyRequests


def family_adapter(url, family="qwen2_vl", **settings):
    return adapter(url, family=family, processor_kwargs={"min_pixels": 56 * 56, "max_pixels": 112 * 112}, **settings)


def decoded(data_url):
    import base64
    import io

    from PIL import Image

    header, payload = data_url.split(",", 1)
    assert header == "data:image/png;base64"
    return Image.open(io.BytesIO(base64.b64decode(payload)))


def test_family_requests_carry_the_family_pixels_and_template(tmp_path):
    import numpy as np
    from PIL import Image

    from model_adapters.hf_images import to_rgb

    path = tmp_path / "scene.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 420), dtype=np.uint8)).save(path)
    with Server() as server:
        backend = family_adapter(server.url)
        (answer,) = backend.generate([request(str(path), "What is this?")])
    _, _, body = server.requests[0]
    sent = decoded(body["messages"][-1]["content"][0]["image_url"]["url"])
    expected = backend.family.prepare_image(to_rgb(Image.open(path)))
    assert sent.size == expected.size == (112, 84)  # smart-resize into the configured pixel budget
    assert np.array_equal(np.asarray(sent.convert("RGB")), np.asarray(expected))
    assert body["add_special_tokens"] is True
    rendered = render(
        body["chat_template"],
        [
            {**m, "content": [{"type": "image"}, m["content"][1]]} if m["role"] == "user" else m
            for m in body["messages"]
        ],
    )
    assert rendered == backend.family.render_prompt("What is this?")
    assert rendered.endswith(
        "<|vision_start|><|image_pad|><|vision_end|>\nWhat is this?<|im_end|>\n<|im_start|>assistant\n"
    )
    assert answer == "no idea"


@settings(max_examples=60, deadline=None)
@given(system=st.text(max_size=20), question=st.text(max_size=40), family=st.sampled_from(sorted(FAMILIES.names())))
def test_the_family_template_renders_the_family_prompt_for_any_text(system, question, family):
    backend = adapter("http://127.0.0.1:9/v1", family=family, system_prompt=system)
    template = FamilyRequests(backend.family, "request").template
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]},
    ]
    assert render(template, messages) == backend.family.render_prompt(question)


def test_preflight_refuses_a_server_template_naming_the_first_differing_token(tmp_path):
    from model_adapters.tiny.qwen2_vl import CHAT_TEMPLATE
    from sarbench.runner import RunError

    data = make_dataset(tmp_path / "data", per_subset=2)
    overrides = ("model=openai", "model.served_model=tiny", "model.family=qwen2_vl", "task=refer")
    with Server(template=CHAT_TEMPLATE) as server:
        with pytest.raises(RunError) as refused:
            run(data, tmp_path / "run", *overrides, f"model.base_url={server.url}", "model.chat_template=server")
        assert not list((tmp_path / "run").glob("predictions/*.jsonl"))
        # the family's template sent with each request: the same server renders the family's prompt
        result = run(data, tmp_path / "ok", *overrides, f"model.base_url={server.url}")
    assert "differs from family qwen2_vl's at token" in str(refused.value)
    assert "the server has '[' (id 91), the family '\\n' (id 10)" in str(refused.value)
    assert "model.chat_template=request" in str(refused.value)
    assert result["metrics"]["task.refer"] == 100
    tokenized = [body for path, _, body in server.requests if path == "/tokenize" and "messages" in body]
    assert len(tokenized) == 1 + 2  # refused at the first subset; then one request of each subset


def test_template_check_warn_goes_on_and_records_the_difference(tmp_path):
    from model_adapters.tiny.qwen2_vl import CHAT_TEMPLATE

    data = make_dataset(tmp_path / "data", per_subset=2)
    with Server(template=CHAT_TEMPLATE) as server:
        result = run_served(
            data,
            tmp_path / "run",
            server,
            "model.family=qwen2_vl",
            "model.chat_template=server",
            "model.template_check=warn",
            "task=refer",
        )
    assert result["metrics"]["task.refer"] == 100
    events = json.loads((tmp_path / "run" / "manifest.json").read_text())["events"]
    assert any("differs from family qwen2_vl's at token" in e and "template_check=warn" in e for e in events)


def test_a_server_without_tokenize_is_noted_not_refused(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=1)
    with Server(tokenize=False) as server:
        result = run_served(
            data,
            tmp_path / "run",
            server,
            "model.family=qwen2_vl",
            "task=refer",
        )
    assert result["metrics"]["task.refer"] == 100
    events = json.loads((tmp_path / "run" / "manifest.json").read_text())["events"]
    assert any("offers no /tokenize" in e for e in events)


def test_without_a_family_the_run_says_prompts_are_the_servers(tmp_path, caplog):
    data = make_dataset(tmp_path / "data", per_subset=1)
    with Server() as server:
        run_served(
            data,
            tmp_path / "run",
            server,
            "task=refer",
        )
    assert "prompts follow the server's chat template" in caplog.text and "not comparable" in caplog.text
    events = json.loads((tmp_path / "run" / "manifest.json").read_text())["events"]
    assert any("prompts follow the server's chat template" in e for e in events)


def test_image_placeholder_runs_are_one_token_and_anything_else_counts():
    image, nl, a, q = (7, "<|image_pad|>"), (10, "\n"), (1, "a"), (2, "q")
    family = [a, image, nl, q]
    assert first_difference([a, image, image, image, nl, q], family, {7}) is None
    assert first_difference([a, image, q], family, {7}) == (2, nl, q)
    assert first_difference([a, image, nl, nl, q], family, {7}) == (3, q, nl)  # only image tokens collapse
    assert first_difference(family[:3], family, {7}) == (3, q, None)


def test_stop_tokens_become_the_servers_token_ids(image):
    with Server() as server:
        backend = adapter(server.url, family="internvl2_5")
        backend.generate([request(image)])
    _, _, body = server.requests[-1]
    assert body["stop_token_ids"] == [SPECIAL_IDS["<|im_end|>"]] and "stop" not in body
    with Server(tokenize=False) as server:
        backend = adapter(server.url, family="internvl2_5")
        backend.generate([request(image)])
    _, _, body = server.requests[-1]
    assert body["stop"] == ["<|im_end|>"] and "stop_token_ids" not in body
    assert any("sent as stop strings" in e for e in backend.events)


def test_answers_are_stripped_as_the_other_backends_decode_them(image):
    with Server(mode="padded") as server:
        assert adapter(server.url).generate([request(image)]) == ["{<1><2><3><4>}\n<|im_end|>"]
        assert adapter(server.url, family="internvl2_5").generate([request(image)]) == ["{<1><2><3><4>}"]


def test_with_the_checkpoint_at_hand_pixels_and_answers_are_exactly_the_in_process_ones(image, tmp_path):
    """model.path: the checkpoint's processor sets the pixel budget (the tiny one: 112x112 at most)
    and its tokenizer decodes the answer's token ids, as backend=hf does."""
    from PIL import Image

    from model_adapters.tiny import ensure_tiny_model

    checkpoint = ensure_tiny_model("qwen2_vl", tmp_path / "tiny")
    big = tmp_path / "big.png"
    Image.new("L", (640, 480), 90).save(big)
    with Server(mode="token_ids") as server:
        backend = adapter(server.url, family="qwen2_vl", path=str(checkpoint))
        tokenizer = backend.family_requests.tokenizer
        server.token_ids = tokenizer.encode(" ship {<1><2><3><4>}") + [tokenizer.convert_tokens_to_ids("<|im_end|>")]
        (answer,) = backend.generate([request(str(big))])
    _, _, body = server.requests[-1]
    assert body["return_token_ids"] is True
    assert decoded(body["messages"][-1]["content"][0]["image_url"]["url"]).size == (112, 84)
    assert answer == "ship {<1><2><3><4>}"


def test_a_first_sample_with_an_unreadable_image_does_not_stop_the_preflight(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    (data / "images" / "a.png").write_bytes(b"not a png")
    with Server() as server:
        result = run_served(
            data,
            tmp_path / "run",
            server,
            "model.family=qwen2_vl",
            "task=refer",
            "runner.allow_failures=true",
        )
    assert result["inference_failures"] == {"refer_single": 1, "refer_multi": 1}
    events = json.loads((tmp_path / "run" / "manifest.json").read_text())["events"]
    assert any("left out of the preflight: cannot read its image" in e for e in events)
