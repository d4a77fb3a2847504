"""The Python client: index media folders into a store and search them across modalities.

    client = mmembed.Client()                      # the shipped trained model, embedded store in ~/.local/share/mmembed
    client.index("photos/")                        # images, audio, text files; idempotent and incremental
    client.search("a red bicycle", modality="image", k=5)
    client.search(image="query.jpg")               # image -> anything; audio= works the same way

The CLI (``mmembed index`` / ``mmembed search``), the HTTP service and the demo all go through this class.
"""

from __future__ import annotations

import os
from pathlib import Path

from store import CollectionSpec, SearchHit, StoreAddress

from .checkpoints import DEFAULT_MODEL
from .embedder import Embedder
from .fingerprint import space_id
from .indexer import IndexReport, index_folder


def model_names(model: str | Embedder) -> list[str]:
    """Names the served model answers to, the one to show first: a shipped checkpoint's name and what its alias
    resolves to (``mmembed-default`` -> ``mmembed-multisource-v6.1``), a folder's own name (never its path on this
    machine), a hub id as given."""
    from .checkpoints import ALIASES

    if isinstance(model, Embedder):
        return [(model.config.backbone or "custom").rstrip("/").split("/")[-1]]
    if model in ALIASES:
        return [model, ALIASES[model]]
    path = Path(model).expanduser()
    return [path.name or model] if path.exists() else [model]


def model_source(model: str) -> str:
    """A model name as another process should load it: an existing local folder made absolute, else as given."""
    path = Path(model).expanduser()
    return str(path.resolve()) if path.exists() else model


def default_store() -> Path:
    base = (
        os.environ.get("MMEMBED_HOME")
        or Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "mmembed"
    )
    return Path(base) / "store"


class Client:
    def __init__(
        self,
        model: str | Embedder = DEFAULT_MODEL,
        store: str | Path | None = None,
        collection: str = "media",
        device=None,
        api_key: str | None = None,
    ):
        from . import load

        self.embedder = model if isinstance(model, Embedder) else load(model, device=device)
        # what Ray workers load: a local folder by its absolute path (a worker's working directory is not ours)
        self.model_source = None if isinstance(model, Embedder) else model_source(str(model))
        self.model_id = space_id(self.embedder)
        names = model_names(model)
        self.model_name = names[-1]  # the checkpoint's own name (an alias resolved)
        self.model_names = names + [self.model_id]
        self.spec = CollectionSpec(
            collection,
            vector_name=self.model_id,
            dimension=self.embedder.dimension,
            model_id=self.model_id,
            model_name=self.model_name,
        )
        location = str(store or default_store())
        self.address = StoreAddress(location, self.spec, api_key)  # how Ray workers reach a server themselves
        self.store = self.address.open()
        # An embedded store is a folder of files: indexing must never walk into it (nor into qdrant+path: folders).
        self.store_folder = (
            None
            if location.startswith(("http://", "https://", ":memory:"))
            else Path(location.removeprefix("qdrant+path:")).expanduser().resolve()
        )

    def index(
        self,
        folder: str | Path,
        batch_size: int | None = None,
        progress: bool = True,
        on_batch=None,
        include_hidden: bool = False,
        ray=None,
    ) -> IndexReport:
        """Index a folder (incremental). Hidden files and folders (``.git``, ``.cache``) are left out unless
        ``include_hidden``; the client's own store folder is always left out.

        ray: run on a Ray cluster (``True`` or a :class:`~mmembed.ray_indexer.RaySettings`; a string is a cluster
        address): same contract, the files read, decoded and embedded by Ray workers; this process is the one writer,
        except into a Qdrant server, where every worker writes its own batches (``RaySettings.writes``)."""
        exclude = [self.store_folder] if self.store_folder else []
        if ray is not None and ray is not False:
            from .ray_indexer import RaySettings, index_folder_ray

            settings = (
                ray if isinstance(ray, RaySettings) else RaySettings(address=ray if isinstance(ray, str) else None)
            )
            settings.batch_size = settings.batch_size or batch_size  # None: chosen per device
            if self.model_source is None:
                raise ValueError(
                    "indexing on Ray loads the model on every worker: create the Client with a model name or folder, "
                    "not an Embedder object"
                )
            limits = self.embedder.modalities.input_limits()
            return index_folder_ray(
                self.model_source,
                self.store,
                self.model_id,
                limits,
                folder,
                settings,
                progress,
                include_hidden,
                exclude,
                address=self.address,
            )
        return index_folder(
            self.embedder,
            self.store,
            self.model_id,
            folder,
            16 if batch_size is None else batch_size,
            progress,
            on_batch,
            include_hidden=include_hidden,
            exclude=exclude,
        )

    def embed_query(self, query: str | None = None, image=None, audio=None):
        """Text queries get the ``query`` instruction; image/audio queries are embedded like indexed media."""
        given = [x is not None for x in (query, image, audio)]
        if sum(given) != 1:
            raise ValueError("give exactly one of query (text), image= or audio=")
        if query is not None:
            return self.embedder.encode(query, instruction="query")
        if image is not None:
            return self.embedder.encode({"image": image}, instruction="document")
        if isinstance(audio, tuple):
            return self.embedder.encode({"audio": audio[0], "sample_rate": audio[1]}, instruction="document")
        return self.embedder.encode({"audio": audio}, instruction="document")

    def search(
        self,
        query: str | None = None,
        *,
        image=None,
        audio=None,
        modality: str | None = None,
        k: int = 10,
        root: str | None = None,
        min_relevance: float | None = None,
    ) -> list[SearchHit]:
        """The ``k`` nearest items. With a calibrated model each hit carries ``relevance`` (the probability that it
        is relevant); ``min_relevance`` drops the hits below it (hits of an uncalibrated pair of modalities stay)."""
        vector = self.embed_query(query, image, audio)
        filters = {key: value for key, value in (("modality", modality), ("root", root)) if value}
        hits = self.store.search(vector, k=k, filters=filters or None)
        calibration = self.embedder.calibration
        if calibration is not None:
            query_kind = "text" if query is not None else "image" if image is not None else "audio"
            for hit in hits:
                hit.relevance = calibration.relevance(hit.score, query_kind, hit.payload.get("modality", "?"))
        if min_relevance is not None:
            hits = [hit for hit in hits if hit.relevance is None or hit.relevance >= min_relevance]
        return hits

    def good_match(self, hits: list[SearchHit]) -> bool | None:
        """Is the best hit a good match (its relevance at or above the calibration's threshold)? None when the
        model has no calibration for it."""
        if not hits or hits[0].relevance is None:
            return None if hits else False
        return hits[0].relevance >= self.embedder.calibration.threshold

    def ask(self, question: str, k: int = 5, max_new_tokens: int = 256, streamer=None, modality: str | None = None):
        """Retrieve with the embedder, answer with the same model; returns an :class:`~mmembed.rag.Answer`."""
        from .rag import ask

        return ask(self, question, k, max_new_tokens, streamer, modality)

    def status(self) -> dict:
        counts = {kind: self.store.count({"modality": kind}) for kind in ("image", "audio", "text")}
        roots = sorted({p.payload.get("root") for p in self.store.scroll()})
        return {
            "collection": self.spec.name,
            "model_id": self.model_id,
            "points": sum(counts.values()),
            "by_modality": counts,
            "roots": roots,
        }

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
