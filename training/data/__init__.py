"""Training data: the manifest format and the loaders that fetch the packaged sources into it."""
from mmembed.manifest import read_manifest, split_of, write_manifest
from .tuxpaint import build_tuxpaint_manifest

SOURCES = {"tuxpaint": build_tuxpaint_manifest}

__all__ = ["read_manifest", "write_manifest", "split_of", "build_tuxpaint_manifest", "SOURCES"]
