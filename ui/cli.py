"""``mmembed demo``: registered into the mmembed CLI as a plugin (entry point ``mmembed.commands``)."""

from __future__ import annotations

from pathlib import Path

from mmembed import DEFAULT_MODEL
from mmembed.cli.common import port_number

DEMO_COLLECTION = "demo"


def register(subparsers) -> None:
    demo = subparsers.add_parser(
        "demo", help="index the default media collection (first run only) and launch the search demo"
    )
    demo.add_argument("--model", "-m", default=DEFAULT_MODEL)
    demo.add_argument("--device", default=None)
    demo.add_argument(
        "--store", default=None, help="store location (default: the embedded store in ~/.local/share/mmembed)"
    )
    demo.add_argument(
        "--collection",
        default=None,
        help=f"collection to index and search (default: {DEMO_COLLECTION!r}, or, where an earlier default model made "
        f"it, '{DEMO_COLLECTION}-<vector space>' for this one)",
    )
    demo.add_argument("--folder", default=None, help="index this folder instead of the default Tux Paint collection")
    demo.add_argument("--data-dir", default="data", help="where the default collection and uploads go")
    demo.add_argument("--host", default="127.0.0.1", help="bind address (default: this machine only)")
    demo.add_argument("--port", type=port_number, default=7860)
    demo.add_argument("--no-launch", action="store_true", help="index, print the status and exit")
    demo.set_defaults(handler=run_demo)


def open_demo_client(args):
    """The demo's client. The default collection belongs to the model that first indexed it: when a newer default
    model finds it made by an older one, the demo indexes into a collection of its own (named by its vector space)
    instead of stopping, and says so. A collection the user named is theirs: a mismatch there stays an error."""
    from mmembed import Client
    from store import CollectionMismatchError

    def client(collection: str) -> Client:
        return Client(args.model, store=args.store, collection=collection, device=args.device)

    if args.collection:
        return client(args.collection)
    try:
        return client(DEMO_COLLECTION)
    except CollectionMismatchError as mismatch:
        own = f"{DEMO_COLLECTION}-{mismatch.wanted.model_id}"
        print(f"demo: {mismatch}\ndemo: using collection {own!r} for {args.model} instead")
        return client(own)


def run_demo(args) -> int:
    from .app import build_demo
    from .collection import default_collection

    data_dir = Path(args.data_dir).resolve()
    folder = Path(args.folder).resolve() if args.folder else default_collection(data_dir)
    client = open_demo_client(args)
    if client.store.count({"root": str(folder)}) == 0:
        print(f"demo: indexing {folder} (first run only)")
        print(client.index(folder).summary())
    print(f"demo: {client.status()['points']} items in collection {client.spec.name!r}")
    if args.no_launch:
        client.close()
        return 0
    demo = build_demo(client, upload_dir=data_dir / "uploads")
    print(f"demo: open http://{args.host}:{args.port}")
    demo.launch(
        server_name=args.host, server_port=args.port, allowed_paths=[str(data_dir), str(folder)], show_error=True
    )
    return 0
