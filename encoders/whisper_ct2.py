"""CTranslate2 Whisper ``model.bin`` -> a transformers ``WhisperEncoder`` folder (the audio tower), or the whole
``WhisperForConditionalGeneration`` with its tokenizer (speech recognition, for the ASR-cascade peer); once each,
into the weight cache.

File layout (CTranslate2 binary version 6): uint32 version, string spec name, uint32 revision, uint32 count, then per
variable: string name, uint8 rank, uint32 dims[rank], uint8 dtype id, uint32 byte count, raw bytes; then aliases.
Strings are uint16 length (with the trailing NUL) + bytes. Self-attention ``linear_0`` is the fused QKV projection
(Whisper's key projection has no bias), ``linear_1`` the output projection; ``ffn/linear_0,1`` are fc1, fc2.
Decoder cross-attention (``attention``): ``linear_0`` the query, ``linear_1`` the fused key/value, ``linear_2`` the
output projection. The output projection of the LM head is tied to the token embeddings.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import torch

DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(path: Path) -> dict[str, np.ndarray]:
    variables = {}
    with open(path, "rb") as handle:

        def unpack(fmt):
            return struct.unpack(fmt, handle.read(struct.calcsize(fmt)))

        def string():
            (length,) = unpack("H")
            return handle.read(length)[:-1].decode("utf-8")

        (version,) = unpack("I")
        if version not in (5, 6):
            raise ValueError(f"{path}: CTranslate2 binary version {version} is not supported")
        spec, _revision, count = string(), *unpack("I"), *unpack("I")
        if spec != "WhisperSpec":
            raise ValueError(f"{path} holds a {spec}, not a WhisperSpec")
        for _ in range(count):
            name = string()
            (rank,) = unpack("B")
            dims = unpack("I" * rank)
            dtype_id, size = unpack("B")[0], unpack("I")[0]
            if dtype_id not in DTYPES:
                raise ValueError(f"{path}: variable {name} has unsupported dtype id {dtype_id}")
            variables[name] = np.frombuffer(handle.read(size), dtype=DTYPES[dtype_id]).reshape(dims)
    return variables


def encoder_state_dict(variables: dict[str, np.ndarray]) -> tuple[dict[str, torch.Tensor], dict]:
    """(WhisperEncoder state dict, the config facts read off the shapes)."""

    def tensor(name):
        return torch.from_numpy(variables[name].astype(np.float32))

    state = {
        "conv1.weight": tensor("encoder/conv1/weight"),
        "conv1.bias": tensor("encoder/conv1/bias"),
        "conv2.weight": tensor("encoder/conv2/weight"),
        "conv2.bias": tensor("encoder/conv2/bias"),
        "embed_positions.weight": tensor("encoder/position_encodings/encodings"),
        "layer_norm.weight": tensor("encoder/layer_norm/gamma"),
        "layer_norm.bias": tensor("encoder/layer_norm/beta"),
    }
    layers = sorted({int(match.group(1)) for name in variables if (match := re.match(r"encoder/layer_(\d+)/", name))})
    for i in layers:
        src, dst = f"encoder/layer_{i}", f"layers.{i}"
        q, k, v = tensor(f"{src}/self_attention/linear_0/weight").chunk(3)
        qb, _kb, vb = tensor(f"{src}/self_attention/linear_0/bias").chunk(3)
        state |= {
            f"{dst}.self_attn.q_proj.weight": q,
            f"{dst}.self_attn.q_proj.bias": qb,
            f"{dst}.self_attn.k_proj.weight": k,
            f"{dst}.self_attn.v_proj.weight": v,
            f"{dst}.self_attn.v_proj.bias": vb,
            f"{dst}.self_attn.out_proj.weight": tensor(f"{src}/self_attention/linear_1/weight"),
            f"{dst}.self_attn.out_proj.bias": tensor(f"{src}/self_attention/linear_1/bias"),
            f"{dst}.self_attn_layer_norm.weight": tensor(f"{src}/self_attention/layer_norm/gamma"),
            f"{dst}.self_attn_layer_norm.bias": tensor(f"{src}/self_attention/layer_norm/beta"),
            f"{dst}.fc1.weight": tensor(f"{src}/ffn/linear_0/weight"),
            f"{dst}.fc1.bias": tensor(f"{src}/ffn/linear_0/bias"),
            f"{dst}.fc2.weight": tensor(f"{src}/ffn/linear_1/weight"),
            f"{dst}.fc2.bias": tensor(f"{src}/ffn/linear_1/bias"),
            f"{dst}.final_layer_norm.weight": tensor(f"{src}/ffn/layer_norm/gamma"),
            f"{dst}.final_layer_norm.bias": tensor(f"{src}/ffn/layer_norm/beta"),
        }
    d_model = state["conv1.weight"].shape[0]
    facts = {
        "d_model": d_model,
        "encoder_layers": len(layers),
        "num_mel_bins": state["conv1.weight"].shape[1],
        "encoder_ffn_dim": state["layers.0.fc1.weight"].shape[0],
        "encoder_attention_heads": int(variables["encoder/num_heads"])
        if "encoder/num_heads" in variables
        else d_model // 64,
        "max_source_positions": state["embed_positions.weight"].shape[0],
    }
    return state, facts


def convert_ct2_whisper(model_bin: Path, out_folder: Path) -> None:
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    state, facts = encoder_state_dict(read_ct2(model_bin))
    config = WhisperConfig(**facts, decoder_layers=1, decoder_attention_heads=facts["encoder_attention_heads"])
    encoder = WhisperEncoder(config)
    missing, unexpected = encoder.load_state_dict(state, strict=False)
    missing = [name for name in missing if not name.endswith("k_proj.bias")]
    if missing or unexpected:
        raise ValueError(
            f"{model_bin}: weights do not fit a Whisper encoder (missing {missing[:4]}, unexpected {unexpected[:4]})"
        )
    encoder.save_pretrained(out_folder)


def _attention(tensor, src: str, dst: str, fused_qkv: bool) -> dict[str, torch.Tensor]:
    if fused_qkv:
        (q, k, v), (qb, _kb, vb) = tensor(f"{src}/linear_0/weight").chunk(3), tensor(f"{src}/linear_0/bias").chunk(3)
        out = "linear_1"
    else:
        q, qb = tensor(f"{src}/linear_0/weight"), tensor(f"{src}/linear_0/bias")
        (k, v), (_kb, vb) = tensor(f"{src}/linear_1/weight").chunk(2), tensor(f"{src}/linear_1/bias").chunk(2)
        out = "linear_2"
    return {
        f"{dst}.q_proj.weight": q,
        f"{dst}.q_proj.bias": qb,
        f"{dst}.k_proj.weight": k,
        f"{dst}.v_proj.weight": v,
        f"{dst}.v_proj.bias": vb,
        f"{dst}.out_proj.weight": tensor(f"{src}/{out}/weight"),
        f"{dst}.out_proj.bias": tensor(f"{src}/{out}/bias"),
    }


def decoder_state_dict(variables: dict[str, np.ndarray]) -> tuple[dict[str, torch.Tensor], dict]:
    """(WhisperDecoder state dict, the config facts read off the shapes)."""

    def tensor(name):
        return torch.from_numpy(variables[name].astype(np.float32))

    state = {
        "embed_tokens.weight": tensor("decoder/embeddings/weight"),
        "embed_positions.weight": tensor("decoder/position_encodings/encodings"),
        "layer_norm.weight": tensor("decoder/layer_norm/gamma"),
        "layer_norm.bias": tensor("decoder/layer_norm/beta"),
    }
    layers = sorted({int(match.group(1)) for name in variables if (match := re.match(r"decoder/layer_(\d+)/", name))})
    for i in layers:
        src, dst = f"decoder/layer_{i}", f"layers.{i}"
        state |= _attention(tensor, f"{src}/self_attention", f"{dst}.self_attn", fused_qkv=True)
        state |= _attention(tensor, f"{src}/attention", f"{dst}.encoder_attn", fused_qkv=False)
        for part, norm in (
            ("self_attention", "self_attn_layer_norm"),
            ("attention", "encoder_attn_layer_norm"),
            ("ffn", "final_layer_norm"),
        ):
            state[f"{dst}.{norm}.weight"] = tensor(f"{src}/{part}/layer_norm/gamma")
            state[f"{dst}.{norm}.bias"] = tensor(f"{src}/{part}/layer_norm/beta")
        for number, name in ((0, "fc1"), (1, "fc2")):
            state[f"{dst}.{name}.weight"] = tensor(f"{src}/ffn/linear_{number}/weight")
            state[f"{dst}.{name}.bias"] = tensor(f"{src}/ffn/linear_{number}/bias")
    d_model = state["embed_tokens.weight"].shape[1]
    facts = {
        "vocab_size": state["embed_tokens.weight"].shape[0],
        "decoder_layers": len(layers),
        "decoder_ffn_dim": state["layers.0.fc1.weight"].shape[0],
        "decoder_attention_heads": int(variables["decoder/num_heads"])
        if "decoder/num_heads" in variables
        else d_model // 64,
        "max_target_positions": state["embed_positions.weight"].shape[0],
    }
    return state, facts


def convert_ct2_whisper_full(model_bin: Path, out_folder: Path) -> None:
    """The whole model (encoder, decoder, tied LM head) plus the package's tokenizer.json and CTranslate2 config
    (its suppressed token ids), so speech can be transcribed without CTranslate2."""
    import shutil

    from transformers import WhisperConfig, WhisperForConditionalGeneration

    variables = read_ct2(model_bin)
    encoder, encoder_facts = encoder_state_dict(variables)
    decoder, decoder_facts = decoder_state_dict(variables)
    config = WhisperConfig(**encoder_facts, **decoder_facts)
    model = WhisperForConditionalGeneration(config)
    state = {f"model.encoder.{k}": v for k, v in encoder.items()} | {
        f"model.decoder.{k}": v for k, v in decoder.items()
    }
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [name for name in missing if not name.endswith("k_proj.bias") and name != "proj_out.weight"]
    if missing or unexpected:
        raise ValueError(
            f"{model_bin}: weights do not fit Whisper (missing {missing[:4]}, unexpected {unexpected[:4]})"
        )
    model.tie_weights()
    model.save_pretrained(out_folder)
    for name, target in (("tokenizer.json", "tokenizer.json"), ("config.json", "ct2_config.json")):
        if (model_bin.parent / name).is_file():
            shutil.copy(model_bin.parent / name, out_folder / target)
