"""Anchored multilingual distillation (training/objectives/translation_distill.py): translations move onto the
starting model's English vectors, anchors hold everything else where it was."""

import pytest
import torch
from fixed_batch import fixed_batch_losses
from media_files import circle, square, square_rows

from mmembed.training_items import FeatureItem
from training.batches import Example, make_batch
from training.objectives import build_objectives

LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}
PAIRS = [
    ("Une grenouille.", "A frog."),
    ("Un chat.", "A cat."),
    ("Un camion de pompiers.", "A fire truck."),
    ("Une pomme rouge.", "A red apple."),
    ("Un chien.", "A dog."),
    ("Une fleur.", "A flower."),
]


def translation_batch():
    examples = [Example(FeatureItem(text=english), french, source="translations-fr") for french, english in PAIRS]
    return make_batch(examples, list(range(len(examples))))


def image_batch(embedder):
    colours = ["red", "blue", "green"]
    images = [shape(colour) for colour in colours for shape in (square, circle)]
    texts = [f"A {colour} {shape.__name__}." for colour in colours for shape in (square, circle)]
    features = embedder.modalities.image_features(images)
    examples = [Example(FeatureItem(kind="image", features=f), t, source="shapes") for f, t in zip(features, texts)]
    return make_batch(examples, list(range(len(examples))))


def prepared(make_multimodal_embedder, **options):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    params = embedder.prepare_for_training(LORA)
    objective = build_objectives({"translation_distill": options})["translation_distill"]
    objective.prepare(embedder)
    return embedder, objective, params


@pytest.mark.parametrize("rank_weight", [1.0, 0.0])
def test_translations_move_toward_the_starting_english_vectors(make_multimodal_embedder, rank_weight):
    embedder, objective, params = prepared(make_multimodal_embedder, rank_weight=rank_weight)
    batch = translation_batch()
    english = [english for _, english in PAIRS]
    with torch.no_grad():
        start = torch.nn.functional.normalize(embedder.embed_texts(english, "query"), dim=-1)
    _, first = objective(embedder, batch)
    losses, last = fixed_batch_losses(objective, embedder, batch, params, steps=8, lr=3e-3)
    assert losses[-1] < losses[0], losses
    if rank_weight == 0:  # the regression alone: the translations' cosine to their originals' teacher vectors rises
        assert last["translation_cosine"] > first["translation_cosine"]
    else:  # the ranking term: each translation finds its own original among the batch's
        assert last["translation_rank"] < first["translation_rank"]
    # the teacher is the starting model: its memoised vectors are the English originals before any step
    teacher = torch.stack([objective.memory["query", text] for text in english])
    torch.testing.assert_close(teacher, start, atol=1e-5, rtol=0)


def test_the_originals_own_regression_can_be_left_to_other_anchors(make_multimodal_embedder):
    embedder, objective, _ = prepared(make_multimodal_embedder)
    assert "original_cosine" in objective(embedder, translation_batch())[1]
    embedder, objective, _ = prepared(make_multimodal_embedder, original_weight=0.0)
    loss, metrics = objective(embedder, translation_batch())
    assert "original_cosine" not in metrics
    expected = 1 - metrics["translation_cosine"] + metrics["translation_rank"]
    assert loss.item() == pytest.approx(expected, abs=1e-5)


def test_teacher_vectors_leave_the_students_weights_as_they_were(make_multimodal_embedder):
    embedder, objective, params = prepared(make_multimodal_embedder)
    fixed_batch_losses(objective, embedder, translation_batch(), params, steps=3, lr=3e-3)  # the student moved
    before = [p.detach().clone() for p in params]
    objective.teacher_queries(embedder, ["Something the teacher has not seen."])
    assert all(torch.equal(b, p) for b, p in zip(before, params))
    assert embedder.model.training  # the mode is put back too


def test_anchors_start_at_zero_and_pull_a_drifted_student_back(make_multimodal_embedder):
    embedder, objective, params = prepared(make_multimodal_embedder)
    anchors = image_batch(embedder)
    loss, metrics = objective(embedder, anchors)
    assert loss.item() == pytest.approx(0.0, abs=1e-5)  # student == teacher before any step
    fixed_batch_losses(objective, embedder, translation_batch(), params, steps=6, lr=1e-2)
    drifted, drift = objective(embedder, anchors)
    assert drifted.item() > 1e-4  # teaching French moved the images: what the anchors are there for
    losses, last = fixed_batch_losses(objective, embedder, anchors, params, steps=6, lr=3e-3)
    assert losses[-1] < losses[0], losses
    assert last["anchor_item_cosine"] > drift["anchor_item_cosine"]


def test_a_frozen_backbone_media_translations_and_mixed_batches_are_refused(make_multimodal_embedder):
    embedder = make_multimodal_embedder()
    embedder.prepare_for_training(None)
    objective = build_objectives({"translation_distill": {}})["translation_distill"]
    with pytest.raises(ValueError, match="train_backbone: true"):
        objective.prepare(embedder)
    embedder, objective, _ = prepared(make_multimodal_embedder)
    media = image_batch(embedder)
    media.source = "translations-fr"
    with pytest.raises(ValueError, match="'translations-fr': translation pairs are text rows"):
        objective(embedder, media)
    mixed = translation_batch()
    mixed.source = None
    with pytest.raises(ValueError, match="by_source"):
        objective(embedder, mixed)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        build_objectives({"translation_distill": {"temperature": 0}})


def test_a_translation_stage_trains_the_adapter_on_pairs_and_anchors(tmp_path, tiny_backbone, tiny_open_clip):
    import json

    from safetensors.torch import load_file

    from mmembed.data import write_manifest
    from training.config import LoraSettings, TrainConfig
    from training.trainer import train

    media = tmp_path / "data"
    media.mkdir()
    rows = square_rows(media)
    rows += [{"text": f, "positive": e, "split": "train", "source": "translations-fr"} for f, e in PAIRS]
    manifest = write_manifest(media / "mixed.jsonl", rows)
    first = TrainConfig(
        model=str(tiny_backbone),
        manifests=[str(manifest)],
        output_dir=str(tmp_path / "stage1"),
        steps=1,
        batch_size=4,
        warmup_steps=0,
        device="cpu",
        lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"]),
        model_overrides={"max_length": 64, "image_tower": {"kind": "open_clip", "model_name": tiny_open_clip}},
    )
    start = train(first, progress=False)
    second = TrainConfig(
        model=str(start),
        manifests=[str(manifest)],
        output_dir=str(tmp_path / "stage2"),
        steps=4,
        batch_size=4,
        warmup_steps=0,
        device="cpu",
        center=False,
        batching="by_source",
        source_weights={"shapes": 0.5, "translations-fr": 0.5},
        objectives={"translation_distill": {}},
        learning_rate=1e-3,
        log_every=1,
        feature_cache=str(tmp_path / "cache"),
    )
    done = train(second, progress=False)
    adapter_before = load_file(str(start / "adapter" / "adapter_model.safetensors"))
    adapter_after = load_file(str(done / "adapter" / "adapter_model.safetensors"))
    assert any(not torch.equal(adapter_before[k], adapter_after[k]) for k in adapter_before)
    logged = [json.loads(line) for line in (tmp_path / "stage2" / "metrics.jsonl").read_text().splitlines()]
    assert {"translation_cosine", "anchor_item_cosine"} <= {key for row in logged for key in row}
