"""Peer models evaluated beside ours in the same run. Each peer offers the part of the Embedder interface the tasks
use (``encode(items, instruction=..., batch_size=...)``) for the modalities it covers."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class SentenceModelPeer:
    """A packaged sentence-transformers model (mmembed/sentence_models.py): mean pooling, normalised, text only."""

    name = "all-MiniLM-L6-v2"

    def encode(self, items, instruction=None, batch_size: int = 64, **_) -> np.ndarray:
        from ..sentence_models import sentence_embed

        items = [items] if isinstance(items, str) else list(items)
        if not all(isinstance(item, str) for item in items):
            raise ValueError(f"{self.name} embeds text only")
        return sentence_embed(self.name, items, batch_size=batch_size, device="cpu", progress=False)


class MiniLMPeer(SentenceModelPeer):
    name = "all-MiniLM-L6-v2"


class MPNetPeer(SentenceModelPeer):
    name = "all-mpnet-base-v2"


PEERS = {"minilm": MiniLMPeer, "mpnet": MPNetPeer}


def run_tower(kind: str, tower, media: list):
    """A frozen tower on decoded media: PIL images (preprocessed here, as the embedder does on the CPU) or waveforms."""
    import torch

    if kind == "image":
        return tower(torch.stack([tower.preprocess(image) for image in media]))
    return tower(media)


class LiTPeer:
    """A CLIP-style dual encoder under equal conditions (LiT: locked towers, tuned heads): the same frozen image and
    audio towers as ours, a frozen all-MiniLM-L6-v2 text tower, and linear heads into a shared 256-d space trained
    with the symmetric CLIP loss on the same training rows (``fit``). CPU-fast: only the heads train."""

    name = "LiT (towers + MiniLM + linear heads)"

    def __init__(self, dim: int = 256, steps: int = 400, seed: int = 0):
        import torch

        from encoders import AudioTowerConfig, ImageTowerConfig, build_audio_tower, build_image_tower

        self.dim, self.steps, self.seed = dim, steps, seed
        from ..packaged_whisper import resolve_whisper_source

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

    def fit_key(self, rows: list[dict]) -> str:
        """What the fitted heads depend on: the settings, the towers and every training pair's file bytes and text."""
        import hashlib
        from pathlib import Path

        digest = hashlib.sha256(f"{self.dim}|{self.steps}|{self.seed}|{self.text.name}|".encode())
        for kind, tower in sorted(self.towers.items()):
            digest.update(f"{kind}:{tower.config}|".encode())
        for row in rows:
            path = Path(row.get("image") or row.get("audio"))
            content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
            digest.update(f"{content}|{row['text']}\n".encode())
        return digest.hexdigest()[:24]

    def fit(self, rows: list[dict], cache_dir: str | Path | None = None) -> LiTPeer:
        """Train the heads on ``rows`` (their media and captions). ``cache_dir``: fitted heads are saved there under
        a key of everything they depend on (:meth:`fit_key`) and read back by a later run on the same rows, so
        re-running a peers table skips the towers and the fit (the figures are the same)."""
        from pathlib import Path

        from safetensors.torch import load_file, save_file

        rows = [r for r in rows if "image" in r or "audio" in r]
        path = Path(cache_dir) / f"lit-heads-{self.fit_key(rows)}.safetensors" if cache_dir else None
        if path is not None and path.is_file():
            self.heads = self.heads_from_state(load_file(str(path)))
            print(f"LiT: heads read from {path}")
            return self
        self.fit_heads(rows)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            state = {
                f"{kind}.{name}": p.detach().contiguous()
                for kind, h in self.heads.items()
                for name, p in h.state_dict().items()
            }
            partial = path.with_suffix(".tmp")
            save_file(state, str(partial))
            partial.replace(path)
        return self

    @staticmethod
    def heads_from_state(state: dict) -> dict:
        import torch

        heads = {}
        for kind in sorted({key.split(".")[0] for key in state}):
            weight = state[f"{kind}.weight"]
            heads[kind] = torch.nn.Linear(weight.shape[1], weight.shape[0])
            heads[kind].load_state_dict({"weight": weight, "bias": state[f"{kind}.bias"]})
        return heads

    def fit_heads(self, rows: list[dict]) -> None:
        from pathlib import Path

        import torch
        import torch.nn.functional as F
        from tqdm.auto import tqdm

        features, kinds = self.media_features([Path(r.get("image") or r.get("audio")) for r in rows])
        keep = [i for i, f in enumerate(features) if f is not None]
        texts = torch.from_numpy(self.text.encode([rows[i]["text"] for i in keep]))
        torch.manual_seed(self.seed)
        self.heads = {"text": torch.nn.Linear(texts.shape[1], self.dim)}
        groups = {}
        for kind in ("image", "audio"):
            index = [j for j, i in enumerate(keep) if kinds[i] == kind]
            if index:
                groups[kind] = (torch.from_numpy(np.stack([features[keep[j]] for j in index])), texts[index])
                self.heads[kind] = torch.nn.Linear(groups[kind][0].shape[1], self.dim)
        scale = torch.nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))
        optimizer = torch.optim.Adam([p for h in self.heads.values() for p in h.parameters()] + [scale], lr=1e-3)
        for _ in tqdm(range(self.steps), desc="LiT: fit heads", unit="step", disable=len(keep) < 1000):
            loss = 0.0
            for kind, (media, text) in groups.items():
                a = F.normalize(self.heads[kind](media), dim=-1)
                b = F.normalize(self.heads["text"](text), dim=-1)
                logits = scale.exp().clamp(max=100) * a @ b.T
                target = torch.arange(len(a))
                loss = loss + (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
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


PEERS["lit"] = LiTPeer


class ASRCascadePeer:
    """The speech peer: Whisper transcribes each audio item (the packaged tiny.en, greedy), all-MiniLM-L6-v2 embeds
    the transcript; text is embedded by MiniLM directly. Images get NaN rows in a mixed call, and a call of images
    alone is refused (the cascade has no eyes)."""

    name = "ASR cascade (Whisper tiny.en + MiniLM)"

    def __init__(self, source: str = "packaged:tiny.en"):
        from ..packaged_whisper import whisper_transcriber

        self.transcriber = whisper_transcriber(source)
        self.text = MiniLMPeer()
        self.transcripts: dict[int, str] = {}  # the last call's, by item position (for error analysis)

    def encode(self, items, instruction=None, batch_size: int = 64, **_) -> np.ndarray:
        from ..inputs import parse_input

        items = [items] if isinstance(items, str) else list(items)
        texts: dict[int, str] = {i: item for i, item in enumerate(items) if isinstance(item, str)}
        waves, images = {}, 0
        for i, item in enumerate(items):
            if i not in texts:
                try:
                    parsed = parse_input(i, item)
                except ValueError:
                    continue
                if parsed.media_kind == "audio":
                    waves[i] = parsed.audio
                else:
                    images += 1
        if images and not waves:
            raise ValueError(f"{self.name} embeds speech and text, not images")
        self.transcripts = dict(zip(waves, self.transcriber.transcribe(list(waves.values()), progress=len(waves) > 32)))
        texts |= self.transcripts
        out = np.full((len(items), 384), np.nan, dtype=np.float32)
        if texts:
            order = sorted(texts)
            out[order] = self.text.encode([texts[i] or " " for i in order], batch_size=batch_size)
        return out


PEERS["asr"] = ASRCascadePeer
