"""``mmembed bench all``: every speed figure in one run, written as one JSON file and one markdown table.

Per modality, encode() against the raw forward of towers + backbone on the same inputs (the ceiling); for text also
against a naive Hugging Face loop and all-MiniLM-L6-v2; the store's search latency and recall on real vectors, the
client's indexing against the encoder limit, and a text query end to end; the peak memory of the process. Best-of-N
timing throughout (the machines are shared)."""

from __future__ import annotations

import json
import os
import platform
import resource
from dataclasses import asdict
from pathlib import Path

import torch

from ..evaluation.report import output_paths


def machine() -> dict:
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def peak_memory() -> dict:
    memory = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if torch.cuda.is_available():
        memory["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return memory


def run_suite(
    embedder,
    texts: int = 64,
    images: int = 16,
    clips: int = 4,
    seconds: float = 5.0,
    batch_size: int = 16,
    repeats: int = 3,
    store_points: int = 10_000,
    queries: int = 100,
    name: str | None = None,
) -> dict:
    from ..client import Client
    from .media_throughput import measure_media
    from .real_vectors import wordnet_minilm_vectors
    from .store_bench import bench_indexing, bench_search
    from .text_throughput import measure

    model = f"{name} (backbone {embedder.config.backbone})" if name else str(embedder.config.backbone)
    results: dict = {"model": model, "device": str(embedder.device), "machine": machine(), "repeats": repeats}
    text = measure(embedder, n_texts=texts, batch_size=batch_size, repeats=repeats)
    results["text"] = {
        **asdict(text),
        "encode_vs_raw": text.raw_forward_s / text.encode_s,
        "encode_vs_naive": text.naive_loop_s / text.encode_s,
        "encode_vs_minilm": (text.minilm_s / text.encode_s) if text.minilm_s else None,
    }
    for kind, count in (("image", images), ("audio", clips)):
        if kind in embedder.modalities.kinds and count:
            media = measure_media(embedder, kind, count, batch_size, seconds, repeats)
            amount = media.seconds_of_audio if kind == "audio" else media.items
            results[kind] = {
                **asdict(media),
                "per_s": amount / media.encode_s,
                "ceiling_per_s": amount / media.ceiling_s,
                "encode_vs_ceiling": media.ceiling_s / media.encode_s,
            }
    real = wordnet_minilm_vectors(store_points + queries)
    results["store_search"] = bench_search(
        real[:store_points], real[store_points:], [store_points], local_queries=queries // 2
    )
    results["store_indexing"] = bench_indexing(
        lambda location: Client(embedder, store=location), embedder, repeats=min(repeats, 2)
    )
    results["memory"] = peak_memory()
    return results


def table_row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def suite_table(results: dict) -> str:
    lines = [
        f"model {results['model']} on {results['device']} ({results['machine']}), best of {results['repeats']}",
        "",
        "| measure | ours | baseline | speed ratio (> 1: ours faster) |",
        "|---|---|---|---|",
    ]
    text = results["text"]
    texts_per_s = text["texts"] / text["encode_s"]
    lines.append(
        table_row(
            "text encode() texts/s vs raw forward",
            f"{texts_per_s:.1f}",
            f"{text['texts'] / text['raw_forward_s']:.1f}",
            f"{text['encode_vs_raw']:.2f}",
        )
    )
    lines.append(
        table_row(
            "text encode() texts/s vs naive HF loop",
            f"{texts_per_s:.1f}",
            f"{text['texts'] / text['naive_loop_s']:.1f}",
            f"{text['encode_vs_naive']:.2f}",
        )
    )
    if text.get("minilm_s"):
        lines.append(
            table_row(
                "text encode() texts/s vs all-MiniLM-L6-v2",
                f"{texts_per_s:.1f}",
                f"{text['texts'] / text['minilm_s']:.1f}",
                f"{text['encode_vs_minilm']:.2f}",
            )
        )
    for kind, unit in (("image", "images/s"), ("audio", "audio-s/s")):
        if kind in results:
            media = results[kind]
            lines.append(
                table_row(
                    f"{kind} encode() {unit} vs towers + backbone",
                    f"{media['per_s']:.1f}",
                    f"{media['ceiling_per_s']:.1f}",
                    f"{media['encode_vs_ceiling']:.2f}",
                )
            )
    for row in results["store_search"]:
        label = f"search p50 ms, {row['backend']}, {row['points']} points (recall@10 {row['recall_at_10']:.3f})"
        lines.append(table_row(label, f"{row['p50_ms']:.2f}", "", ""))
    index = results["store_indexing"]
    lines.append(
        table_row(
            f"client.index() s vs encode() alone, {index['files']} files",
            f"{index['index_s']:.2f}",
            f"{index['encode_s']:.2f}",
            f"{index['ratio']:.2f}",
        )
    )
    lines.append(f"| text query end to end p50 ms | {index['query_p50_ms']:.1f} | | |")
    memory = results["memory"]
    lines.append(f"| peak resident memory MB | {memory['peak_rss_mb']:.0f} | | |")
    if "peak_cuda_mb" in memory:
        lines.append(f"| peak CUDA memory MB | {memory['peak_cuda_mb']:.0f} | | |")
    return "\n".join(lines)


def write_suite(results: dict, out: Path) -> tuple[Path, Path]:
    json_path, md_path = output_paths(out)
    json_path.write_text(json.dumps(results, indent=2, default=str))
    md_path.write_text(suite_table(results) + "\n")
    return json_path, md_path
