"""The ``<|embed|>`` mode-switch token: added to the tokenizer as a special token, with its own embedding row.

The new row starts as the mean of the existing rows (deterministic, unlike transformers' sampled mean-resizing),
and is saved with every model folder so a reload reproduces vectors bit-for-bit, also after training moved it.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tokenizers import AddedToken

ROWS_FILE = "mode_token_embeddings.safetensors"


def add_mode_token(model, tokenizer, token: str) -> int:
    """Add ``token`` to ``tokenizer`` and give it an embedding row in ``model``; returns its id."""
    if token not in tokenizer.get_vocab():
        tokenizer.add_tokens([AddedToken(token, special=True, normalized=False)], special_tokens=True)
        token_id = tokenizer.convert_tokens_to_ids(token)
        embeddings = model.get_input_embeddings()
        known_rows = min(embeddings.weight.shape[0], token_id)
        if token_id >= embeddings.weight.shape[0]:
            model.resize_token_embeddings(token_id + 1, mean_resizing=False)
        with torch.no_grad():
            for matrix in _embedding_matrices(model):
                matrix[token_id] = matrix[:known_rows].mean(dim=0)
    token_id = tokenizer.convert_tokens_to_ids(token)
    if token_id >= model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(token_id + 1, mean_resizing=False)
    return token_id


def _embedding_matrices(model) -> list[torch.Tensor]:
    matrices = [model.get_input_embeddings().weight]
    output = model.get_output_embeddings()
    if output is not None and output.weight.data_ptr() != matrices[0].data_ptr():
        matrices.append(output.weight)
    return matrices


def save_mode_token_rows(model, token_id: int, folder: Path) -> None:
    rows = {f"matrix{i}": matrix[token_id].detach().float().cpu().contiguous() for i, matrix in enumerate(_embedding_matrices(model))}
    save_file(rows, str(folder / ROWS_FILE), metadata={"token_id": str(token_id)})


def load_mode_token_rows(model, token_id: int, folder: Path) -> None:
    rows = load_file(str(folder / ROWS_FILE))
    with torch.no_grad():
        for i, matrix in enumerate(_embedding_matrices(model)):
            if f"matrix{i}" in rows:
                matrix[token_id] = rows[f"matrix{i}"].to(matrix.dtype)
