"""`mmembed demo`'s collection: an older default model's collection is kept, a newer one indexes beside it."""

import argparse

import pytest

from store import CollectionMismatchError
from ui.cli import open_demo_client


def demo_args(model, store, collection=None) -> argparse.Namespace:
    return argparse.Namespace(model=str(model), store=str(store), collection=collection, device="cpu")


def test_a_new_model_indexes_beside_the_collection_an_older_one_made(tiny_backbone, tiny_qwen_backbone, tmp_path):
    store = tmp_path / "store"
    with open_demo_client(demo_args(tiny_backbone, store)) as first:
        assert first.spec.name == "demo"
    with open_demo_client(demo_args(tiny_qwen_backbone, store)) as second:
        assert second.spec.name == f"demo-{second.model_id}"
        assert second.model_id != first.model_id
    with open_demo_client(demo_args(tiny_backbone, store)) as again:  # the first model still finds its own
        assert again.spec.name == "demo" and again.model_id == first.model_id


def test_a_collection_the_user_named_stays_a_clear_error(tiny_backbone, tiny_qwen_backbone, tmp_path):
    store = tmp_path / "store"
    open_demo_client(demo_args(tiny_backbone, store, "mine")).close()
    with pytest.raises(CollectionMismatchError, match="collection 'mine' was indexed with"):
        open_demo_client(demo_args(tiny_qwen_backbone, store, "mine"))
