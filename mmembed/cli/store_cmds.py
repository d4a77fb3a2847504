"""Subcommands on the store: index, search, status, serve."""

from __future__ import annotations

import json
import os

from ..service.limits import ServiceLimits
from .common import add_model_arguments, port_number, positive_float, positive_int

SERVICE_KEY_VARIABLE = "MMEMBED_SERVICE_KEY"


def add_store_arguments(parser) -> None:
    add_model_arguments(parser)
    parser.add_argument(
        "--store",
        default=None,
        help="embedded store folder (default ~/.local/share/mmembed/store), qdrant+path:FOLDER or :memory: "
        "for qdrant-client local mode, or http(s)://HOST:6333 for a Qdrant server",
    )
    parser.add_argument("--collection", "-c", default="media")
    parser.add_argument("--api-key", default=None, help="Qdrant server API key")


def register(subparsers) -> None:
    index = subparsers.add_parser("index", help="index the images, audio and text files under folders (incremental)")
    add_store_arguments(index)
    index.add_argument("folders", nargs="+", help="folders to walk")
    index.add_argument(
        "--batch-size", type=positive_int, default=None, help="files per batch (default 16; on Ray: 64 a GPU, 16 CPU)"
    )
    index.add_argument(
        "--include-hidden", action="store_true", help="also index hidden files and folders (.git, .cache, ...)"
    )
    index.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="run on a Ray cluster (pip install 'mmembed[ray]'): ADDRESS of a running one (ray://host:10001, auto), "
        "or none for a local cluster on this machine; into a Qdrant server (--store http(s)://...) every worker "
        "writes its own batches, into an embedded store this process is the one writer",
    )
    index.add_argument("--ray-actors", type=positive_int, default=None, help="embedding actors (default: one per GPU)")
    index.set_defaults(handler=index_folders)

    search = subparsers.add_parser("search", help="search the store by text, image or audio")
    add_store_arguments(search)
    search.add_argument("query", nargs="?", default=None, help="a text query")
    search.add_argument("--image", help="search with an image file")
    search.add_argument("--audio", help="search with an audio file")
    search.add_argument("--modality", choices=["image", "audio", "text"], help="only results of this modality")
    search.add_argument("-k", type=positive_int, default=10, help="number of results")
    search.add_argument("--json", action="store_true", help="print JSON lines")
    search.set_defaults(handler=search_store)

    ask = subparsers.add_parser("ask", help="answer a question from the indexed collection with the same model (RAG)")
    add_store_arguments(ask)
    ask.add_argument("question")
    ask.add_argument("-k", type=positive_int, default=5, help="sources to retrieve")
    ask.add_argument("--max-new-tokens", type=positive_int, default=256)
    ask.set_defaults(handler=ask_question)

    status = subparsers.add_parser("status", help="what the collection holds")
    add_store_arguments(status)
    status.set_defaults(handler=show_status)

    serve = subparsers.add_parser("serve", help="HTTP service: /embed, /search, /status, /v1/embeddings, /files")
    add_store_arguments(serve)
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=port_number, default=8765)
    serve.add_argument(
        "--service-key",
        default=os.environ.get(SERVICE_KEY_VARIABLE),
        help=f"require 'Authorization: Bearer KEY' on every request (default: ${SERVICE_KEY_VARIABLE})",
    )
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="allow binding a non-loopback address without a service key (anyone who reaches it can use it)",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        metavar="NAME",
        help="a Host header to serve (repeatable; '*' for any). Default: the loopback names, and the bound "
        "address when it is a specific one. Other names are refused (DNS rebinding)",
    )
    defaults = ServiceLimits()
    serve.add_argument(
        "--max-request-mb",
        type=positive_float,
        default=defaults.max_request_bytes / 2**20,
        help="refuse larger request bodies (default %(default)s)",
    )
    serve.add_argument(
        "--max-items", type=positive_int, default=defaults.max_items, help="inputs per request (default %(default)s)"
    )
    serve.add_argument(
        "--max-instruction-chars",
        type=positive_int,
        default=defaults.max_instruction_chars,
        help="length of a literal instruction (default %(default)s)",
    )
    serve.add_argument(
        "--max-k", type=positive_int, default=defaults.max_k, help="results per search (default %(default)s)"
    )
    serve.add_argument(
        "--max-audio-seconds",
        type=positive_float,
        default=defaults.max_audio_seconds,
        help="audio per request, summed over its items (default %(default)s)",
    )
    serve.add_argument(
        "--max-concurrent",
        type=positive_int,
        default=defaults.max_concurrent,
        help="requests embedding at once; others wait (default %(default)s)",
    )
    serve.set_defaults(handler=serve_http)


def open_client(args):
    from .. import Client

    return Client(args.model, store=args.store, collection=args.collection, device=args.device, api_key=args.api_key)


def index_folders(args) -> int:
    ray = None
    if args.ray is not None:
        from ..ray_indexer import RaySettings, import_ray

        import_ray()  # before loading the model: say how to get Ray at once
        ray = RaySettings(address=args.ray or None, actors=args.ray_actors)
    with open_client(args) as client:
        for folder in args.folders:
            report = client.index(folder, batch_size=args.batch_size, include_hidden=args.include_hidden, ray=ray)
            print(report.summary())
    return 0


def search_store(args) -> int:
    with open_client(args) as client:
        hits = client.search(args.query, image=args.image, audio=args.audio, modality=args.modality, k=args.k)
    for rank, hit in enumerate(hits, 1):
        if args.json:
            print(json.dumps({"rank": rank, "score": hit.score, "id": hit.id, **hit.payload}))
        else:
            print(
                f"{rank:>3}. {hit.score:.3f}  [{hit.payload.get('modality')}] {hit.payload.get('caption', '')}  "
                f"{hit.payload.get('path')}"
            )
    if not hits:
        print("no results (is the collection indexed? see mmembed status)")
    return 0


def ask_question(args) -> int:
    from transformers import TextStreamer

    with open_client(args) as client:
        streamer = TextStreamer(client.embedder.tokenizer, skip_prompt=True, skip_special_tokens=True)
        answer = client.ask(args.question, k=args.k, max_new_tokens=args.max_new_tokens, streamer=streamer)
    print("\nSources:\n" + answer.sources_block())
    return 0


def show_status(args) -> int:
    with open_client(args) as client:
        print(json.dumps(client.status(), indent=2))
    return 0


def serve_http(args) -> int:
    import uvicorn

    from ..service import create_app
    from ..service.security import is_loopback

    if not is_loopback(args.host) and not args.service_key and not args.insecure:
        raise ValueError(
            f"refusing to serve on {args.host} without a service key: anyone who reaches it could use it. "
            f"Set --service-key (or ${SERVICE_KEY_VARIABLE}), or pass --insecure if that is what you want"
        )
    limits = ServiceLimits(
        max_request_bytes=int(args.max_request_mb * 2**20),
        max_items=args.max_items,
        max_instruction_chars=args.max_instruction_chars,
        max_k=args.max_k,
        max_audio_seconds=args.max_audio_seconds,
        max_concurrent=args.max_concurrent,
    )
    client = open_client(args)
    app = create_app(client, limits, api_key=args.service_key, allowed_hosts=args.allowed_host, bind_host=args.host)
    guarded = "a service key required" if args.service_key else "no service key"
    print(f"mmembed serving on http://{args.host}:{args.port} ({guarded}; docs: /docs)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    client.close()
    return 0
