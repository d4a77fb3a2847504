"""Our special tokens: the ``<|embed|>`` mode-switch token and the ``<image>`` / ``<audio>`` placeholders.

Each is added to the tokenizer as a special token with its own embedding row. A new row starts as the mean of the
existing rows (deterministic, unlike transformers' sampled mean-resizing), and the rows are saved with every model
folder, so a reload reproduces vectors bit-for-bit, also after training moved them.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tokenizers import AddedToken

ROWS_FILE = "special_token_embeddings.safetensors"


def add_special_token(model, tokenizer, token: str) -> int:
    """Add ``token`` to ``tokenizer`` (if new) and make sure ``model`` has an embedding row for it; returns its id."""
    if token not in tokenizer.get_vocab():
        tokenizer.add_tokens([AddedToken(token, special=True, normalized=False)], special_tokens=True)
        token_id = tokenizer.convert_tokens_to_ids(token)
        known_rows = min(model.get_input_embeddings().weight.shape[0], token_id)
        if token_id >= model.get_input_embeddings().weight.shape[0]:
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


def save_token_rows(model, token_ids: list[int], folder: Path) -> None:
    index = torch.tensor(token_ids)
    rows = {
        f"matrix{i}": matrix.detach()[index].float().cpu().contiguous()
        for i, matrix in enumerate(_embedding_matrices(model))
    }
    save_file(rows, str(folder / ROWS_FILE), metadata={"token_ids": json.dumps(token_ids)})


def saved_token_ids(folder: Path) -> list[int]:
    """The ids the special tokens' rows were saved under, in the model's order (mode token, then media tokens)."""
    from safetensors import safe_open

    with safe_open(str(folder / ROWS_FILE), "pt") as handle:
        return json.loads(handle.metadata()["token_ids"])


def add_tokens_at(tokenizer, tokens: list[str], token_ids: list[int]) -> tuple[str, int, int] | None:
    """Give ``tokenizer`` each of ``tokens`` it lacks, in order; the first ``(token, wanted id, its id)`` that lands
    on another id than ``token_ids`` names, or None when all land where wanted."""
    for token, wanted in zip(tokens, token_ids, strict=True):
        if token not in tokenizer.get_vocab():
            tokenizer.add_tokens([AddedToken(token, special=True, normalized=False)], special_tokens=True)
        given = tokenizer.convert_tokens_to_ids(token)
        if given != wanted:
            return token, wanted, given
    return None


def add_saved_tokens(tokenizer, tokens: list[str], folder: Path) -> None:
    """Give a backbone's own tokenizer the special ``tokens`` a saved model added, checking that each lands on the id
    its row was saved under (a folder without ``tokenizer/`` is rebuilt this way from its backbone)."""
    misplaced = add_tokens_at(tokenizer, tokens, saved_token_ids(folder))
    if misplaced is not None:
        token, saved_id, given = misplaced
        raise ValueError(
            f"{folder}: {token} was saved as id {saved_id} but the backbone's tokenizer gives it {given}; this folder "
            "needs its tokenizer/ folder"
        )


def load_token_rows(model, folder: Path) -> None:
    token_ids = saved_token_ids(folder)
    rows = load_file(str(folder / ROWS_FILE))
    needed = max(token_ids) + 1
    if needed > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(needed, mean_resizing=False)
    with torch.no_grad():
        for i, matrix in enumerate(_embedding_matrices(model)):
            if f"matrix{i}" in rows:
                matrix[torch.tensor(token_ids)] = rows[f"matrix{i}"].to(matrix.dtype)
