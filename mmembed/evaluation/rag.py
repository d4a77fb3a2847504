"""RAG evaluation: one model (the embedder retrieves, the same weights answer) against a two-model set-up (MiniLM
retrieves, the same generator answers), on questions whose answers sit in WordNet glosses, in one run.

Each question is "What is <lemma>?"; the documents are "<lemma>: <gloss>" passages of the questions plus distractors.
Figures: retrieval hit@k (the gold passage among the k sources), fact hit (at least half of the gold gloss's content
words appear in the answer), seconds per question, and the peak resident memory of each set-up, measured in a
process of its own (a fresh interpreter, so one set-up's memory never counts against the other's)."""

from __future__ import annotations

import multiprocessing
import random
import re
import resource
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from ..checkpoints import DEFAULT_MODEL

STOPWORDS = set("a an the of or and in on to for with by from that which who is are be as at its it this".split())


def wordnet_questions(count: int = 30, distractors: int = 170, seed: int = 0, split: str = "test"):
    """Questions and passages from one split of WordNet's nouns (the held-out one by default: the training recipes
    use the ``wordnet`` source's train split, with the same split rule)."""
    from ..data.wordnet import data_noun, parse_data_noun, wordnet_split

    entries = [
        (e["lemma"], e["gloss"])
        for e in parse_data_noun(data_noun())
        if len(e["gloss"].split()) >= 4 and e["lemma"].isalpha() and wordnet_split(e) == split
    ]
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


def run_setup(
    setup: str, k: int = 3, count: int = 30, max_new_tokens: int = 48, model_name: str = DEFAULT_MODEL
) -> dict:
    """``one-model``: ``model_name`` retrieves and generates; ``two-model``: MiniLM retrieves, ``model_name``
    generates."""
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
    return {
        "setup": setup,
        "model": model_name,
        "questions": len(questions),
        "documents": len(documents),
        "k": k,
        "hit_at_k": hits / len(questions),
        "fact_hit": facts / len(questions),
        "seconds_per_question": seconds / len(questions),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _run_setup_quietly(*args) -> dict:
    warnings.simplefilter("ignore")
    return run_setup(*args)


def compare(k: int = 3, count: int = 30, models: tuple[str, ...] = (DEFAULT_MODEL,)) -> list[dict]:
    """One-model RAG for each model, then the two-model set-up (generator: the first model), each in its own process."""
    rows = []
    for setup, model_name in [("one-model", name) for name in models] + [("two-model", models[0])]:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            rows.append(pool.submit(_run_setup_quietly, setup, k, count, 48, model_name).result())
    return rows
