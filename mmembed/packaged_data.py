"""Fetch Debian packages' data without installing them: ``apt-get download`` + ``dpkg-deb -x`` into a data folder."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def unpack_debian_package(package: str, target: Path) -> Path:
    """Unpack ``package`` into ``target`` once (a marker file makes it idempotent); returns ``target``."""
    marker = target / f".unpacked-{package}"
    if marker.is_file():
        return target
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise FileNotFoundError(f"{package} is a Debian package: apt-get and dpkg-deb are needed to fetch it")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"fetch: apt-get download {package}")
        result = subprocess.run(["apt-get", "download", package], cwd=tmp, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"apt-get download {package} failed: {result.stderr.strip()[-300:]}")
        (deb,) = Path(tmp).glob(f"{package}_*.deb")
        print(f"fetch: unpacking {deb.name} ({deb.stat().st_size / 1e6:.0f} MB)")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    marker.touch()
    return target


def unpack_npm_package(spec: str, target: Path) -> Path:
    """``npm pack SPEC`` and unpack it into ``target`` once; returns the package folder (``target/package``)."""
    marker = target / f".unpacked-{spec.replace('/', '_')}"
    if marker.is_file():
        return target / "package"
    if not shutil.which("npm"):
        raise FileNotFoundError(f"{spec} is an npm package: npm is needed to fetch it")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"fetch: npm pack {spec}")
        result = subprocess.run(["npm", "pack", spec], cwd=tmp, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"npm pack {spec} failed: {result.stderr.strip()[-300:]}")
        (archive,) = Path(tmp).glob("*.tgz")
        subprocess.run(["tar", "xzf", str(archive), "-C", str(target)], check=True)
    marker.touch()
    return target / "package"
