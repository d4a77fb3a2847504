"""``mmembed fetch``: fetch packaged data sources (mmembed/data/sources) and write their manifests."""

from __future__ import annotations


def register(subparsers) -> None:
    fetch = subparsers.add_parser("fetch", help="fetch a packaged data source and write its manifest")
    fetch.add_argument("sources", nargs="*", help="source names (mmembed fetch --list shows them)")
    fetch.add_argument("--list", action="store_true", help="print the known source names and exit")
    fetch.add_argument("--data-dir", default="data")
    fetch.set_defaults(handler=run_fetch)


def run_fetch(args) -> int:
    from ..data import fetch, source_names

    if args.list:
        print("\n".join(source_names()))
        return 0
    if not args.sources:
        raise ValueError(f"name at least one data source to fetch; known: {', '.join(source_names())}")
    unknown = [name for name in args.sources if name not in source_names()]
    if unknown:  # before fetching anything
        raise ValueError(f"unknown data source(s) {', '.join(unknown)}; known: {', '.join(source_names())}")
    for name in args.sources:
        print(f"fetch: {name} -> {fetch(name, args.data_dir)}")
    return 0
