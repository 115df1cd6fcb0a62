"""Remote-code families whose released code was written for transformers 4.x (DeepSeek-VL2,
mPLUG-Owl3, Phi-3.5-Vision, GLM-Edge-V, InternVL2.5 as released) are refused at start on
backend=hf with what would run them, never with a traceback from deep inside their code."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from family_helpers import model_config

from model_adapters import build_model
from model_adapters.errors import ModelLoadError

REPO = Path(__file__).resolve().parents[1]
REMOTE = [
    ("deepseek_vl2", "deepseek_vl_v2", "What runs it: backend=vllm"),
    ("mplug_owl3", "mplugowl3", "Nothing in sarbench runs it yet"),
    ("phi3_5_vision", "phi3_v", "Nothing in sarbench runs it yet"),
    ("glm_edge_v", "glm", "Nothing in sarbench runs it yet"),
    ("internvl2_5", "internvl_chat", "What runs it: backend=vllm"),
]


def checkpoint(folder: Path, model_type: str, version: str | None) -> Path:
    folder.mkdir()
    config = {"model_type": model_type, "architectures": ["Remote"]}
    (folder / "config.json").write_text(json.dumps(config | ({"transformers_version": version} if version else {})))
    return folder


@pytest.mark.parametrize("family, model_type, alternative", REMOTE)
def test_remote_code_for_transformers_4_is_refused_naming_what_runs_it(family, model_type, alternative, tmp_path):
    path = checkpoint(tmp_path / "ckpt", model_type, "4.38.2")
    with pytest.raises(ModelLoadError) as refused:
        build_model(model_config(family, path=str(path), trust_remote_code=True, device="cpu"), "hf")
    message = str(refused.value)
    assert "written for transformers 4.38.2" in message and alternative in message
    assert "model.trust_remote_code=true" in message


def test_without_a_recorded_version_the_familys_own_is_used(tmp_path):
    path = checkpoint(tmp_path / "ckpt", "phi3_v", None)
    with pytest.raises(ModelLoadError, match=r"written for transformers 4\.x"):
        build_model(model_config("phi3_5_vision", path=str(path), device="cpu"), "hf")


def test_code_ported_to_the_installed_major_goes_on_to_the_opt_in(tmp_path):
    import transformers

    path = checkpoint(tmp_path / "ckpt", "mplugowl3", transformers.__version__)
    with pytest.raises(ModelLoadError, match="needs the checkpoint's own modeling code.*trust_remote_code=true"):
        build_model(model_config("mplug_owl3", path=str(path), device="cpu"), "hf")


def test_the_command_line_prints_the_reason_and_no_traceback(tmp_path):
    path = checkpoint(tmp_path / "ckpt", "deepseek_vl_v2", "4.38.2")
    result = subprocess.run(
        [sys.executable, "-m", "sarbench", "model=deepseekvl2-tiny", f"model.path={path}", f"out={tmp_path / 'out'}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert "written for transformers 4.38.2" in result.stderr and "Traceback" not in result.stderr
