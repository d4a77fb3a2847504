"""The CLIP-style peer under equal conditions (LiT: locked towers, tuned heads): the same frozen image and audio towers
as ours, a frozen all-MiniLM-L6-v2 text tower, and linear heads into a shared space trained with the symmetric CLIP
loss on the same training rows. Only the heads train, in mini-batches; the towers' pooled features of the training
pairs are kept in the peer cache, so a refit with other settings never runs the towers again, and so are each item's,
so a fit on one more source runs the towers on that source's items only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .. import serialization


def run_tower(kind: str, tower, media: list):
    """A frozen tower on decoded media: PIL images (preprocessed here, as the embedder does on the CPU) or waveforms."""
    import torch

    if kind == "image":
        return tower(torch.stack([tower.preprocess(image) for image in media]))
    return tower(media)


def file_digest(path: Path) -> str:
    """A file's bytes as a digest ("missing" when there is no such file)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


def endless_batches(size: int, batch_size: int, generator) -> Iterator:
    """Index batches over ``size`` rows, epoch after epoch, each epoch in a fresh random order; every row once per
    epoch. With ``batch_size >= size`` each batch is every row in order (the full-batch loss)."""
    import torch

    if batch_size >= size:
        while True:
            yield torch.arange(size)
    while True:
        order = torch.randperm(size, generator=generator)
        for start in range(0, size - batch_size + 1, batch_size):  # a short last batch is dropped
            yield order[start : start + batch_size]


class LiTPeer:
    """Linear heads on the frozen towers' mean-pooled features and on MiniLM's sentence vectors, into a ``dim``-d
    space; ``steps`` Adam steps on mini-batches of ``batch_size`` pairs per modality (image and audio heads share
    the text head and the temperature)."""

    name = "LiT (towers + MiniLM + linear heads)"

    def __init__(self, dim: int = 256, steps: int = 400, batch_size: int = 1024, seed: int = 0):
        import torch

        from encoders import AudioTowerConfig, ImageTowerConfig, build_audio_tower, build_image_tower

        from ..packaged_whisper import resolve_whisper_source
        from .peers import MiniLMPeer

        self.dim, self.steps, self.batch_size, self.seed = dim, steps, batch_size, seed
        audio = AudioTowerConfig()
        self.towers = {
            "image": build_image_tower(ImageTowerConfig()),
            "audio": build_audio_tower(audio, location=resolve_whisper_source(audio.source)),
        }
        self.text = MiniLMPeer()
        self.heads: dict[str, torch.nn.Linear] = {}

    def media_features(self, items, batch_size: int = 32, progress: bool = True) -> tuple[list, list[str]]:
        """Mean-pooled frozen tower features per item and its modality (None for undecodable items). Items are
        decoded one by one and run through their tower in batches of ``batch_size``."""
        from functools import partial

        import torch
        from tqdm.auto import tqdm

        from encoders.feature_memo import features_of

        from ..inputs import parse_input

        parsed, kinds = {}, ["?"] * len(items)
        for index, item in enumerate(tqdm(items, desc="LiT: decode", unit="item", disable=not progress)):
            try:
                parsed[index] = parse_input(index, item)
                kinds[index] = parsed[index].media_kind
            except ValueError:
                continue
        out = [None] * len(items)
        with tqdm(total=len(parsed), desc="LiT: towers", unit="item", disable=not progress) as bar:
            for kind, tower in self.towers.items():
                indices = [i for i in parsed if kinds[i] == kind]
                for start in range(0, len(indices), batch_size):
                    group = indices[start : start + batch_size]
                    media = [getattr(parsed[i], kind) for i in group]
                    with torch.no_grad():  # read back inside an evaluation when a model ran the same tower on them
                        features = features_of(tower, media, partial(run_tower, kind, tower))
                    for i, pooled in zip(group, features.mean(dim=1).numpy()):
                        out[i] = pooled
                    bar.update(len(group))
        return out, kinds

    def towers_key(self) -> str:
        return "".join(f"{kind}:{tower.config}|" for kind, tower in sorted(self.towers.items()))

    def pairs_key(self, rows: list[dict]) -> str:
        """What the training pairs' features depend on: the towers, the text model and every training pair's file
        bytes and text."""
        digest = hashlib.sha256(f"{self.text.name}|{self.towers_key()}".encode())
        for row in rows:
            digest.update(f"{file_digest(Path(row.get('image') or row.get('audio')))}|{row['text']}\n".encode())
        return digest.hexdigest()[:24]

    def cached_media_features(self, paths: list[Path], cache_dir: str | Path | None) -> tuple[list, list[str]]:
        """:meth:`media_features` of ``paths``, each item's kept in ``cache_dir`` (``lit-items-*.safetensors``, keyed
        by the towers and the file's bytes), so a fit on other rows (one more source) runs the towers on its new
        items only. An item's features can differ in the last bits with the batch it was first run in."""
        if not cache_dir:
            return self.media_features(paths)
        import torch
        from safetensors.torch import load_file

        towers = self.towers_key()
        keys = [hashlib.sha256(f"{towers}{file_digest(p)}".encode()).hexdigest()[:24] for p in paths]
        stored: dict[str, tuple[str, np.ndarray]] = {}
        for kept in sorted(Path(cache_dir).glob("lit-items-*.safetensors")):
            for name, value in load_file(str(kept)).items():
                kind, key = name.split(".", 1)
                stored[key] = (kind, value.numpy())
        missing: dict[str, Path] = {}
        for key, path in zip(keys, paths):
            if key not in stored:
                missing.setdefault(key, path)  # a file named twice runs once
        if missing:
            features, kinds = self.media_features(list(missing.values()))
            new = {}
            for key, feature, kind in zip(missing, features, kinds):
                if feature is not None:
                    stored[key] = (kind, feature)
                    new[f"{kind}.{key}"] = torch.from_numpy(feature)
            if new:
                name = hashlib.sha256("".join(sorted(new)).encode()).hexdigest()[:16]
                serialization.save_tensors(new, Path(cache_dir) / f"lit-items-{name}.safetensors")
        found = [stored.get(k, ("?", None)) for k in keys]  # an item that did not decode: no features
        return [feature for _, feature in found], [kind for kind, _ in found]

    def fit_key(self, pairs_key: str) -> str:
        """What the fitted heads depend on: the fit's settings and the training pairs (their :meth:`pairs_key`)."""
        settings = f"{self.dim}|{self.steps}|{self.batch_size}|{self.seed}|{pairs_key}"
        return hashlib.sha256(settings.encode()).hexdigest()[:24]

    def fit(self, rows: list[dict], cache_dir: str | Path | None = None) -> LiTPeer:
        """Train the heads on ``rows`` (their media and captions). ``cache_dir``: the fitted heads, and the training
        pairs' features they were fitted on, are saved there under keys of everything they depend on and read back
        by a later run (the same heads: the same figures; other fit settings: the towers do not run again)."""
        from safetensors.torch import load_file

        rows = [r for r in rows if "image" in r or "audio" in r]
        pairs_key = self.pairs_key(rows) if cache_dir else None  # every training file read once, for both keys
        path = Path(cache_dir) / f"lit-heads-{self.fit_key(pairs_key)}.safetensors" if cache_dir else None
        if path is not None and path.is_file():
            self.heads = self.heads_from_state(load_file(str(path)))
            print(f"LiT: heads read from {path}")
            return self
        self.fit_heads(self.training_pairs(rows, cache_dir, pairs_key))
        if path is not None:
            serialization.save_tensors(
                {f"{kind}.{name}": p for kind, h in self.heads.items() for name, p in h.state_dict().items()}, path
            )
        return self

    def training_pairs(
        self, rows: list[dict], cache_dir: str | Path | None = None, pairs_key: str | None = None
    ) -> dict:
        """``{kind: (media features (N, D), caption vectors (N, 384))}`` of the decodable training pairs, read from
        ``cache_dir`` when a run on the same pairs kept them (``pairs_key``: the rows' :meth:`pairs_key`, when the
        caller has it)."""
        import torch
        from safetensors.torch import load_file

        if cache_dir and pairs_key is None:
            pairs_key = self.pairs_key(rows)
        path = Path(cache_dir) / f"lit-pairs-{pairs_key}.safetensors" if cache_dir else None
        if path is not None and path.is_file():
            state = load_file(str(path))
            print(f"LiT: training pairs' features read from {path}")
            return {
                kind: (state[f"{kind}.media"], state[f"{kind}.text"])
                for kind in ("image", "audio")
                if f"{kind}.media" in state
            }
        features, kinds = self.cached_media_features([Path(r.get("image") or r.get("audio")) for r in rows], cache_dir)
        keep = [i for i, f in enumerate(features) if f is not None]
        if not keep:
            raise ValueError(f"LiT: none of the {len(rows)} training rows has an image or sound that decodes")
        texts = torch.from_numpy(self.text.encode([rows[i]["text"] for i in keep]))
        pairs = {}
        for kind in ("image", "audio"):
            index = [j for j, i in enumerate(keep) if kinds[i] == kind]
            if index:
                pairs[kind] = (torch.from_numpy(np.stack([features[keep[j]] for j in index])), texts[index])
        if path is not None:
            serialization.save_tensors(
                {f"{kind}.{part}": t for kind, ab in pairs.items() for part, t in zip(("media", "text"), ab)}, path
            )
        return pairs

    @staticmethod
    def heads_from_state(state: dict) -> dict:
        import torch

        heads = {}
        for kind in sorted({key.split(".")[0] for key in state}):
            weight = state[f"{kind}.weight"]
            heads[kind] = torch.nn.Linear(weight.shape[1], weight.shape[0])
            heads[kind].load_state_dict({"weight": weight, "bias": state[f"{kind}.bias"]})
        return heads

    def fit_heads(self, pairs: dict) -> None:
        import torch
        import torch.nn.functional as F
        from tqdm.auto import tqdm

        from ..contrastive import symmetric_clip_loss

        torch.manual_seed(self.seed)
        text_dim = next(iter(pairs.values()))[1].shape[1]
        self.heads = {"text": torch.nn.Linear(text_dim, self.dim)}
        for kind, (media, _) in pairs.items():
            self.heads[kind] = torch.nn.Linear(media.shape[1], self.dim)
        generator = torch.Generator().manual_seed(self.seed)
        batches = {kind: endless_batches(len(media), self.batch_size, generator) for kind, (media, _) in pairs.items()}
        scale = torch.nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))
        optimizer = torch.optim.Adam([p for h in self.heads.values() for p in h.parameters()] + [scale], lr=1e-3)
        rows = sum(len(media) for media, _ in pairs.values())
        for _ in tqdm(range(self.steps), desc="LiT: fit heads", unit="step", disable=rows < 1000):
            loss = 0.0
            for kind, (media, text) in pairs.items():
                pick = next(batches[kind])
                a = F.normalize(self.heads[kind](media[pick]), dim=-1)
                b = F.normalize(self.heads["text"](text[pick]), dim=-1)
                loss = loss + symmetric_clip_loss(a, b, scale.exp().clamp(max=100))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def encode(self, items, instruction=None, batch_size: int = 64, **_) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        items = [items] if isinstance(items, str) else list(items)
        out = np.full((len(items), self.dim), np.nan, dtype=np.float32)
        text_index = [i for i, item in enumerate(items) if isinstance(item, str)]
        media_index = [i for i, item in enumerate(items) if not isinstance(item, str)]
        with torch.no_grad():
            if text_index:
                vectors = torch.from_numpy(self.text.encode([items[i] for i in text_index]))
                out[text_index] = F.normalize(self.heads["text"](vectors), dim=-1).numpy()
            features, kinds = self.media_features(
                [items[i] for i in media_index], batch_size, progress=len(media_index) > 64
            )
            for i, feature, kind in zip(media_index, features, kinds):
                if feature is not None and kind in self.heads:
                    out[i] = F.normalize(self.heads[kind](torch.from_numpy(feature)[None]), dim=-1)[0].numpy()
        return out
