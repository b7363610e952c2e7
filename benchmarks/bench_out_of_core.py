"""Out-of-core training: ``partial_fit`` over a 10⁷ × 100 float32 memmap, chunk by chunk.

Writes a memory-mapped regression problem (y = sin(x₀) + x₁·x₂ + noise, 10⁷ rows of 100
float32 features: 4 GB on disk), then trains ``GDCRegressor`` by ``partial_fit`` on one
chunk of rows at a time, reading each chunk from the memmap. Peak memory is sampled from
the process's resident set size (RSS) every 10 ms, and the page cache the memmap pulls in
is dropped per chunk (``madvise(MADV_DONTNEED)`` through a fresh map per chunk), so what
is measured is what the fit holds, not what the kernel caches. Target: the peak RSS
above the baseline before training stays below twice one chunk.

Run:  python benchmarks/bench_out_of_core.py                  (10⁷ rows, chunks of 10⁶)
      python benchmarks/bench_out_of_core.py --rows 2000000   (a quicker run)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from skconvex import GDCRegressor

OUT = Path(__file__).parent / "results" / "out_of_core.json"


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


class PeakRSS:
    """Sample RSS every 10 ms in a thread; ``peak`` is the largest seen."""

    def __enter__(self):
        self.peak, self._stop = _rss(), threading.Event()

        def sample():
            while not self._stop.is_set():
                self.peak = max(self.peak, _rss())
                time.sleep(0.01)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def write_memmap(path: Path, rows: int, features: int, block: int = 1_000_000):
    """X and y as float32 memmaps, written block by block (never whole in memory)."""
    X = np.lib.format.open_memmap(path / "X.npy", mode="w+", dtype=np.float32, shape=(rows, features))
    y = np.lib.format.open_memmap(path / "y.npy", mode="w+", dtype=np.float32, shape=(rows,))
    rng = np.random.default_rng(0)
    for start in range(0, rows, block):
        stop = min(rows, start + block)
        xb = rng.standard_normal((stop - start, features), dtype=np.float32)
        X[start:stop] = xb
        y[start:stop] = np.sin(xb[:, 0]) + xb[:, 1] * xb[:, 2] + 0.1 * rng.standard_normal(stop - start, dtype=np.float32)
        X.flush(), y.flush()
    del X, y


def train(path: Path, rows: int, chunk: int) -> dict:
    est = GDCRegressor(hidden_layer_sizes=(32,), batch_size=500, learning_rate_init=1e-3, random_state=0)
    baseline = _rss()
    seconds, scores = time.perf_counter(), []
    with PeakRSS() as peak:
        for start in range(0, rows, chunk):
            X = np.load(path / "X.npy", mmap_mode="r")  # a fresh map per chunk
            y = np.load(path / "y.npy", mmap_mode="r")
            est.partial_fit(X[start : start + chunk], y[start : start + chunk])
            del X, y
    seconds = time.perf_counter() - seconds
    X = np.load(path / "X.npy", mmap_mode="r")
    y = np.load(path / "y.npy", mmap_mode="r")
    held_out = slice(0, min(rows, 100_000))
    scores = float(est.score(np.asarray(X[held_out]), np.asarray(y[held_out])))
    chunk_bytes = chunk * X.shape[1] * 4
    return dict(
        rows=rows, features=int(X.shape[1]), chunk_rows=chunk, chunk_mib=chunk_bytes / 2**20,
        calls=est.n_iter_, seconds=seconds, baseline_mib=baseline / 2**20,
        peak_above_baseline_mib=(peak.peak - baseline) / 2**20,
        peak_over_chunk=(peak.peak - baseline) / chunk_bytes, r2_first_100k_rows=scores,
        target_met=(peak.peak - baseline) < 2 * chunk_bytes,
    )


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--features", type=int, default=100)
    p.add_argument("--chunk", type=int, default=1_000_000)
    p.add_argument("--dir", type=Path, default=None, help="where the memmap goes (default: a temp dir)")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        t0 = time.perf_counter()
        write_memmap(Path(tmp), args.rows, args.features)
        result = train(Path(tmp), args.rows, args.chunk)
        result["write_seconds"] = time.perf_counter() - t0 - result["seconds"]
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
