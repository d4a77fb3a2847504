"""Tiny random-weight backbones for unit tests: a real byte-level BPE tokenizer trained on a few sentences and a
2-layer decoder, saved as an ordinary Hugging Face folder (so the local-folder loading path is exercised too)."""

from __future__ import annotations

from pathlib import Path

import torch

CORPUS = [
    "A cat sits on the mat.",
    "A kitten is sitting on a rug.",
    "Stock markets fell sharply today.",
    "The dog runs in the park.",
    "A puppy is running on the grass.",
    "Red squares and blue circles.",
    "Listen to the sound of the ocean waves.",
    "Translate the sentence into French, please.",
    "Given a search query, retrieve the documents, images and sounds that match it.",
    "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ .,;:!?'\"()[]{}<>-_/\\|@#$%^&*+=~`",
]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<eos>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def make_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<eos>", "<|user|>", "<|assistant|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(CORPUS * 5, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<eos>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def make_backbone_folder(folder: Path, arch: str = "llama", seed: int = 0) -> Path:
    """Save a tiny random causal LM + tokenizer under ``folder``; returns it."""
    from transformers import (
        AutoModelForCausalLM,
        Gemma3TextConfig,
        LlamaConfig,
        MixtralConfig,
        OlmoeConfig,
        Qwen2Config,
        Qwen2MoeConfig,
    )

    tokenizer = make_tokenizer()
    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    moe = dict(
        num_local_experts=4,
        num_experts=4,
        num_experts_per_tok=2,
        moe_intermediate_size=32,
        shared_expert_intermediate_size=32,
        decoder_sparse_step=1,
    )
    classes = {
        "llama": LlamaConfig,
        "qwen2": Qwen2Config,
        "qwen2_moe": Qwen2MoeConfig,
        "olmoe": OlmoeConfig,
        "mixtral": MixtralConfig,
    }
    # gemma3: one sliding-window layer (window 4) and one global one, as Gemma-3 interleaves them
    gemma = dict(head_dim=8, sliding_window=4, layer_types=["sliding_attention", "full_attention"])
    classes["gemma3_text"] = Gemma3TextConfig
    extra = moe if arch in ("qwen2_moe", "olmoe", "mixtral") else gemma if arch == "gemma3_text" else {}
    config = classes[arch](**common, **extra)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


OPEN_CLIP_CONFIGS = Path(__file__).parent / "encoders" / "open_clip_configs"
TINY_OPEN_CLIP = "mmembed-tiny-vit"


def register_tiny_open_clip() -> str:
    """Register the tiny open_clip config (configs are data, as in open_clip's own registry); returns its name."""
    import open_clip

    if TINY_OPEN_CLIP not in open_clip.list_models():
        open_clip.add_model_config(OPEN_CLIP_CONFIGS)
    return TINY_OPEN_CLIP


def make_whisper_encoder_folder(folder: Path, seed: int = 0) -> Path:
    """A tiny random transformers Whisper encoder (80 mel bins, 30 s windows, as the real ones)."""
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    config = WhisperConfig(
        d_model=32,
        encoder_layers=2,
        encoder_attention_heads=2,
        encoder_ffn_dim=64,
        num_mel_bins=80,
        max_source_positions=1500,
        decoder_layers=1,
        decoder_attention_heads=2,
        vocab_size=100,
    )
    torch.manual_seed(seed)
    WhisperEncoder(config).save_pretrained(folder)
    return folder
