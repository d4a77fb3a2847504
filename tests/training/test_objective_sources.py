"""Objectives that name their sources (``sources:`` in a config): each batch trains only the objectives that claim its
source, and a config that leaves a source to no objective is refused before any tower runs."""

import dataclasses
import json

import pytest
import torch
from media_files import square_rows

from mmembed.training_items import FeatureItem
from training.batches import Example, make_batch
from training.distributed import TrainStep
from training.objectives import build_objectives, check_objective_sources

LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}
PAIRS = [("What is a cat?", "cat: a small feline."), ("What is a dog?", "dog: a domestic canine.")]


def text_batch(source: str):
    examples = [Example(FeatureItem(text=passage), query, source=source) for query, passage in PAIRS]
    return make_batch(examples, [0, 1])


def test_sources_are_shell_patterns_and_none_means_every_batch():
    built = build_objectives({"infonce": {"sources": ["wordnet", "translations-*"]}, "simcse": {}})
    assert built["infonce"].runs_on("wordnet") and built["infonce"].runs_on("translations-fr")
    assert not built["infonce"].runs_on("tuxpaint") and not built["infonce"].runs_on(None)
    assert built["simcse"].runs_on("tuxpaint") and built["simcse"].runs_on(None)
    for bad in ("wordnet", []):
        with pytest.raises(ValueError, match="infonce: sources must be a non-empty list"):
            build_objectives({"infonce": {"sources": bad}})


def test_a_batch_trains_only_the_objectives_of_its_source(make_embedder):
    torch.manual_seed(0)
    embedder = make_embedder()
    embedder.prepare_for_training(LORA)
    objectives = torch.nn.ModuleDict(
        build_objectives({"infonce": {"sources": ["wordnet"]}, "simcse": {"sources": ["captions", "emoji*"]}})
    )
    step = TrainStep(embedder, objectives)
    _, metrics = step(text_batch("wordnet"))
    assert "infonce" in metrics and "simcse" not in metrics
    _, metrics = step(text_batch("emoji-google"))
    assert "simcse" in metrics and "infonce" not in metrics
    with pytest.raises(ValueError, match="no objective runs on a batch from source 'tuxpaint'"):
        step(text_batch("tuxpaint"))


def test_configs_that_leave_a_source_unclaimed_or_mix_sources_are_refused():
    def check(settings, sources, batching):
        check_objective_sources(build_objectives(settings).values(), sources, batching)

    settings = {"infonce": {"sources": ["wordnet"]}, "translation_distill": {"sources": ["translations-*"]}}
    check(settings, ["wordnet", "translations-fr"], "by_source")
    check({"infonce": {"sources": ["wordnet"]}, "simcse": None}, ["wordnet", "x"], "by_source")
    check({"infonce": {}}, ["anything"], "mixed")  # no filters: nothing to check
    with pytest.raises(ValueError, match=r"no objective runs on the sources \['tuxpaint'\]"):
        check(settings, ["wordnet", "tuxpaint", "translations-ja"], "by_source")
    with pytest.raises(ValueError, match="need batching: by_source"):
        check(settings, ["wordnet"], "mixed")


def test_a_stage_with_objectives_by_source_logs_each_sources_own_metrics(tmp_path, tiny_backbone, tiny_open_clip):
    """Images anchored (translation_distill) and text pairs contrasted (infonce) in one stage, each on its sources;
    a source with zero weight needs no objective."""
    from mmembed.data import write_manifest
    from training.config import LoraSettings, TrainConfig
    from training.trainer import train

    media = tmp_path / "data"
    media.mkdir()
    rows = square_rows(media)
    rows += [{"text": q, "positive": p, "split": "train", "source": "wordnet"} for q, p in PAIRS * 2]
    rows += [{"text": q, "positive": p, "split": "train", "source": "unused"} for q, p in PAIRS]
    manifest = write_manifest(media / "mixed.jsonl", rows)
    common = dict(
        manifests=[str(manifest)],
        warmup_steps=0,
        device="cpu",
        batch_size=4,
        feature_cache=str(tmp_path / "cache"),
        lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"]),
    )
    overrides = {"max_length": 64, "image_tower": {"kind": "open_clip", "model_name": tiny_open_clip}}
    first = TrainConfig(
        model=str(tiny_backbone), output_dir=str(tmp_path / "s1"), steps=1, model_overrides=overrides, **common
    )
    start = train(first, progress=False)
    stage = TrainConfig(
        model=str(start),
        output_dir=str(tmp_path / "s2"),
        steps=6,
        center=False,
        batching="by_source",
        source_weights={"shapes": 0.5, "wordnet": 0.5, "unused": 0.0},
        objectives={"infonce": {"sources": ["wordnet"]}, "translation_distill": {"sources": ["shapes"]}},
        log_every=1,
        **common,
    )
    train(stage, progress=False)
    logged = [json.loads(line) for line in (tmp_path / "s2" / "metrics.jsonl").read_text().splitlines()]
    assert {row["source"] for row in logged} == {"shapes", "wordnet"}
    for row in logged:
        assert ("infonce" in row) == (row["source"] == "wordnet")
        assert ("anchor_item_cosine" in row) == (row["source"] == "shapes")
    unclaimed = dataclasses.replace(stage, source_weights={"shapes": 0.5, "wordnet": 0.4, "unused": 0.1})
    with pytest.raises(ValueError, match=r"no objective runs on the sources \['unused'\]"):
        train(unclaimed, progress=False)
