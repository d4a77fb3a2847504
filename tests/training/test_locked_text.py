"""Locked-text alignment (training/objectives/locked_text.py): projectors learn against a frozen model's caption bank;
the text side does not move."""

import dataclasses

import pytest
import torch
from fixed_batch import fixed_batch_losses
from media_files import circle, square, write_audio
from safetensors.torch import load_file

import mmembed
from mmembed.data import write_manifest
from mmembed.training_items import FeatureItem
from training.batches import Example, TrainBatch, make_batch
from training.config import LoraSettings, TrainConfig
from training.objectives import build_objectives
from training.trainer import train

COLOURS = ["red", "blue", "green", "yellow", "purple", "orange"]


def image_examples(embedder, source="shapes"):
    images = [shape(colour) for colour in COLOURS for shape in (square, circle)]
    texts = [f"A {colour} {shape.__name__}." for colour in COLOURS for shape in (square, circle)]
    features = embedder.modalities.image_features(images)
    return [Example(FeatureItem(kind="image", features=f), t, source=source) for f, t in zip(features, texts)]


def test_projector_steps_lower_the_loss_and_leave_the_text_vectors_alone(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    assert embedder.prepare_for_training(None) == []  # no adapter asked for: the backbone is frozen
    objective = build_objectives({"locked_text": {}})["locked_text"]
    objective.prepare(embedder)
    examples = image_examples(embedder)
    objective.prepare_examples(embedder, examples, tmp_path)
    bank = objective.banks["shapes"]
    assert bank.shape == (12, embedder.dimension)
    torch.testing.assert_close(bank.norm(dim=1), torch.ones(12), atol=1e-5, rtol=0)
    texts = [e.text for e in examples]
    with torch.no_grad():
        before = embedder.embed_texts(texts, "query")
    batch = make_batch(examples, list(range(8)))
    batch.source = "shapes"
    params = list(embedder.modalities.projectors.parameters()) + list(objective.parameters())
    losses, metrics = fixed_batch_losses(objective, embedder, batch, params, steps=6, lr=3e-3)
    assert losses[-1] < losses[0], losses
    assert 0 <= metrics["bank_accuracy"] <= 1
    with torch.no_grad():
        after = embedder.embed_texts(texts, "query")
    assert torch.equal(before, after)  # the same computation on untouched weights: bit-equal
    item_to_bank = torch.nn.functional.normalize(embedder.embed_items(batch.items), dim=-1) @ bank.T
    assert item_to_bank.shape == (8, 12)  # every caption of the source is a candidate, not only the batch's


def test_the_caption_bank_is_read_back_for_the_same_model_and_captions(make_multimodal_embedder, tmp_path):
    embedder = make_multimodal_embedder()
    embedder.prepare_for_training(None)
    examples = image_examples(embedder)
    first = build_objectives({"locked_text": {}})["locked_text"]
    first.prepare_examples(embedder, examples, tmp_path)
    assert len(list(tmp_path.glob("caption-bank-*.safetensors"))) == 1
    second = build_objectives({"locked_text": {}})["locked_text"]
    second.prepare_examples(embedder, examples, tmp_path)
    assert torch.equal(first.banks["shapes"], second.banks["shapes"])
    second.prepare_examples(embedder, examples[:6], tmp_path)  # other captions: another file
    assert len(list(tmp_path.glob("caption-bank-*.safetensors"))) == 2
    with torch.no_grad():  # projectors never touch text: the next projector-only stage reads the same bank
        for parameter in embedder.modalities.projectors.parameters():
            parameter.add_(0.5)
    second.prepare_examples(embedder, examples, tmp_path)
    assert len(list(tmp_path.glob("caption-bank-*.safetensors"))) == 2
    torch.testing.assert_close(second.banks["shapes"], first.banks["shapes"], atol=0, rtol=0)
    embedder.center = torch.ones(embedder.dimension)  # another centering vector moves every text: another file
    second.prepare_examples(embedder, examples, tmp_path)
    assert len(list(tmp_path.glob("caption-bank-*.safetensors"))) == 3
    with torch.no_grad():  # another text side (a special-token row): another file
        embedder.causal_lm.get_input_embeddings().weight[embedder.special_token_ids[0]] += 1.0
    second.prepare_examples(embedder, examples, tmp_path)
    assert len(list(tmp_path.glob("caption-bank-*.safetensors"))) == 4


def test_a_trainable_backbone_text_pairs_and_unknown_sources_are_refused(make_multimodal_embedder, tmp_path):
    embedder = make_multimodal_embedder()
    embedder.prepare_for_training({"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj"]})
    objective = build_objectives({"locked_text": {}})["locked_text"]
    with pytest.raises(ValueError, match="train_backbone: false"):
        objective.prepare(embedder)
    embedder.model.requires_grad_(False)
    objective.prepare(embedder)
    text_pair = Example(FeatureItem(text="Red is a colour."), "what is red?", source="wordnet")
    with pytest.raises(ValueError, match="'wordnet' has text pairs"):
        objective.prepare_examples(embedder, image_examples(embedder) + [text_pair], tmp_path)
    objective.prepare_examples(embedder, image_examples(embedder), tmp_path)
    examples = image_examples(embedder, source="other")
    with pytest.raises(ValueError, match="no caption bank for source 'other'"):
        objective(embedder, TrainBatch([e.item for e in examples], [e.text for e in examples], source="other"))


def test_a_locked_text_stage_trains_the_projectors_and_nothing_else(
    tmp_path, tiny_backbone, tiny_open_clip, tiny_whisper
):
    media = tmp_path / "data"
    media.mkdir()
    rows = []
    for i, colour in enumerate(COLOURS):
        square(colour).save(media / f"s{i}.png")
        rows.append({"image": f"s{i}.png", "text": f"A {colour} square.", "split": "train", "source": "shapes"})
        write_audio(media / f"t{i}.wav", seconds=0.3, hz=300 + 100 * i)
        rows.append({"audio": f"t{i}.wav", "text": f"A tone at {300 + 100 * i} hertz.", "split": "train"})
    manifest = write_manifest(media / "tones.jsonl", rows)
    first_stage = TrainConfig(
        model=str(tiny_backbone),
        manifests=[str(manifest)],
        output_dir=str(tmp_path / "stage1"),
        steps=1,
        batch_size=4,
        warmup_steps=0,
        device="cpu",
        lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"]),
        model_overrides={
            "max_length": 64,
            "image_tower": {"kind": "open_clip", "model_name": tiny_open_clip},
            "audio_tower": {"source": str(tiny_whisper)},
        },
    )
    first = train(first_stage, progress=False)
    second_stage = dataclasses.replace(
        first_stage,
        model=str(first),
        model_overrides={},  # the saved folder carries its own config
        output_dir=str(tmp_path / "stage2"),
        steps=3,
        lora=None,
        train_backbone=False,
        center=False,
        batching="by_source",
        source_weights={"shapes": 0.5, "tones": 0.5},
        objectives={"locked_text": {}},
        feature_cache=str(tmp_path / "cache"),
    )
    second = train(second_stage, progress=False)
    adapter_before = load_file(str(first / "adapter" / "adapter_model.safetensors"))
    adapter_after = load_file(str(second / "adapter" / "adapter_model.safetensors"))
    assert all(torch.equal(adapter_before[k], adapter_after[k]) for k in adapter_before)
    projectors_before = load_file(str(first / "projectors.safetensors"))
    projectors_after = load_file(str(second / "projectors.safetensors"))
    assert any(not torch.equal(projectors_before[k], projectors_after[k]) for k in projectors_before)
    texts = ["A red square.", "A tone at 400 hertz.", "something else entirely"]
    before, after = mmembed.load(str(first), device="cpu"), mmembed.load(str(second), device="cpu")
    torch.testing.assert_close(
        torch.as_tensor(after.encode(texts)), torch.as_tensor(before.encode(texts)), atol=1e-6, rtol=0
    )
    assert len(list((tmp_path / "cache").glob("caption-bank-*.safetensors"))) == 2  # one bank per source
