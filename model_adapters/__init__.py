"""Model families (prompt, pixels, boxes: one declaration per family) and the backends that run
them (list of requests in, list of answers out).

Both are registered by name here, lazily ("module:attribute"): importing this package imports no
family module, torch, transformers or vllm. See family.py (how to add a family) and base.py (how to
add a backend).
"""

from model_adapters.base import BACKENDS, BackendSpec, Capabilities, GenerationRequest, InferenceFailure, ModelAdapter
from model_adapters.errors import AdapterError, ModelLoadError
from model_adapters.family import FAMILIES, Family
from model_adapters.settings import CFARSettings, CheckpointSettings, OpenAISettings, OracleSettings, parse_settings

_HF_INSTALL = "pip install torch torchvision && pip install -e '.[hf]'"
for _spec in (
    BackendSpec("oracle", "model_adapters.oracle:OracleBackend", OracleSettings),
    BackendSpec("openai", "model_adapters.openai_api:OpenAIBackend", OpenAISettings),
    BackendSpec("cfar", "model_adapters.cfar:CFARBackend", CFARSettings),
    BackendSpec(
        "hf",
        "model_adapters.hf_backend:HFBackend",
        CheckpointSettings,
        ("torch", "transformers"),
        _HF_INSTALL,
        runs_checkpoints=True,
    ),
    BackendSpec(
        "vllm",
        "model_adapters.vllm_backend:VLLMBackend",
        CheckpointSettings,
        ("vllm", "transformers"),
        "GPU: pip install 'vllm>=0.32'; CPU: bash scripts/setup_vllm_env.sh and use .venv-vllm/bin/python",
        runs_checkpoints=True,
    ),
):
    BACKENDS.register(_spec.name)(_spec)

for _name, _target in {
    "qwen2_vl": "model_adapters.qwen2_vl:Qwen2VL",
    "qwen2_5_vl": "model_adapters.qwen2_5_vl:Qwen25VL",
    "internvl2_5": "model_adapters.internvl2_5:InternVL25",
    "llava1_5": "model_adapters.llava1_5:Llava15",
    "yi_vl": "model_adapters.yi_vl:YiVL",
    "deepseek_vl": "model_adapters.deepseek_vl:DeepSeekVL",
    "deepseek_vl2": "model_adapters.deepseek_vl2:DeepSeekVL2",
    "mplug_owl3": "model_adapters.mplug_owl3:MPlugOwl3",
    "phi3_5_vision": "model_adapters.phi3_5_vision:Phi35Vision",
    "glm_edge_v": "model_adapters.glm_edge_v:GLMEdgeV",
}.items():
    FAMILIES.register_lazy(_name, _target)

__all__ = [
    "AdapterError",
    "BACKENDS",
    "BackendSpec",
    "Capabilities",
    "FAMILIES",
    "Family",
    "GenerationRequest",
    "InferenceFailure",
    "ModelAdapter",
    "ModelLoadError",
    "build_model",
]


def build_model(model_config: dict, backend: str = "auto", backend_config: dict | None = None) -> ModelAdapter:
    """The configured model on its backend (`auto`: the model's own), settings checked first."""
    chosen = model_config.get("backend") if backend == "auto" else backend
    try:
        spec = BACKENDS.get(str(chosen))
    except KeyError as exc:
        raise AdapterError(str(exc.args[0])) from None
    settings = parse_settings(spec.settings, dict(model_config), where=f"model {model_config.get('name')!r}")
    family = None
    if settings.family is not None:
        family_cls = FAMILIES.get(settings.family)
        if spec.runs_checkpoints and chosen not in family_cls.backends:
            raise AdapterError(
                f"model {settings.name!r} ({settings.family}) does not run on backend {chosen!r}; "
                f"supported: {', '.join(family_cls.backends)} (e.g. backend={family_cls.backends[0]})"
            )
        family = family_cls(settings)
    backend_cls = spec.load()
    return backend_cls.create(settings, family, {k: v for k, v in (backend_config or {}).items()})
