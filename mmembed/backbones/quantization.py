"""4-bit NF4 weights for QLoRA (bitsandbytes): the frozen backbone is stored in 4 bits, the LoRA adapter trains in
full precision on top. bitsandbytes >= 0.49 runs this on the CPU too (slowly), so it is tested here; on CUDA it
computes in bf16."""

from __future__ import annotations

import torch

QUANTIZATIONS = ("4bit",)


def quantization_config(kind: str, compute_dtype: torch.dtype):
    if kind not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS} (QLoRA's NF4), got {kind!r}")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise ImportError("4-bit quantization (QLoRA) needs bitsandbytes: pip install 'mmembed[qlora]'") from None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype,
    )
