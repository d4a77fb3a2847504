"""The unified embedder: one decoder LLM in two modes.

Embedding mode: ``instruction + content + <|embed|>`` through the decoder (causal or bidirectional attention), pooled
into one vector. Generation mode: the same weights generate text, always causal, untouched by embedding calls.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from encoders import ImageTowerConfig, MediaError

from .attention import bidirectional_attention, bidirectional_mask
from .batching import TokenBatch, collate, length_sorted_batches
from .config import EmbedderConfig
from .errors import InvalidBatchError, InvalidInputError
from .final_shortcut import FinalShortcut
from .inputs import parse_inputs
from .modalities import Modalities, blend_shortcuts
from .output_head import apply_head
from .pooling import pool
from .sequences import SequenceBuilder, TruncationWarning, check_text
from .special_tokens import add_special_token
from .training_items import FeatureItem
from .view import View, join_views

OnError = str | Callable[[InvalidInputError], None]


def wants_progress(show_progress_bar: bool | None, batches: int) -> bool:
    """A progress bar as asked, or by default when more than 4 batches of work go to an interactive terminal."""
    return batches > 4 and sys.stderr.isatty() if show_progress_bar is None else show_progress_bar


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Embedder:
    """Text (and, through the encoders, media) -> vectors in one shared space, plus ``generate`` on the same model."""

    def __init__(self, model, tokenizer, config: EmbedderConfig, device: str | torch.device | None = None):
        self.model = model  # a causal LM, possibly wrapped by peft
        self.tokenizer = tokenizer
        self.config = config
        self.embed_token_id = add_special_token(self.causal_lm, tokenizer, config.embed_token)
        self.config.dimension = self.causal_lm.config.hidden_size
        self.modalities = Modalities(
            config.image_tower, config.audio_tower, self.hidden_size, config.projector_hidden_dim
        )
        # Decoder LLMs' pooled states share one dominant direction (SmolLM2: ~95 % of the norm, every cosine ~0.9);
        # subtracting the corpus mean before normalising leaves the part that tells inputs apart (see centering.py).
        self.center: torch.Tensor | None = None
        self.head: torch.Tensor | None = None  # the output head (output_head.py): (D, D), when fitted
        self.view: View | None = None  # a second head and shortcuts on the same states (view.py), when added
        self.final_shortcut: FinalShortcut | None = None  # maps onto the final vectors (final_shortcut.py), when fitted
        self.calibration = None  # a mmembed.calibration.Calibration: cosine -> probability of relevance, when fitted
        for kind in self.modalities.kinds:
            add_special_token(self.causal_lm, tokenizer, getattr(config, f"{kind}_token"))
        self.sequences = SequenceBuilder(tokenizer, config)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
        self._lock = threading.RLock()
        self.to(device or default_device())

    # ----------------------------------------------------------------- construction
    @classmethod
    def build(
        cls,
        backbone: str = "smollm2-135m-instruct",
        device=None,
        dtype=torch.float32,
        quantization: str | None = None,
        **config_overrides,
    ) -> Embedder:
        """A new embedder on ``backbone`` (packaged name, local folder, .gguf or hub id) with default settings;
        ``quantization="4bit"`` loads the backbone in NF4 for QLoRA training (bitsandbytes)."""
        from .backbones import get_model_spec, load_backbone

        spec = get_model_spec(backbone) or {}
        settings = {**spec.get("embedder", {}), **config_overrides, "backbone": backbone}
        config = EmbedderConfig(**settings)
        model, tokenizer = load_backbone(backbone, config.attn_implementation, dtype, quantization, device)
        return cls(model, tokenizer, config, device)

    @classmethod
    def from_pretrained(cls, folder: str | Path, device=None, dtype=torch.float32) -> Embedder:
        from .serialization import load_embedder

        return load_embedder(cls, Path(folder), device, dtype)

    def save_pretrained(self, folder: str | Path) -> Path:
        from .serialization import save_embedder

        return save_embedder(self, Path(folder))

    def to(self, device: str | torch.device) -> Embedder:
        self.device = torch.device(device)
        self.model.to(self.device)
        self.modalities.to(self.device)
        if self.center is not None:
            self.center = self.center.to(self.device)
        if self.head is not None:
            self.head = self.head.to(self.device)
        if self.view is not None:
            self.view.to(self.device)
        if self.final_shortcut is not None:
            self.final_shortcut.to(self.device)
        return self

    @contextlib.contextmanager
    def overrides(
        self,
        attention: str | None = None,
        num_tokens: dict[str, int] | None = None,
        transcribe: bool | None = None,
        shortcut_weights: dict[str, float] | None = None,
        view_shares: dict[str, float] | None = None,
        final_weights: dict[str, float] | None = None,
    ):
        """Embed with other settings inside the block (benchmarks, ablations), restored after it, even on error:
        ``attention`` (``"causal"`` / ``"bidirectional"``), ``num_tokens`` soft tokens per media kind, ``transcribe``
        the audio tower's transcript channel on or off, ``shortcut_weights`` the tower shortcuts' shares per media
        kind, ``view_shares`` the view's shares (``"text"``, ``"image"``, ``"audio"``; view.py), ``final_weights``
        the final shortcut's weights per media kind (final_shortcut.py). Other threads wait: the embedder's lock is
        held throughout."""
        if attention not in (None, "causal", "bidirectional"):
            raise ValueError(f"attention must be 'causal' or 'bidirectional', got {attention!r}")
        if transcribe is not None and "audio" not in self.modalities.kinds:
            raise ValueError("transcribe: this model has no audio tower")
        with self._lock:
            saved_config, saved_towers = self.config, dict(self.modalities.tower_configs)
            saved_view = self.view.config if self.view is not None else None
            saved_final = self.final_shortcut.config if self.final_shortcut is not None else None
            try:
                if view_shares is not None:
                    self.view.config = self._view_config_with(view_shares)  # checked first: nothing set yet
                if final_weights is not None:
                    self.final_shortcut.config = self._final_config_with(final_weights)  # checked: nothing set yet
                if attention:
                    self.config = dataclasses.replace(self.config, attention=attention)
                if shortcut_weights is not None:
                    weights = {**self.config.shortcut_weights, **shortcut_weights}
                    self.config = dataclasses.replace(self.config, shortcut_weights=weights)
                for kind, count in (num_tokens or {}).items():
                    self.modalities.set_num_tokens(kind, count)
                if transcribe is not None:
                    self.modalities.set_transcribe(transcribe)
                yield self
            finally:
                self.config = saved_config
                for kind, config in saved_towers.items():
                    self.modalities.set_num_tokens(kind, config.num_tokens)
                if "audio" in saved_towers:
                    self.modalities.set_transcribe(saved_towers["audio"].transcribe)
                if self.view is not None:
                    self.view.config = saved_view
                if self.final_shortcut is not None:
                    self.final_shortcut.config = saved_final

    def set_image_summary(self, blocks) -> None:
        """From now on every image's tower features end with an image summary of these EfficientNet-Lite0 blocks
        (``ImageTowerConfig.summary_blocks``; none: no summary), for a final image map fitted to read it
        (``mmembed fit-shortcut --final --image-summary-blocks``). The projector and the tower shortcuts read the grid
        features as before, so every vector stays as it was until such a map is fitted; saved with the model."""
        if "image" not in self.modalities.kinds:
            raise ValueError("this model has no image tower to summarise images with")
        blocks = [int(block) for block in blocks]
        checked = ImageTowerConfig(**{**self.config.image_tower, "summary_blocks": blocks})  # before anything changes
        final = self.final_shortcut
        if final is not None and "image" in final.shortcuts:
            grid = self.modalities.feature_dim("image")
            wide = grid + checked.summary_dim
            if final.shortcuts["image"].in_dim not in (grid, wide):
                raise ValueError(
                    "this model's final image map reads another image summary than these blocks give: refit it "
                    "(mmembed fit-shortcut --final) with the blocks it was fitted on"
                )
        self.modalities.set_summary_blocks(blocks)
        self.config.image_tower = {**self.config.image_tower, "summary_blocks": blocks}

    def _view_config_with(self, shares: dict[str, float]):
        """The view's config with ``shares`` (``"text"`` and media kinds) in place of its own."""
        if self.view is None:
            raise ValueError("view_shares: this model has no view")
        unknown = sorted(set(shares) - {"text", "image", "audio"})
        if unknown:
            raise ValueError(f"view_shares names {unknown}: the shares are 'text', 'image' and 'audio'")
        config = self.view.config
        media = {**config.media_shares, **{k: v for k, v in shares.items() if k != "text"}}
        return dataclasses.replace(config, text_share=shares.get("text", config.text_share), media_shares=media)

    def _final_config_with(self, weights: dict[str, float]):
        """The final shortcut's config with ``weights`` (per media kind) in place of its own."""
        if self.final_shortcut is None:
            raise ValueError("final_weights: this model has no final shortcut (mmembed fit-shortcut --final)")
        config = self.final_shortcut.config
        return dataclasses.replace(config, weights={**config.weights, **weights})  # checked by the config

    @property
    def special_token_ids(self) -> list[int]:
        return [self.tokenizer.convert_tokens_to_ids(token) for token in self.config.special_tokens]

    @property
    def causal_lm(self):
        """The transformers causal LM (LoRA layers, if any, are injected in place)."""
        return self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model

    @property
    def decoder(self):
        return self.causal_lm.get_decoder()

    @property
    def hidden_size(self) -> int:
        """The LLM's hidden size: the size of its pooled states, of the output head and of a view's part."""
        return self.config.dimension

    @property
    def dimension(self) -> int:
        """The size of the vectors ``encode`` returns: the hidden size, twice it with a view (view.py)."""
        return self.hidden_size * (2 if self.view is not None else 1)

    # ----------------------------------------------------------------- embedding mode
    def token_states(self, batch: TokenBatch, input_dropout: float = 0.0, attention: str | None = None) -> torch.Tensor:
        """Last-layer hidden states (B, T, D) in embedding mode, with gradients.

        input_dropout: dropout on the input embeddings (the noise of unsupervised SimCSE); attention: override the
        configured attention mode (LLM2Vec's MNTP always trains bidirectionally)."""
        batch = batch.to(self.device, non_blocking=True)
        decoder = self.decoder
        inputs = {"input_ids": batch.input_ids}
        if batch.media or input_dropout:
            embeds = decoder.get_input_embeddings()(batch.input_ids)
            for kind, slots in batch.media.items():
                soft = self.modalities.project(kind, slots.features).to(embeds.dtype)  # (M, K, D)
                positions = slots.starts[:, None] + torch.arange(soft.shape[1], device=embeds.device)
                embeds = embeds.index_put((slots.rows[:, None].expand_as(positions), positions), soft)
            inputs = {"inputs_embeds": F.dropout(embeds, input_dropout, training=True) if input_dropout else embeds}
        with self._lock:
            if (attention or self.config.attention) == "bidirectional":
                mask = bidirectional_mask(batch.attention_mask, decoder.dtype)
                with bidirectional_attention(decoder):
                    return decoder(**inputs, attention_mask=mask, use_cache=False).last_hidden_state
            return decoder(**inputs, attention_mask=batch.attention_mask, use_cache=False).last_hidden_state

    def centered_states(self, hidden: torch.Tensor, batch: TokenBatch) -> torch.Tensor:
        """Pooled (and centered) float32 vectors from token states, before any output head."""
        batch = batch.to(hidden.device)
        vectors = pool(hidden, batch.pool_mask, batch.last_index, self.config.pooling).float()
        return vectors - self.center if self.center is not None else vectors

    def pool_states(self, hidden: torch.Tensor, batch: TokenBatch) -> torch.Tensor:
        """Pooled (and centered, and through the output head when fitted) float32 vectors from token states."""
        return apply_head(self.centered_states(hidden, batch), self.head)

    def embed_batch(self, batch: TokenBatch, **token_state_options) -> torch.Tensor:
        """Pooled, un-normalized float32 vectors (B, D) for one collated batch, with gradients (training calls this)."""
        batch = batch.to(self.device, non_blocking=True)
        return self.pool_states(self.token_states(batch, **token_state_options), batch)

    def tokenize(self, texts: list[str], instruction: str | None = None) -> TokenBatch:
        """Texts -> one collated batch (for training and inspection; ``encode`` batches by length itself)."""
        checked = [check_text(i, text) for i, text in enumerate(texts)]
        return collate(self.sequences.tokenize(checked, instruction), self.pad_id)

    def token_counts(
        self, texts: list[str | None], instruction: str | None = None, media_kinds: list[str | None] | None = None
    ) -> list[int]:
        """How many tokens each input occupies in embedding mode, as ``encode`` runs it: after truncation, with the
        instruction, the media's soft tokens and ``<|embed|>`` (what a usage count should report). Text only is
        tokenized; no tower runs."""
        kinds = media_kinds or [None] * len(texts)
        items = [
            (text, kind, torch.empty(self.modalities.num_tokens(kind), 0) if kind else None)
            for text, kind in zip(texts, kinds)
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TruncationWarning)
            return [len(sequence.ids) for sequence in self.sequences.build(items, instruction)]

    def encode(
        self,
        inputs,
        batch_size: int = 32,
        instruction: str | None = None,
        normalize: bool | None = None,
        convert_to_tensor: bool = False,
        show_progress_bar: bool | None = None,
        on_error: OnError = "raise",
    ):
        """Embed ``inputs`` (one text or a list) -> array (N, D) in input order.

        instruction: a name from ``config.instructions`` (``"query"``, ``"document"``, ...) or a literal instruction.
        normalize: unit vectors (default: ``config.normalize``); a model with a view (view.py) always returns unit
            vectors, its two parts weighted by their shares, and media items blended by a final shortcut
            (final_shortcut.py) always come back unit length.
        on_error: ``"raise"`` (default: an :class:`InvalidBatchError` naming every bad item, before any compute),
            ``"nan"`` (bad rows come back as NaN, with a warning naming them; the rest is embedded), or a callback
            receiving each :class:`InvalidInputError` (its rows are NaN too).
        """
        single = not isinstance(inputs, (list, tuple)) or (
            isinstance(inputs, tuple) and len(inputs) == 2 and isinstance(inputs[1], int)
        )
        items = [inputs] if single else list(inputs)
        parsed, failures = parse_inputs(items, **self.modalities.input_limits())
        self._report(failures, on_error)

        states = torch.full((len(items), self.hidden_size), float("nan"))  # centered LLM states, before any head
        features = self._media_features(parsed, batch_size, on_error, show_progress_bar) if parsed else {}
        positions = [i for i in parsed if i in features or parsed[i].media_kind is None]
        media, spoken = {}, {}
        if positions:  # else every item failed: all rows stay NaN
            sequences = self.sequences.build(
                [(parsed[i].text, parsed[i].media_kind, features.get(i)) for i in positions], instruction, positions
            )
            states[positions] = self._embed_sequences(sequences, batch_size, show_progress_bar)
            media = {i: (parsed[i].media_kind, features[i]) for i in positions if i in features}
            clips = {i: parsed[i].audio for i in positions if parsed[i].media_kind == "audio"}
            spoken = self._transcript_states(clips, instruction, batch_size, show_progress_bar)
        output = self._read_out(
            states, media, spoken, self.head, self.modalities.shortcuts, self.config.shortcut_weights
        )
        if self.view is not None:
            second = self._read_out(
                states, media, spoken, self.view.head, self.view.shortcuts, self.view.config.shortcut_weights
            )
            kinds = [parsed[i].media_kind if i in parsed else None for i in range(len(items))]
            output = join_views(output, second, torch.tensor([self.view.config.share(kind) for kind in kinds]))
        elif normalize if normalize is not None else self.config.normalize:
            output = F.normalize(output, dim=-1)
        if self.final_shortcut is not None:  # its rows come back unit length, whatever ``normalize`` says
            self.final_shortcut.blend(output, media, self.device)
        if single:
            output = output[0]
        return output if convert_to_tensor else output.numpy()

    def _embed_sequences(self, sequences: list, batch_size: int, show_progress_bar: bool | None) -> torch.Tensor:
        """Centered LLM states (N, hidden size) for built sequences, in their order, before any output head; batches
        sorted by length."""
        batches = length_sorted_batches([len(s.ids) for s in sequences], batch_size)
        show_progress_bar = wants_progress(show_progress_bar, len(batches))
        chunks = []  # kept on the device: one transfer at the end, no per-batch sync
        with torch.inference_mode():
            for batch_indices in tqdm(batches, desc="encode", unit="batch", disable=not show_progress_bar):
                batch = collate([sequences[i] for i in batch_indices], self.pad_id)
                batch = batch.pin_memory() if self.device.type == "cuda" else batch
                chunks.append(self.centered_states(self.token_states(batch), batch))
            out = torch.empty(len(sequences), self.hidden_size)
            out[[i for batch_indices in batches for i in batch_indices]] = torch.cat(chunks).cpu()
        return out

    def _read_out(
        self,
        states: torch.Tensor,
        media: dict[int, tuple[str, torch.Tensor]],
        spoken: dict[int, torch.Tensor],
        head: torch.Tensor | None,
        shortcuts: torch.nn.ModuleDict,
        shortcut_weights: dict[str, float],
    ) -> torch.Tensor:
        """Vectors from centered states as one head reads them: through ``head``, media items blended with the tower
        shortcuts, clips with their transcripts' states (through the same head). ``states`` are left as they were:
        a view reads the same states after the primary (a model without a head would otherwise hand the view its
        blends, which no view was fitted on)."""
        output = apply_head(states, head).clone()
        blend_shortcuts(output, media, shortcuts, shortcut_weights, self.device)  # encoders/shortcut.py
        if spoken:
            weight = self.modalities.tower_configs["audio"].transcript_weight
            rows = list(spoken)
            words = F.normalize(apply_head(torch.stack([spoken[i] for i in rows]), head), dim=-1)
            output[rows] = (1 - weight) * F.normalize(output[rows], dim=-1) + weight * words
        return output

    def _transcript_states(
        self, waveforms: dict[int, torch.Tensor], instruction, batch_size: int, show_progress_bar: bool | None = None
    ) -> dict[int, torch.Tensor]:
        """The transcript channel (``audio_tower.transcribe``): Whisper's decoder transcribes each clip and the same
        LLM embeds the transcript as text; returns the centered states of the clips with words (a clip with an empty
        transcript keeps its audio vector). Each head reads them (``_read_out``): a clip's vector becomes the blend
        ``(1 - w) * audio + w * transcript`` of the two unit vectors (``w = transcript_weight``)."""
        config = self.modalities.tower_configs.get("audio")
        if not waveforms or config is None or not config.transcribe:
            return {}
        progress = wants_progress(show_progress_bar, math.ceil(len(waveforms) / 8))  # Whisper decodes 8 at a time
        transcripts = dict(zip(waveforms, self.modalities.transcripts(list(waveforms.values()), progress)))
        spoken = [i for i, text in transcripts.items() if text.strip()]
        if not spoken:
            return {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TruncationWarning)  # a long transcript is cut like any text
            sequences = self.sequences.build([(transcripts[i], None, None) for i in spoken], instruction)
        return dict(zip(spoken, self._embed_sequences(sequences, batch_size, False)))

    def _media_features(
        self, parsed: dict, batch_size: int, on_error: OnError, show_progress_bar: bool | None = None
    ) -> dict[int, torch.Tensor]:
        """Frozen tower features per media item, one modality at a time, in batches (a bar per modality when asked
        or when many batches go to a terminal). A batch the tower rejects is retried item by item, so one bad item
        is named and the rest kept."""
        features: dict[int, torch.Tensor] = {}
        failures = []
        for kind in ("image", "audio"):
            indices = [i for i, p in parsed.items() if p.media_kind == kind]
            if indices and kind not in self.modalities.kinds:
                failures += [InvalidInputError(i, f"<{kind}>", f"this model has no {kind} tower") for i in indices]
                continue
            run = self.modalities.image_features if kind == "image" else self.modalities.audio_features
            starts = range(0, len(indices), batch_size)
            progress = bool(indices) and wants_progress(show_progress_bar, len(starts))
            for start in tqdm(starts, desc=f"{kind} tower", unit="batch", disable=not progress):
                group = indices[start : start + batch_size]
                try:
                    out = run([getattr(parsed[i], kind) for i in group])
                    features.update(zip(group, out))
                except (MediaError, RuntimeError, ValueError):
                    for i in group:
                        try:
                            features[i] = run([getattr(parsed[i], kind)])[0]
                        except (MediaError, RuntimeError, ValueError) as error:
                            failures.append(
                                InvalidInputError(i, f"<{kind}>", f"the {kind} tower failed on it: {error}")
                            )
        self._report(failures, on_error)
        return features

    @staticmethod
    def _report(failures: list[InvalidInputError], on_error: OnError) -> None:
        if not failures:
            return
        if on_error == "raise":
            raise InvalidBatchError(failures)
        if on_error == "nan":
            warnings.warn(
                str(InvalidBatchError(failures)).replace("cannot be embedded", "were not embedded (NaN rows)"),
                stacklevel=3,
            )
        elif callable(on_error):
            for failure in failures:
                on_error(failure)
        else:
            raise ValueError(f"on_error must be 'raise', 'nan' or a callable, got {on_error!r}")

    def similarity(self, a, b) -> np.ndarray:
        """Cosine similarity matrix between two sets of vectors (normalized here, whatever they were)."""
        a, b = (
            F.normalize(torch.as_tensor(np.asarray(x), dtype=torch.float32).reshape(-1, self.dimension), dim=-1)
            for x in (a, b)
        )
        return (a @ b.T).numpy()

    # ----------------------------------------------------------------- training surface
    def embed_items(
        self, items: list[FeatureItem | str], instruction: str | None = None, **token_state_options
    ) -> torch.Tensor:
        """Pooled, un-normalized vectors (B, D) of texts and feature items, with gradients (what training embeds)."""
        built = [(i, None, None) if isinstance(i, str) else (i.text, i.kind, i.features) for i in items]
        return self.embed_batch(collate(self.sequences.build(built, instruction), self.pad_id), **token_state_options)

    def embed_texts(self, texts: list[str], instruction: str | None = None, **token_state_options) -> torch.Tensor:
        """Pooled, un-normalized vectors (B, D) of texts, with gradients."""
        return self.embed_batch(self.tokenize(texts, instruction), **token_state_options)

    def content_mask(self, batch: TokenBatch) -> torch.Tensor:
        """(B, T) True on the content tokens of a tokenized batch: pooled ones, not the ``<|embed|>`` token."""
        return batch.pool_mask.bool() & (batch.input_ids != self.embed_token_id)

    def mask_tokens(self, batch: TokenBatch, chosen: torch.Tensor) -> TokenBatch:
        """The batch with the ``chosen`` (B, T) positions replaced by the mask token (the pad token)."""
        return batch.with_input_ids(batch.input_ids.masked_fill(chosen.to(batch.input_ids.device), self.pad_id))

    def prepare_for_training(
        self,
        lora: dict | None = None,
        quantized: bool = False,
        adapter_in_generation: bool = False,
        train_backbone: bool = True,
    ) -> list[torch.nn.Parameter]:
        """Make the backbone trainable the way a stage asks, and return the backbone parameters that train.

        ``train_backbone=False``: the backbone and any adapter it has stay frozen (only projectors train; no new
        adapter is attached). Else a saved model with an adapter trains that adapter on; else ``lora`` (``r``,
        ``alpha``, ``dropout``, ``target_modules``) attaches a new LoRA adapter; else the backbone stays frozen.
        ``quantized``: the backbone
        is 4-bit (QLoRA), prepared by peft first. ``adapter_in_generation``: the adapter also trains for generation
        (GRIT's next-token objective), so ``generate`` keeps it on (see :meth:`generation_mode`). A calibration
        the model came with is dropped (``mmembed calibrate`` fits one for the trained model)."""
        self.config.adapter_in_generation = adapter_in_generation
        self.calibration = None  # training moves the cosines: a calibration fitted before it would mislead search
        from .adapters import attach_adapter, prepare_quantized

        if quantized:
            if not lora and not hasattr(self.model, "peft_config"):
                raise ValueError(
                    "quantization (QLoRA) trains a LoRA adapter on the frozen 4-bit backbone: set lora too"
                )
            self.model = prepare_quantized(self.model)
        if not train_backbone:
            self.model.requires_grad_(False)
        elif hasattr(self.model, "peft_config"):  # a saved model: an earlier stage's adapter trains on
            for name, parameter in self.model.named_parameters():
                parameter.requires_grad_("lora_" in name)
        elif lora:
            self.model = attach_adapter(self.model, lora["r"], lora["alpha"], lora["dropout"], lora["target_modules"])
        else:
            self.model.requires_grad_(False)
        self.model.train()
        return [p for p in self.model.parameters() if p.requires_grad]

    def trainable_modules(self) -> dict[str, torch.nn.Module]:
        """The parts of the model training updates and checkpoints save (the towers are frozen)."""
        return {"model": self.model, "projectors": self.modalities.projectors}

    def fit_center(
        self,
        documents: list[FeatureItem | str],
        queries: list[str] = (),
        query_instruction: str = "query",
        batch_size: int = 32,
    ) -> torch.Tensor:
        """Set the centering vector (see centering.py) from documents and queries; returns it."""
        from .centering import fit_center

        return fit_center(self, documents, queries, query_instruction, batch_size)

    # ----------------------------------------------------------------- generation mode
    @contextlib.contextmanager
    def generation_mode(self):
        """The causal LM as generation should see it: with the LoRA adapter only if it was trained for generation too
        (GRIT's next-token objective); an adapter trained for embedding alone is switched off, so generation is
        exactly the backbone's."""
        if hasattr(self.model, "disable_adapter") and not self.config.adapter_in_generation:
            with self.model.disable_adapter():
                yield self.causal_lm
        else:
            yield self.causal_lm

    def generate(
        self, prompt: str | list[dict], max_new_tokens: int = 128, chat: bool = True, **generate_kwargs
    ) -> str:
        """Generate text with the same weights, causal attention, the mode token suppressed.

        prompt: a user message (``chat=True`` wraps it in the tokenizer's chat template, when it has one), raw
        text (``chat=False``) or a list of chat messages.
        """
        messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
        if (chat or isinstance(prompt, list)) and self.tokenizer.chat_template:
            encoded = self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
            )
        else:
            encoded = self.tokenizer(prompt, return_tensors="pt")
        encoded = {k: v.to(self.device) for k, v in encoded.items() if k in ("input_ids", "attention_mask")}
        generate_kwargs.setdefault("do_sample", False)
        generate_kwargs.setdefault("pad_token_id", self.pad_id)
        suppressed = list(generate_kwargs.pop("suppress_tokens", None) or []) + [self.embed_token_id]
        with self._lock, torch.inference_mode(), self.generation_mode() as model:
            output = model.generate(
                **encoded, max_new_tokens=max_new_tokens, suppress_tokens=suppressed, **generate_kwargs
            )
        return self.tokenizer.decode(output[0, encoded["input_ids"].shape[1] :], skip_special_tokens=True)

    def __repr__(self) -> str:
        c = self.config
        return (
            f"Embedder(backbone={c.backbone!r}, dim={self.dimension}, pooling={c.pooling}, attention={c.attention}, "
            f"device={self.device})"
        )
