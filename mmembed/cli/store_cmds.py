"""Subcommands on the store: index, search, status, serve."""
from __future__ import annotations

import json

from .common import add_model_arguments


def add_store_arguments(parser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--store", default=None,
                        help="embedded store folder (default ~/.local/share/mmembed/store), qdrant+path:FOLDER or :memory: "
                             "for qdrant-client local mode, or http(s)://HOST:6333 for a Qdrant server")
    parser.add_argument("--collection", "-c", default="media")
    parser.add_argument("--api-key", default=None, help="Qdrant server API key")


def register(subparsers) -> None:
    index = subparsers.add_parser("index", help="index the images, audio and text files under folders (incremental)")
    add_store_arguments(index)
    index.add_argument("folders", nargs="+", help="folders to walk")
    index.add_argument("--batch-size", type=int, default=16)
    index.set_defaults(handler=index_folders)

    search = subparsers.add_parser("search", help="search the store by text, image or audio")
    add_store_arguments(search)
    search.add_argument("query", nargs="?", default=None, help="a text query")
    search.add_argument("--image", help="search with an image file")
    search.add_argument("--audio", help="search with an audio file")
    search.add_argument("--modality", choices=["image", "audio", "text"], help="only results of this modality")
    search.add_argument("-k", type=int, default=10, help="number of results")
    search.add_argument("--json", action="store_true", help="print JSON lines")
    search.set_defaults(handler=search_store)

    ask = subparsers.add_parser("ask", help="answer a question from the indexed collection with the same model (RAG)")
    add_store_arguments(ask)
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=5, help="sources to retrieve")
    ask.add_argument("--max-new-tokens", type=int, default=256)
    ask.set_defaults(handler=ask_question)

    status = subparsers.add_parser("status", help="what the collection holds")
    add_store_arguments(status)
    status.set_defaults(handler=show_status)

    serve = subparsers.add_parser("serve", help="HTTP service: /embed, /search, /status, /v1/embeddings, /files")
    add_store_arguments(serve)
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--max-request-mb", type=float, default=16.0, help="refuse larger request bodies")
    serve.set_defaults(handler=serve_http)


def open_client(args):
    from .. import Client

    return Client(args.model, store=args.store, collection=args.collection, device=args.device, api_key=args.api_key)


def index_folders(args) -> int:
    with open_client(args) as client:
        for folder in args.folders:
            print(client.index(folder, batch_size=args.batch_size).summary())
    return 0


def search_store(args) -> int:
    with open_client(args) as client:
        hits = client.search(args.query, image=args.image, audio=args.audio, modality=args.modality, k=args.k)
    for rank, hit in enumerate(hits, 1):
        if args.json:
            print(json.dumps({"rank": rank, "score": hit.score, "id": hit.id, **hit.payload}))
        else:
            print(f"{rank:>3}. {hit.score:.3f}  [{hit.payload.get('modality')}] {hit.payload.get('caption', '')}  {hit.payload.get('path')}")
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

    client = open_client(args)
    app = create_app(client, max_request_bytes=int(args.max_request_mb * 1024 * 1024))
    print(f"mmembed serving on http://{args.host}:{args.port}  (docs: http://{args.host}:{args.port}/docs)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    client.close()
    return 0
