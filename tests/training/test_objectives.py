"""Every objective: a few steps on a fixed batch lower its loss (tiny random backbone)."""

import pytest
import torch
from fixed_batch import fixed_batch_losses

from mmembed.training_items import FeatureItem
from training.batches import TrainBatch
from training.objectives import OBJECTIVES, build_objectives

TEXTS = [
    "A cat sits on the mat.",
    "Stock markets fell sharply today.",
    "A puppy is running on the grass.",
    "Red squares and blue circles.",
    "Listen to the sound of the ocean waves.",
]


@pytest.mark.parametrize("name", ["mntp", "simcse", "next_token", "unimae"])
def test_objective_lowers_its_loss_on_a_fixed_batch(make_embedder, name):
    torch.manual_seed(0)
    embedder = make_embedder(
        attention="bidirectional" if name == "mntp" else "causal", pooling="last" if name == "unimae" else "mean"
    )
    lora = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": ["q_proj", "v_proj", "o_proj"]}
    params = embedder.prepare_for_training(lora)
    objective = build_objectives({name: {}})[name]
    batch = TrainBatch(items=[], texts=TEXTS)
    objective(embedder, batch)  # builds lazy parts (UniMAE's decoder)
    params += list(objective.parameters())

    def same_masks():  # the same masks every step: a fixed batch
        if hasattr(objective, "generator"):
            objective.generator.manual_seed(0)

    losses, metrics = fixed_batch_losses(objective, embedder, batch, params, steps=8, lr=3e-3, before_step=same_masks)
    assert losses[-1] < losses[0], losses
    assert name in metrics


def test_registry_lists_every_method():
    build_objectives({})
    assert {"infonce", "mntp", "simcse", "next_token", "unimae"} <= set(OBJECTIVES)


def test_next_token_loss_is_the_models_own_lm_loss(make_embedder):
    embedder = make_embedder()
    objective = build_objectives({"next_token": {}})["next_token"]
    loss, _ = objective(embedder, TrainBatch(items=[], texts=["A cat sits on the mat."]))
    encoded = embedder.tokenizer(["A cat sits on the mat." + embedder.tokenizer.eos_token], return_tensors="pt")
    reference = embedder.causal_lm(**encoded, labels=encoded["input_ids"]).loss
    torch.testing.assert_close(loss, reference, rtol=1e-4, atol=1e-4)


def test_infonce_hard_negatives_are_documents_and_twin_texts_are_not_negatives(make_embedder):
    """A hard negative identical to the positive passage scores exactly as the positive (it is embedded as a document),
    so the query side costs log 2; a second pair with the same text is masked, not pushed away."""
    import math

    from training.objectives.infonce import duplicate_text_mask

    torch.manual_seed(0)
    embedder = make_embedder()
    objective = build_objectives({"infonce": {"symmetric": False}})["infonce"]
    with torch.no_grad():
        loss, _ = objective(
            embedder,
            TrainBatch(
                [FeatureItem("A cat is a small feline.")], ["What is a cat?"], negatives=["A cat is a small feline."]
            ),
        )
    assert loss.item() == pytest.approx(math.log(2), abs=1e-5)

    assert duplicate_text_mask(["a", "b", "a"], 4).tolist() == [
        [False, False, True, False],
        [False] * 4,
        [True, False, False, False],
    ]
    twins = TrainBatch([FeatureItem("Meow."), FeatureItem("A purr.")], ["A cat.", "A cat."])
    with torch.no_grad():
        masked, _ = objective(embedder, twins)
        unmasked, _ = build_objectives({"infonce": {"symmetric": False, "mask_duplicate_texts": False}})["infonce"](
            embedder, twins
        )
    assert masked.item() == pytest.approx(0.0, abs=1e-6) and unmasked.item() > 0.1
