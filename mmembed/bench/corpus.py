"""A reproducible mixed-length English corpus, offline: paragraphs of the Python standard library's own
documentation (docstrings), re-cut to lengths drawn log-uniformly, as real corpora mix titles, sentences and pages."""

from __future__ import annotations

import importlib
import inspect
import math
import random
import re

MODULES = [
    "argparse",
    "json",
    "pathlib",
    "collections",
    "textwrap",
    "logging",
    "email.message",
    "http.client",
    "unittest",
    "csv",
    "datetime",
    "decimal",
    "fractions",
    "functools",
    "itertools",
    "shutil",
    "subprocess",
    "tarfile",
    "zipfile",
    "threading",
    "asyncio",
    "urllib.parse",
    "xml.etree.ElementTree",
    "sqlite3",
    "statistics",
    "string",
    "typing",
]


def _sentences() -> list[str]:
    words: list[str] = []
    for name in MODULES:
        module = importlib.import_module(name)
        for obj in [module, *vars(module).values()]:
            doc = (
                inspect.getdoc(obj)
                if (inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isfunction(obj))
                else None
            )
            if doc:
                words.extend(re.sub(r"\s+", " ", doc).split(" "))
    return words


def mixed_length_corpus(n_texts: int = 256, min_words: int = 3, max_words: int = 300, seed: int = 0) -> list[str]:
    words = _sentences()
    rng = random.Random(seed)
    texts = []
    for _ in range(n_texts):
        length = int(math.exp(rng.uniform(math.log(min_words), math.log(max_words))))
        start = rng.randrange(0, len(words) - length)
        texts.append(" ".join(words[start : start + length]))
    return texts
