"""Speech recognition with Whisper (the packaged tiny.en, converted from CTranslate2, or any Whisper folder / hub id),
greedy decoding with a KV cache. The audio tower's transcript channel (``AudioTowerConfig.transcribe``) and the
ASR-cascade peer use it. Audio longer than 30 s is transcribed window by window, the texts joined. Each window's
transcript is remembered for the process (keyed by the weights, the decoding settings and the samples' bytes), so the
models of one evaluation and the ASR cascade beside them decode a clip once, not once each."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path

import torch

MEMO_WINDOWS = 100_000  # transcripts kept per process (a few MB of text): every model of an eval reuses them
_memo: OrderedDict[tuple, str] = OrderedDict()
_memo_lock = threading.Lock()


def forget_transcripts() -> None:
    """Empty the process's transcript memory (a benchmark times the work, not a lookup)."""
    with _memo_lock:
        _memo.clear()


class WhisperTranscriber:
    def __init__(
        self, location: str, device: str = "cpu", max_new_tokens: int = 96, no_speech_threshold: float | None = 0.6
    ):
        from tokenizers import Tokenizer
        from transformers import WhisperForConditionalGeneration

        from .audio_towers import WhisperAudioTower
        from .config import AudioTowerConfig

        folder = Path(location)  # a whole Whisper model's folder, with its tokenizer.json
        self.model = WhisperForConditionalGeneration.from_pretrained(folder).eval().to(device)
        self.features = WhisperAudioTower(AudioTowerConfig(), encoder=self.model.get_encoder())  # its log-mel front end
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        token = self.tokenizer.token_to_id
        self.eos = token("<|endoftext|>")
        self.prompt = [token("<|startoftranscript|>")]
        if self.model.config.vocab_size >= 51865:  # multilingual: English transcription
            self.prompt += [token("<|en|>"), token("<|transcribe|>")]
        self.prompt.append(token("<|notimestamps|>"))
        settings = (
            json.loads((folder / "ct2_config.json").read_text()) if (folder / "ct2_config.json").is_file() else {}
        )
        self.suppress = torch.tensor(settings.get("suppress_ids", []), dtype=torch.long)
        self.suppress_first = torch.tensor(settings.get("suppress_ids_begin", [self.eos]), dtype=torch.long)
        self.max_new_tokens, self.device = max_new_tokens, torch.device(device)
        # Whisper's own no-speech test: the probability of this token right after <|startoftranscript|>. Above the
        # threshold (OpenAI's default 0.6) a window holds no words, whatever the decoder would invent ("you").
        self.no_speech = next((i for i in (token("<|nospeech|>"), token("<|nocaptions|>")) if i is not None), None)
        self.no_speech_threshold = no_speech_threshold
        # what a window's transcript depends on besides its samples: the weights, the decoding settings, the numerics
        self.identity = (str(folder.resolve()), max_new_tokens, no_speech_threshold)

    @torch.no_grad()
    def transcribe(self, waveforms: list[torch.Tensor], batch_size: int = 8, progress: bool = False) -> list[str]:
        """Mono 16 kHz waveforms -> their English transcripts (each 30 s window transcribed, the texts joined);
        ``progress`` shows a bar over the batches of windows."""
        from tqdm import tqdm

        window = self.features.window_samples
        windows, owners = [], []
        for index, wave in enumerate(waveforms):
            for start in range(0, max(wave.shape[0], 1), window):
                windows.append(wave[start : start + window])
                owners.append(index)
        keys = [self._key(w) for w in windows]
        with _memo_lock:
            texts = [_memo.get(key) for key in keys]
        todo = [i for i, text in enumerate(texts) if text is None]  # windows no model of this process has heard
        starts = range(0, len(todo), batch_size)
        for start in tqdm(starts, desc="transcribe", unit="batch", disable=not progress or len(starts) < 2):
            group = todo[start : start + batch_size]
            mels = self.features.log_mel(
                torch.stack([torch.nn.functional.pad(windows[i], (0, window - windows[i].shape[0])) for i in group])
            )
            encoded = self.model.get_encoder()(mels.to(self.device)).last_hidden_state
            for i, text in zip(group, self._greedy(encoded)):
                texts[i] = text
                self._remember(keys[i], text)
        joined = [[] for _ in waveforms]
        for owner, text in zip(owners, texts):
            if text:
                joined[owner].append(text)
        return [" ".join(parts) for parts in joined]

    @torch.no_grad()
    def remember_encoded(self, windows: list[torch.Tensor], encoded: torch.Tensor) -> None:
        """Transcribe windows (at most 30 s each) whose encoder states are already computed, (B, frames, d) by this
        model's encoder or one with its weights (the audio tower's), and remember the transcripts: a later
        ``transcribe`` of the same samples decodes nothing and runs no encoder. Windows already heard are skipped."""
        if any(w.shape[0] > self.features.window_samples for w in windows):
            raise ValueError("remember_encoded takes windows of at most 30 s, each encoded alone")
        keys = [self._key(w) for w in windows]
        with _memo_lock:
            todo = [i for i, key in enumerate(keys) if key not in _memo]
        if todo:
            states = encoded[todo].to(self.device, next(self.model.parameters()).dtype)
            for i, text in zip(todo, self._greedy(states)):
                self._remember(keys[i], text)

    def _key(self, window: torch.Tensor) -> tuple:
        samples = window.detach().to("cpu", torch.float32).contiguous().numpy()
        numerics = (self.device.type, str(next(self.model.parameters()).dtype))
        return (*self.identity, *numerics, samples.shape[0], hashlib.sha256(samples.tobytes()).hexdigest())

    @staticmethod
    def _remember(key: tuple, text: str) -> None:
        with _memo_lock:
            _memo[key] = text
            _memo.move_to_end(key)
            while len(_memo) > MEMO_WINDOWS:
                _memo.popitem(last=False)

    def _greedy(self, encoded: torch.Tensor) -> list[str]:
        count = encoded.shape[0]
        tokens = torch.tensor([self.prompt] * count, device=self.device)
        done = torch.zeros(count, dtype=torch.bool, device=self.device)
        past, step_input, generated = None, tokens, []
        for step in range(self.max_new_tokens):
            out = self.model(
                encoder_outputs=(encoded,), decoder_input_ids=step_input, past_key_values=past, use_cache=True
            )
            logits, past = out.logits[:, -1].float(), out.past_key_values
            if step == 0 and self.no_speech is not None and self.no_speech_threshold is not None:
                silent = out.logits[:, 0].float().softmax(-1)[:, self.no_speech] > self.no_speech_threshold
                done |= silent  # these windows produce no text
            logits[:, self.suppress.to(self.device)] = -torch.inf
            if step == 0:
                logits[:, self.suppress_first.to(self.device)] = -torch.inf
            chosen = logits.argmax(dim=-1).masked_fill(done, self.eos)
            generated.append(chosen)
            done |= chosen == self.eos
            if done.all():
                break
            step_input = chosen[:, None]
        ids = torch.stack(generated, dim=1).tolist()
        return [
            self.tokenizer.decode(
                [t for t in row[: row.index(self.eos)] if t < self.eos]
                if self.eos in row
                else [t for t in row if t < self.eos]
            ).strip()
            for row in ids
        ]
