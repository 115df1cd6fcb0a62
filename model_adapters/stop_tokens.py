"""Where generation stops: the checkpoint's eos plus the turn-end tokens of the family's
ms-swift template, as `swift infer` stops (shared by backend=hf and backend=vllm)."""
from __future__ import annotations

from typing import Any, ClassVar


class TemplateStops:
    """Mixin of the transformers-backed family adapters (`_processor`, `_model`, `family`)."""

    # Turn-end tokens of the family's ms-swift template (its stop words): generation stops at any
    # of them besides the checkpoint's eos, and one left at the end of the answer (a token not
    # skipped as special, e.g. Yi-VL's `###`) is cut off.
    stop_tokens: ClassVar[tuple[str, ...]] = ()

    @property
    def tokenizer(self) -> Any:
        return getattr(self._processor, "tokenizer", self._processor)

    def stop_token_ids(self) -> list[int]:
        """Ids of `stop_tokens` in the loaded tokenizer; one that is not a single token is refused."""
        tokenizer, ids = self.tokenizer, []
        for token in self.stop_tokens:
            token_id = tokenizer.convert_tokens_to_ids(token)
            if token_id is None or token_id == tokenizer.unk_token_id:
                pieces = tokenizer.encode(token, add_special_tokens=False)
                if len(pieces) != 1:
                    from model_adapters.hf_backend import run_error

                    raise run_error(f"{self.family}: the stop token {token!r} of its template is not one "
                                    f"token in this checkpoint's tokenizer ({pieces})")
                token_id = pieces[0]
            ids.append(int(token_id))
        return ids

    def eos_token_ids(self) -> list[int] | None:
        """The checkpoint's eos ids plus the family's stop tokens; None (the checkpoint's own) without any."""
        if not self.stop_tokens:
            return None
        ids: list[int] = []
        for value in (getattr(getattr(self._model, "generation_config", None), "eos_token_id", None),
                      self.tokenizer.eos_token_id):
            ids.extend(value if isinstance(value, (list, tuple)) else [] if value is None else [value])
        return list(dict.fromkeys([*ids, *self.stop_token_ids()]))

    def strip_stop_text(self, text: str) -> str:
        """Cut a stop token generation ended on (kept in the text when it is not a special token)."""
        text = text.strip()
        for token in self.stop_tokens:
            if text.endswith(token):
                return text[: -len(token)].strip()
        return text
