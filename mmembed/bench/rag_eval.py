"""RAG evaluation: one model (the embedder retrieves, the same weights answer) against a two-model set-up (MiniLM
retrieves, the same generator answers), on questions whose answers sit in WordNet glosses, in one run.

Each question is "What is <lemma>?"; the documents are "<lemma>: <gloss>" passages of the questions plus distractors.
Figures: retrieval hit@k (the gold passage among the k sources), fact hit (at least half of the gold gloss's content
words appear in the answer), seconds per question, and the peak resident memory of each set-up, measured in its own
process (``python -m mmembed.bench.rag_eval SETUP`` prints one JSON line)."""
from __future__ import annotations

import json
import random
import re
import resource
import subprocess
import sys
import time

import numpy as np

STOPWORDS = set("a an the of or and in on to for with by from that which who is are be as at its it this".split())


def wordnet_questions(count: int = 30, distractors: int = 170, seed: int = 0, split: str = "test"):
    """Questions and passages from one split of WordNet's nouns (the held-out one by default: the training recipes
    use the ``wordnet`` source's train split, with the same split rule)."""
    from ..data.wordnet import data_noun, parse_data_noun, wordnet_split

    entries = [(e["lemma"], e["gloss"]) for e in parse_data_noun(data_noun())
               if len(e["gloss"].split()) >= 4 and e["lemma"].isalpha() and wordnet_split(e) == split]
    rng = random.Random(seed)
    rng.shuffle(entries)
    seen, unique = set(), []
    for lemma, gloss in entries:
        if lemma not in seen:
            seen.add(lemma)
            unique.append((lemma, gloss))
    questions = unique[:count]
    documents = [f"{lemma}: {gloss}." for lemma, gloss in unique[: count + distractors]]
    return questions, documents


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 4 and w not in STOPWORDS}


def fact_hit(answer: str, gloss: str) -> bool:
    gold = content_words(gloss)
    return bool(gold) and len(gold & content_words(answer)) >= max(1, len(gold) // 2)


def run_setup(setup: str, k: int = 3, count: int = 30, max_new_tokens: int = 48, model_name: str = "mmembed-default") -> dict:
    """``one-model``: ``model_name`` retrieves and generates; ``two-model``: MiniLM retrieves, ``model_name`` generates."""
    import mmembed
    from mmembed.rag import PROMPT

    questions, documents = wordnet_questions(count)
    model = mmembed.load(model_name, device="cpu")
    if setup == "one-model":
        doc_vectors = model.encode(documents, instruction="document", show_progress_bar=False)
        embed_query = lambda q: model.encode(q, instruction="query")  # noqa: E731
    else:
        from ..sentence_models import minilm_embed

        doc_vectors = minilm_embed(documents, progress=False, device="cpu")
        embed_query = lambda q: minilm_embed([q], progress=False, device="cpu")[0]  # noqa: E731
    hits, facts, start = 0, 0, time.perf_counter()
    for index, (lemma, gloss) in enumerate(questions):
        question = f"What is {lemma}?"
        top = np.argsort(-(doc_vectors @ embed_query(question)))[:k]
        hits += index in top
        sources = "\n".join(f"[{n}] {documents[i]}" for n, i in enumerate(top, 1))
        answer = model.generate(PROMPT.format(sources=sources, question=question), max_new_tokens=max_new_tokens)
        facts += fact_hit(answer, gloss)
    seconds = time.perf_counter() - start
    return {"setup": setup, "model": model_name, "questions": len(questions), "documents": len(documents), "k": k,
            "hit_at_k": hits / len(questions), "fact_hit": facts / len(questions),
            "seconds_per_question": seconds / len(questions),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def compare(k: int = 3, count: int = 30, models: tuple[str, ...] = ("mmembed-default",)) -> list[dict]:
    """One-model RAG for each model, then the two-model set-up (generator: the first model), each in its own process."""
    rows = []
    for setup, model_name in [("one-model", name) for name in models] + [("two-model", models[0])]:
        output = subprocess.run([sys.executable, "-m", "mmembed.bench.rag_eval", setup, str(k), str(count), model_name],
                                capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
    return rows


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    print(json.dumps(run_setup(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), model_name=sys.argv[4])))


def kv_reuse_upper_bound(model, question: str, sources: str, repeats: int = 5) -> dict:
    """GritLM-style caching: how much generation prefill would reusing the question's key/values save, at best?

    Best case: the generation prompt *starts* with exactly the tokens the embedding pass saw (the question), the
    attention is causal (bidirectional keys/values are not the ones generation needs), so generation only has to
    prefill the rest. This times the full prefill against the prefill of the rest on top of a ready cache."""
    import copy

    import torch
    from transformers import DynamicCache

    from .timing import best_of

    tokenizer, lm = model.tokenizer, model.causal_lm
    question_ids = tokenizer(question, return_tensors="pt")["input_ids"]
    rest_ids = tokenizer("\n\nSources:\n" + sources + "\n\nAnswer:", add_special_tokens=False, return_tensors="pt")["input_ids"]
    full_ids = torch.cat([question_ids, rest_ids], dim=1)
    with torch.inference_mode(), model.generation_mode() as lm:
        prefix_cache = lm(question_ids, use_cache=True, past_key_values=DynamicCache()).past_key_values
        full = best_of(lambda: lm(full_ids, use_cache=True), repeats)
        rest = best_of(lambda: lm(rest_ids, past_key_values=copy.deepcopy(prefix_cache), use_cache=True), repeats)
    return {"question_tokens": question_ids.shape[1], "prompt_tokens": full_ids.shape[1], "full_prefill_s": full,
            "cached_prefill_s": rest, "saving": 1 - rest / full}
