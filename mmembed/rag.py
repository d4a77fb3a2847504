"""One-model RAG: the embedder retrieves (embedding mode) and the same loaded weights answer (generation mode).

The prompt numbers the retrieved sources - text passages, and the captions of images and sounds - and asks for
citations as [n]; the answer comes back with the sources it was given, so a reader can check every claim."""

from __future__ import annotations

from dataclasses import dataclass, field

PROMPT = (
    "Answer the question using only the numbered sources below. Cite the sources you use as [1], [2], ... "
    "If the sources do not contain the answer, say so.\n\nSources:\n{sources}\n\nQuestion: {question}"
)
SOURCE_CHARS = 700


@dataclass
class Answer:
    question: str
    text: str
    sources: list = field(default_factory=list)  # SearchHit, in the order numbered in the prompt
    prompt: str = ""

    def cited(self) -> list[int]:
        """The source numbers the answer cites."""
        return [n for n in range(1, len(self.sources) + 1) if f"[{n}]" in self.text]

    def sources_block(self) -> str:
        return "\n".join(f"[{n}] {describe(hit)}" for n, hit in enumerate(self.sources, 1))


def describe(hit) -> str:
    payload = hit.payload
    where = payload.get("relative_path") or payload.get("path", "?")
    if payload.get("modality") == "text" and payload.get("span"):
        start, end = payload["span"]
        where += f" (characters {start}-{end})"
    return f"{where}, score {hit.score:.3f}"


def source_text(hit) -> str:
    payload = hit.payload
    if payload.get("modality") == "text":
        return " ".join(payload.get("text", "").split())[:SOURCE_CHARS]
    return f"({payload.get('modality')}) {payload.get('caption', '')}"


def build_prompt(question: str, hits) -> str:
    sources = "\n".join(f"[{n}] {source_text(hit)}" for n, hit in enumerate(hits, 1))
    return PROMPT.format(sources=sources or "(none found)", question=question)


def ask(
    client, question: str, k: int = 5, max_new_tokens: int = 256, streamer=None, modality: str | None = None
) -> Answer:
    if not question or not question.strip():
        raise ValueError("ask needs a question")
    hits = client.search(question, k=k, modality=modality)
    prompt = build_prompt(question, hits)
    text = client.embedder.generate(prompt, max_new_tokens=max_new_tokens, streamer=streamer)
    return Answer(question=question, text=text.strip(), sources=hits, prompt=prompt)
