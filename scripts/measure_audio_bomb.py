"""Peak memory and time of one audio decompression bomb: a 0.5 MB FLAC of silence that declares an hour at 48 kHz,
sent to ``POST /embed`` of a service over the shipped model, and given to ``encode()`` directly. Each in a fresh
process (peak RSS is per process).

    .venv/bin/python scripts/measure_audio_bomb.py            # this checkout
    cd /tmp && PYTHONPATH=/path/to/older/checkout /path/to/.venv/bin/python /path/to/scripts/measure_audio_bomb.py
                                                              # an older one, to compare (cd: '' precedes PYTHONPATH)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile

PROBE = r"""
import base64, inspect, json, resource, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import mmembed
route, flac = sys.argv[1], Path(sys.argv[2])
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
client = mmembed.Client(mmembed.DEFAULT_MODEL, store=":memory:", device="cpu")
client.embedder.encode(["warm up"])
loaded = rss()
start = time.perf_counter()
if route == "service":
    from fastapi.testclient import TestClient
    from mmembed.service import create_app
    options = {"allowed_hosts": ["testserver"]} if "allowed_hosts" in inspect.signature(create_app).parameters else {}
    http = TestClient(create_app(client, **options))
    answer = http.post("/embed", json={"inputs": [{"audio_base64": base64.b64encode(flac.read_bytes()).decode()}]})
    outcome = f"HTTP {answer.status_code}: {answer.text[:120]}"
else:
    vector = client.embedder.encode(flac)
    outcome = f"vector of {vector.shape[0]} dims"
print(json.dumps({"route": route, "seconds": round(time.perf_counter() - start, 2), "rss_after_load_mb": round(loaded),
                  "peak_rss_mb": round(rss()), "outcome": outcome}))
"""


def hour_of_silence(path: Path, rate: int = 48_000) -> Path:
    with soundfile.SoundFile(str(path), "w", rate, 1, format="FLAC") as out:
        minute = np.zeros(rate * 60, dtype=np.float32)
        for _ in range(60):
            out.write(minute)
    return path


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        flac = hour_of_silence(Path(folder) / "hour.flac")
        print(f"{flac.name}: {flac.stat().st_size / 1e3:.0f} kB, declares 3600 s at 48 kHz")
        for route in ("service", "encode"):
            result = subprocess.run([sys.executable, "-c", PROBE, route, str(flac)], capture_output=True, text=True)
            print(result.stdout.strip() or result.stderr[-2000:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
