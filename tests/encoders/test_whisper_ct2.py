"""CTranslate2 -> transformers conversion, checked on a tiny encoder written in CTranslate2's own file layout."""

import struct

import numpy as np
import pytest
import torch

from encoders.whisper_ct2 import convert_ct2_whisper, read_ct2


def write_ct2(path, variables: dict[str, np.ndarray], spec="WhisperSpec"):
    """CTranslate2 binary version 6 writer (the layout its ModelSpec._serialize documents)."""
    dtype_ids = {np.dtype(np.float32): 0, np.dtype(np.int8): 1, np.dtype(np.int16): 2, np.dtype(np.float16): 4}

    def string(handle, text):
        handle.write(struct.pack("H", len(text) + 1) + text.encode() + b"\0")

    with open(path, "wb") as handle:
        handle.write(struct.pack("I", 6))
        string(handle, spec)
        handle.write(struct.pack("I", 3) + struct.pack("I", len(variables)))
        for name, value in variables.items():
            string(handle, name)
            handle.write(struct.pack("B", value.ndim) + b"".join(struct.pack("I", d) for d in value.shape))
            handle.write(struct.pack("B", dtype_ids[value.dtype]) + struct.pack("I", value.nbytes) + value.tobytes())
        handle.write(struct.pack("I", 0))


def ct2_variables(encoder) -> dict[str, np.ndarray]:
    """The CTranslate2 names for a transformers WhisperEncoder's weights (fused QKV with a zero key bias), fp16."""
    sd = {k: v.detach().numpy().astype(np.float16) for k, v in encoder.state_dict().items()}
    out = {
        "encoder/conv1/weight": sd["conv1.weight"],
        "encoder/conv1/bias": sd["conv1.bias"],
        "encoder/conv2/weight": sd["conv2.weight"],
        "encoder/conv2/bias": sd["conv2.bias"],
        "encoder/position_encodings/encodings": sd["embed_positions.weight"],
        "encoder/layer_norm/gamma": sd["layer_norm.weight"],
        "encoder/layer_norm/beta": sd["layer_norm.bias"],
        "encoder/num_heads": np.array(encoder.config.encoder_attention_heads, dtype=np.int16),
    }
    for i in range(encoder.config.encoder_layers):
        p, a = f"layers.{i}", f"encoder/layer_{i}"
        qkv = np.concatenate([sd[f"{p}.self_attn.{n}_proj.weight"] for n in "qkv"])
        bias = np.concatenate(
            [
                sd[f"{p}.self_attn.q_proj.bias"],
                np.zeros_like(sd[f"{p}.self_attn.q_proj.bias"]),
                sd[f"{p}.self_attn.v_proj.bias"],
            ]
        )
        out |= {
            f"{a}/self_attention/linear_0/weight": qkv,
            f"{a}/self_attention/linear_0/bias": bias,
            f"{a}/self_attention/linear_1/weight": sd[f"{p}.self_attn.out_proj.weight"],
            f"{a}/self_attention/linear_1/bias": sd[f"{p}.self_attn.out_proj.bias"],
            f"{a}/self_attention/layer_norm/gamma": sd[f"{p}.self_attn_layer_norm.weight"],
            f"{a}/self_attention/layer_norm/beta": sd[f"{p}.self_attn_layer_norm.bias"],
            f"{a}/ffn/linear_0/weight": sd[f"{p}.fc1.weight"],
            f"{a}/ffn/linear_0/bias": sd[f"{p}.fc1.bias"],
            f"{a}/ffn/linear_1/weight": sd[f"{p}.fc2.weight"],
            f"{a}/ffn/linear_1/bias": sd[f"{p}.fc2.bias"],
            f"{a}/ffn/layer_norm/gamma": sd[f"{p}.final_layer_norm.weight"],
            f"{a}/ffn/layer_norm/beta": sd[f"{p}.final_layer_norm.bias"],
        }
    out["decoder/embeddings/weight"] = np.zeros((4, 2), dtype=np.float16)  # decoder variables are ignored
    return out


def test_conversion_reproduces_the_encoder(tiny_whisper, tmp_path):
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    original = WhisperEncoder.from_pretrained(tiny_whisper).eval()
    with torch.no_grad():  # fp16 storage: compare against the fp16-rounded weights
        for parameter in original.parameters():
            parameter.copy_(parameter.half().float())
    write_ct2(tmp_path / "model.bin", ct2_variables(original))
    assert read_ct2(tmp_path / "model.bin")["encoder/num_heads"] == 2
    convert_ct2_whisper(tmp_path / "model.bin", tmp_path / "converted")
    converted = WhisperEncoder.from_pretrained(tmp_path / "converted").eval()
    mel = torch.randn(1, 80, 3000)
    with torch.no_grad():
        torch.testing.assert_close(
            converted(mel).last_hidden_state, original(mel).last_hidden_state, atol=1e-5, rtol=1e-5
        )


def test_other_specs_are_refused(tmp_path):
    write_ct2(tmp_path / "model.bin", {"x": np.zeros(2, dtype=np.float32)}, spec="TransformerSpec")
    with pytest.raises(ValueError, match="not a WhisperSpec"):
        read_ct2(tmp_path / "model.bin")
