"""How much generation prefill GritLM-style key/value reuse could save in one-model RAG, at best (a speed figure)."""

from __future__ import annotations


def kv_reuse_upper_bound(model, question: str, sources: str, repeats: int = 5) -> dict:
    """GritLM-style caching: how much generation prefill would reusing the question's key/values save, at best?

    Best case: the generation prompt *starts* with exactly the tokens the embedding pass saw (the question), the
    attention is causal (bidirectional keys/values are not the ones generation needs), so generation only has to
    prefill the rest. This times the full prefill against the prefill of the rest on top of a ready cache."""
    import copy

    import torch
    from transformers import DynamicCache

    from .timing import best_of

    tokenizer = model.tokenizer
    question_ids = tokenizer(question, return_tensors="pt")["input_ids"]
    rest_ids = tokenizer("\n\nSources:\n" + sources + "\n\nAnswer:", add_special_tokens=False, return_tensors="pt")[
        "input_ids"
    ]
    full_ids = torch.cat([question_ids, rest_ids], dim=1)
    with torch.inference_mode(), model.generation_mode() as lm:
        prefix_cache = lm(question_ids, use_cache=True, past_key_values=DynamicCache()).past_key_values
        full = best_of(lambda: lm(full_ids, use_cache=True), repeats)
        rest = best_of(lambda: lm(rest_ids, past_key_values=copy.deepcopy(prefix_cache), use_cache=True), repeats)
    return {
        "question_tokens": question_ids.shape[1],
        "prompt_tokens": full_ids.shape[1],
        "full_prefill_s": full,
        "cached_prefill_s": rest,
        "saving": 1 - rest / full,
    }
