"""The media benchmarks run end to end on tiny towers (figures are printed by `mmembed bench`, never asserted)."""

import numpy as np
import torch

from mmembed.bench.media_throughput import measure_media
from mmembed.bench.soft_tokens import loo_1nn_accuracy, pitch_order_task, shape_task


def test_media_benchmark_runs(make_multimodal_embedder):
    embedder = make_multimodal_embedder()
    for kind in ("image", "audio"):
        result = measure_media(embedder, kind, items=4, batch_size=2, seconds=0.5, repeats=1)
        assert result.encode_s > 0 and result.ceiling_s > 0 and "encode / ceiling" in result.report()


def test_soft_token_tasks_and_metric():
    images, labels = shape_task(per_class=1)
    assert len(images) == 12 and sorted(set(labels)) == list(range(12))
    clips, audio_labels = pitch_order_task(per_class=1, seconds=0.5)
    assert len(clips) == 8 and len(set(audio_labels)) == 8
    features = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    assert loo_1nn_accuracy(features, np.array([0, 0, 1, 1])) == 1.0
    assert loo_1nn_accuracy(features, np.array([0, 1, 0, 1])) == 0.0
