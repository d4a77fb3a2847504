"""Evaluation as a library: :func:`evaluate` runs models and peers over manifests (``mmembed eval`` is a thin shell
over it); ``tasks`` (retrieval, zero-shot, text retrieval, STS, perplexity, clustering), ``metrics``, ``peers``
(MiniLM, mpnet, LiT, the ASR cascade), ``calibration``, ``rag`` (one-model RAG against two) and ``report``."""

from .evaluate import evaluate

__all__ = ["evaluate"]
