"""Batch training: data manifests, objectives (InfoNCE, LLM2Vec, GRIT, UniMAE) and the training loop."""
