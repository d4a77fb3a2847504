"""LoRA adapters (peft), loaded or attached in one place.

peft 0.21 (the newest release) asks the model for ``is_gradient_checkpointing``, which transformers 5 renamed to
``is_activation_checkpointing`` and warns about on every read (FutureWarning). The answer is the same, nothing is
wrong on our side, and mmembed never reads the old name itself; so exactly that warning, from exactly these calls,
is not shown. Drop the filter when peft reads the new name.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path


@contextlib.contextmanager
def _peft_reading_a_renamed_attribute():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
        yield


def load_adapter(model, folder: str | Path, is_trainable: bool = False):
    """``model`` (a transformers causal LM) wrapped with the saved LoRA adapter in ``folder``."""
    from peft import PeftModel

    with _peft_reading_a_renamed_attribute():
        return PeftModel.from_pretrained(model, str(folder), is_trainable=is_trainable)


def prepare_quantized(model):
    """A 4-bit (bitsandbytes) causal LM made ready for LoRA training (peft's preparation, no checkpointing)."""
    from peft import prepare_model_for_kbit_training

    with _peft_reading_a_renamed_attribute():
        return prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)


def attach_adapter(model, r: int, alpha: int, dropout: float, target_modules: list[str] | str | None, **options):
    """``model`` wrapped with a new LoRA adapter (``options`` go to peft's ``LoraConfig``)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules, **options)
    with _peft_reading_a_renamed_attribute():
        return get_peft_model(model, config)
