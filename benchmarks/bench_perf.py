"""Performance suite: skconvex against a hand-written torch loop, skorch and scikit-learn.

What it measures (``bench_cost.py`` keeps the predict latency and its own MNIST-sized
timing; this script adds what that one lacks):

1. **Same nets, data and epochs** on digits (64-256-10 MLP), MNIST (784-300-10 MLP)
   and LeNet-5 on MNIST: time per epoch, peak memory of the fit and test accuracy for
   skconvex, a hand-written torch loop, skorch's ``NeuralNetClassifier`` and
   scikit-learn's ``MLPClassifier`` (MLPs only). skconvex and the hand loop train the
   *same torch module* (built by ``skconvex.nn.build_module`` with the estimator's own
   arguments) on squared error against ±1 codes; skorch trains that module with identity
   outputs on cross-entropy; all use Adam (lr 1e-3), batch 200, shuffling, no weight
   decay.
2. **Criterion cost**: NRAE and RAE over plain MSE, same network and optimizer
   (RAE = GDC's second stage, the normalized-gradient step, with SGD + momentum).
3. **z-statistics cost** (``skconvex.pruning.z_statistics`` on the whole training set,
   both variances) over one training epoch.
4. **Scale**: peak memory that fitting on 10⁶ × 100 float32 adds (and predicting on it),
   in units of X's size.
5. **GridSearchCV** with ``n_jobs=1``, ``n_jobs=2`` (loky) and on a ``dask.distributed``
   ``LocalCluster`` (2 worker processes, 1 thread each) through joblib's dask backend.

Method
------
*Time per epoch* is (min t(2k epochs) − min t(k epochs)) / k over ``repeats``, so set-up
(validation, building the network, moving data, skconvex's first pass over the training
set) cancels, and taking each duration's minimum drops the noise that set-up adds (page
faults of large allocations vary from run to run); after one warm-up fit, with the
contenders taking turns in every repeat (a slow phase of the machine hits them all
alike). Timings run in this process with torch's default thread count.

*Peak memory* cannot come from ``tracemalloc`` (blind to torch's allocator). Each
contender fits in a **fresh Python subprocess** that imports everything, loads the data
and does a tiny warm-up fit (so code pages, thread pools and lazy imports are not
counted); then the kernel's peak-RSS counter is reset (``/proc/self/clear_refs``, value 5)
and ``VmHWM − VmRSS before the fit`` is what the fit added. Where that counter cannot be
reset (not Linux), a psutil thread samples the RSS every millisecond instead; the JSON
says which method was used. The same subprocess gives the test accuracy after the same
number of epochs.

Run:  python benchmarks/bench_perf.py            (full, about 11 min on 2 cores)
      python benchmarks/bench_perf.py --quick    (smoke, about 2 min)
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DEFAULT_OUT,
    command_line,
    environment,
    fmt_g,
    git_state,
    header_block,
    md_table,
    now_iso,
    write_results,
)

from skconvex import GDCClassifier  # noqa: E402
from skconvex.datasets import load_mnist  # noqa: E402
from skconvex.nn import build_module  # noqa: E402
from skconvex.pruning import z_statistics  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)

TITLE = "Performance: skconvex vs a hand-written loop, skorch and scikit-learn"
DATA_HOME = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MiB = 2.0**20

# ------------------------------------------------------------------------- cases
#: Full-size settings. ``acc_epochs``: epochs of the memory/accuracy fits; ``k`` and
#: ``repeats``: the timing; ``timing_rows``: training rows used for the timing and the
#: z-statistics (None: all), to keep LeNet-5 within the time budget; ``z_rows``: the
#: z-statistics use only the first z_rows of those (their cost and an epoch's are both
#: linear in the rows, so the ratio compares z on z_rows with an epoch scaled to z_rows).
CASES = {
    "digits": dict(
        title="digits, MLP 64-256-10", data="digits", net="mlp", hidden=256, batch=200,
        acc_epochs=100, k=40, repeats=7, timing_rows=None, z_repeats=5,
    ),
    "mnist_mlp": dict(
        title="MNIST, MLP 784-300-10", data="mnist", net="mlp", hidden=300, batch=200,
        acc_epochs=10, k=2, repeats=4, timing_rows=None, z_repeats=3,
    ),
    "mnist_lenet5": dict(
        title="MNIST, LeNet-5", data="mnist", net="lenet5", hidden=None, batch=200,
        acc_epochs=5, k=2, repeats=3, timing_rows=12000, z_repeats=1, z_rows=6000,
    ),
}
QUICK = {
    "digits": dict(acc_epochs=20, k=5, repeats=1, z_repeats=1),
    "mnist_mlp": dict(acc_epochs=2, k=1, repeats=1, train_rows=6000, test_rows=2000, z_repeats=1),
    "mnist_lenet5": dict(
        acc_epochs=1, k=1, repeats=1, train_rows=2000, test_rows=1000, timing_rows=1000,
        z_repeats=1, z_rows=500,
    ),
}
SCALE = dict(n=10**6, d=100, n_classes=10, hidden=100)
SCALE_QUICK = dict(n=10**5, d=100, n_classes=10, hidden=100)

LABELS = {
    "hand": "hand-written torch loop, MSE (Adam)",
    "skconvex_mse": "skconvex GDCClassifier, schedule='none' (MSE, Adam)",
    "skconvex_gdc": "skconvex GDCClassifier, schedule='gdc' (λ₀='auto', Adam)",
    "skconvex_nrae": "skconvex NRAE, schedule='constant', λ=1 (Adam)",
    "sgd_mse": "skconvex MSE (SGD, momentum 0.9)",
    "sgd_nrae": "skconvex NRAE λ=1 (SGD, momentum 0.9)",
    "sgd_rae": "skconvex RAE λ=1, normalized gradient (SGD, momentum 0.9)",
    "skorch": "skorch NeuralNetClassifier, cross-entropy (Adam)",
    "sklearn": "scikit-learn MLPClassifier, cross-entropy (Adam)",
}
# Timing runs these; memory/accuracy fits only the first group (the others are the same
# network and data with another criterion: their memory is the MSE fit's).
TIMED = {
    "mlp": ["hand", "skconvex_mse", "skconvex_gdc", "skconvex_nrae", "sgd_mse", "sgd_nrae",
            "sgd_rae", "skorch", "sklearn"],
    "lenet5": ["hand", "skconvex_mse", "skconvex_gdc", "skconvex_nrae", "skorch"],
}
MEASURED = {
    "mlp": ["hand", "skconvex_mse", "skconvex_gdc", "skorch", "sklearn"],
    "lenet5": ["hand", "skconvex_mse", "skconvex_gdc", "skorch"],
}


def case_settings(name: str, quick: bool) -> dict:
    settings = dict(CASES[name], train_rows=None, test_rows=None, z_rows=None)
    if quick:
        settings.update(QUICK[name])
    return settings


def load_case(case: dict, data_home: Path):
    """(X_train, y_train, X_test, y_test), float32 C-contiguous rows in [0, 1]."""
    if case["data"] == "digits":
        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=450, stratify=y, random_state=0)
    else:
        Xtr, ytr = load_mnist(data_home, subset="train", return_X_y=True, dtype=np.float32)
        Xte, yte = load_mnist(data_home, subset="test", return_X_y=True, dtype=np.float32)
    if case.get("train_rows"):
        Xtr, ytr = Xtr[: case["train_rows"]], ytr[: case["train_rows"]]
    if case.get("test_rows"):
        Xte, yte = Xte[: case["test_rows"]], yte[: case["test_rows"]]
    as32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    return as32(Xtr), np.asarray(ytr, np.int64), as32(Xte), np.asarray(yte, np.int64)


# -------------------------------------------------------------------- contenders
_SKCONVEX_VARIANTS = {
    "skconvex_mse": dict(schedule="none"),
    "skconvex_gdc": dict(schedule="gdc"),
    "skconvex_nrae": dict(schedule="constant", lambda_init=1.0),
    "sgd_mse": dict(schedule="none", solver="sgd", learning_rate_init=0.01, momentum=0.9),
    "sgd_nrae": dict(
        schedule="constant", lambda_init=1.0, solver="sgd", learning_rate_init=0.01, momentum=0.9
    ),
    # GDC with λ below λ_c from the start, never decayed, never below lambda_min: every
    # epoch is in the RAE stage (checked in the timing, see rae_stage_check).
    "sgd_rae": dict(
        schedule="gdc", lambda_init=1.0, lambda_decay=1.0, lambda_min=0.0, switch_to_rae=True,
        solver="sgd", learning_rate_init=0.01, momentum=0.9,
    ),
}


def skconvex_estimator(case: dict, epochs: int, variant: str) -> GDCClassifier:
    net = (
        dict(hidden_layer_sizes=(case["hidden"],))
        if case["net"] == "mlp"
        else dict(module="lenet5", image_shape=(1, 28, 28))
    )
    return GDCClassifier(
        **net, **_SKCONVEX_VARIANTS[variant], max_iter=epochs, batch_size=case["batch"],
        alpha=0.0, tol=0.0, n_iter_no_change=10**9, random_state=0,
    )


def build_net(case: dict, n_features: int, n_classes: int, output_activation=None):
    """The torch module skconvex trains for this case, built with the estimator's arguments."""
    args = skconvex_estimator(case, 1, "skconvex_mse")._module_arguments(n_features, n_classes)
    params = dict(args["params"])
    if output_activation is not None:
        params["output_activation"] = output_activation
    return build_module(args["module"], n_features, n_classes, **params)


def hand_fit(case, X, y, epochs, seed=0):
    """What a careful user writes by hand: randperm, slicing, Adam, ±1 codes, MSE."""
    n_classes = int(y.max()) + 1
    torch.manual_seed(seed)
    net = build_net(case, X.shape[1], n_classes)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, foreach=True)
    Xt = torch.from_numpy(X)
    Y = -torch.ones(len(y), n_classes)
    Y[torch.arange(len(y)), torch.from_numpy(y)] = 1.0
    gen = torch.Generator().manual_seed(seed)
    batch = case["batch"]
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(Xt), generator=gen)
        for i in range(0, len(Xt), batch):
            idx = perm[i : i + batch]
            loss = ((net(Xt[idx]) - Y[idx]) ** 2).sum(dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return net.eval()


def skorch_fit(case, X, y, epochs):
    from skorch import NeuralNetClassifier

    torch.manual_seed(0)
    module = build_net(case, X.shape[1], int(y.max()) + 1, output_activation="identity")
    return NeuralNetClassifier(
        module, max_epochs=epochs, batch_size=case["batch"], lr=1e-3,
        optimizer=torch.optim.Adam, criterion=torch.nn.CrossEntropyLoss, train_split=None,
        iterator_train__shuffle=True, verbose=0,
    ).fit(X, y)


def sklearn_fit(case, X, y, epochs):
    return MLPClassifier(
        hidden_layer_sizes=(case["hidden"],), max_iter=epochs, batch_size=case["batch"],
        alpha=0.0, tol=0.0, n_iter_no_change=10**9, random_state=0,
    ).fit(X, y)


def contender(name: str, case: dict, X, y):
    """``epochs -> fitted model`` for one contender."""
    if name == "hand":
        return lambda e: hand_fit(case, X, y, e)
    if name == "skorch":
        return lambda e: skorch_fit(case, X, y, e)
    if name == "sklearn":
        return lambda e: sklearn_fit(case, X, y, e)
    return lambda e: skconvex_estimator(case, e, name).fit(X, y)


def test_accuracy(model, X, y) -> float:
    if isinstance(model, torch.nn.Module):
        with torch.inference_mode():
            Xt = torch.from_numpy(X)
            pred = torch.cat([model(Xt[i : i + 8192]).argmax(1) for i in range(0, len(Xt), 8192)])
        return float((pred.numpy() == y).mean())
    return float((np.asarray(model.predict(X)) == y).mean())


# ------------------------------------------------------------------------ timing
IDLE_PAUSE = 0.25  # seconds between contenders in the timing


def per_epoch_all(contenders: dict, k: int, repeats: int) -> dict:
    """Seconds per epoch of each contender: (min t(2k) − min t(k)) / k over ``repeats``.

    One warm-up fit each first; then in every repeat each contender fits k and 2k epochs,
    the contenders taking turns (a slow phase of the machine hits them all alike). The
    minimum of each duration is its least disturbed measurement (page faults, other
    processes only ever add time), so set-up costs cancel in the difference without
    their noise; the median of the per-repeat differences is kept as well.
    """
    for fn in contenders.values():
        fn(1)
    t_k = {name: [] for name in contenders}
    t_2k = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            # Let the previous contender's idle worker threads stop spinning (numpy's
            # OpenBLAS after scikit-learn, OpenMP after torch): without the pause they
            # compete with the next contender's first epochs for the cores.
            time.sleep(IDLE_PAUSE)
            t0 = time.perf_counter()
            fn(k)
            t1 = time.perf_counter()
            fn(2 * k)
            t2 = time.perf_counter()
            t_k[name].append(t1 - t0)
            t_2k[name].append(t2 - t1)
    return {
        name: dict(
            median=(min(t_2k[name]) - min(t_k[name])) / k,  # the reported value
            median_of_differences=statistics.median(
                (b - a) / k for a, b in zip(t_k[name], t_2k[name])
            ),
            t_k=t_k[name], t_2k=t_2k[name], k=k,
        )
        for name in contenders
    }


def rae_stage_check(case, X, y) -> list:
    """The stages the 'sgd_rae' contender went through (should be only 'rae')."""
    return sorted(set(skconvex_estimator(case, 2, "sgd_rae").fit(X, y).stage_curve_))


def zstat_cost(case, X, y, repeats: int) -> dict:
    """Seconds of z_statistics over the training set (both variances)."""
    est = skconvex_estimator(case, 1, "skconvex_mse").fit(X, y)
    if case["z_rows"]:
        X, y = X[: case["z_rows"]], y[: case["z_rows"]]
    t0 = time.perf_counter()
    Xt, Yt, swt = est._training_tensors(X, y)
    transform, T = est._regression_view(Yt)
    prep = time.perf_counter() - t0
    out = dict(prepare_tensors_seconds=prep, n_rows=len(X))
    for variance in ("paper", "gauss_newton"):
        z_statistics(est.module_, Xt[:256], T[:256], variance=variance, transform=transform)
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            z_statistics(est.module_, Xt, T, variance=variance, transform=transform,
                         sample_weight=swt)
            runs.append(time.perf_counter() - t0)
        out[variance] = dict(median=statistics.median(runs), runs=runs)
    return out


# -------------------------------------------------------------- shared machine
def _machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:9]]
    return (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and all its children (live ones through psutil)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    try:
        import psutil

        for child in psutil.Process().children(recursive=True):
            try:
                t = child.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
    except ImportError:
        pass
    return total


class OtherLoad:
    """``with OtherLoad() as o: ...`` then ``o.record()``: the share of the machine's CPU
    that *other* processes used meanwhile (this machine may be shared: timings taken while
    it is high are suspect)."""

    def __enter__(self):
        try:
            self._t0, self._busy0 = time.perf_counter(), _machine_busy_seconds()
            self._own0 = _own_cpu_seconds()
            self.ok = True
        except (OSError, ValueError):
            self.ok = False
        return self

    def __exit__(self, *exc):
        if self.ok:
            wall = time.perf_counter() - self._t0
            others = (_machine_busy_seconds() - self._busy0) - (_own_cpu_seconds() - self._own0)
            self.others_core_seconds = max(others, 0.0)
            self.share = self.others_core_seconds / max(wall * (os.cpu_count() or 1), 1e-9)
            self.wall = wall
        return False

    def record(self) -> dict | None:
        if not self.ok:
            return None
        return dict(wall_seconds=self.wall, others_core_seconds=self.others_core_seconds,
                    others_share_of_machine=self.share, loadavg_end=os.getloadavg())


# ------------------------------------------------------------------------ memory
def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _can_reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        _status_kib("VmHWM")
        return True
    except OSError:
        return False
    except KeyError:
        return False


class PeakRSS:
    """``with PeakRSS() as m: ...`` then ``m.baseline``, ``m.peak``, ``m.added`` (bytes).

    Linux: resets the kernel's high-water mark (VmHWM) and reads it afterwards, exact
    and free. Elsewhere: psutil samples the RSS every millisecond (a peak shorter than
    that can be missed).
    """

    def __init__(self):
        self.method = "VmHWM after /proc/self/clear_refs=5" if _can_reset_peak() else "psutil 1 ms sampling"

    def _rss(self) -> int:
        if self.method.startswith("VmHWM"):
            return 1024 * _status_kib("VmRSS")
        import psutil

        return psutil.Process().memory_info().rss

    def __enter__(self):
        gc.collect()
        self.baseline = self._rss()
        if self.method.startswith("VmHWM"):
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        else:
            self._max, self._stop = self.baseline, threading.Event()

            def sample():
                while not self._stop.is_set():
                    self._max = max(self._max, self._rss())
                    time.sleep(0.001)

            self._thread = threading.Thread(target=sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.method.startswith("VmHWM"):
            self.peak = 1024 * _status_kib("VmHWM")
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self._max, self._rss())
        self.after = self._rss()
        self.added = self.peak - self.baseline
        return False

    def record(self) -> dict:
        return dict(method=self.method, baseline_bytes=self.baseline, peak_bytes=self.peak,
                    added_bytes=self.added, after_bytes=self.after)


def worker_fit(spec: dict) -> dict:
    """One contender in this fresh process: warm-up, fit with peak memory, test accuracy."""
    importlib.import_module("skorch")  # every worker imports the same libraries

    case = spec["case"]
    X, y, Xte, yte = load_case(case, Path(spec["data_home"]))
    fit = contender(spec["contender"], case, X, y)
    warm = contender(spec["contender"], case, X[:400], y[:400])
    warm(1)
    del warm
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        model = fit(case["acc_epochs"])
        seconds = time.perf_counter() - t0
    return dict(
        memory=mem.record(), fit_seconds=seconds, epochs=case["acc_epochs"],
        test_accuracy=test_accuracy(model, Xte, yte), X_bytes=X.nbytes,
        n_train=len(X), n_test=len(Xte), torch_threads=torch.get_num_threads(),
    )


def _scale_data(spec):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((spec["n"], spec["d"]), dtype=np.float32)
    W = rng.standard_normal((spec["d"], spec["n_classes"]), dtype=np.float32)
    y = (X @ W).argmax(axis=1).astype(np.int64)
    return X, y


def worker_scale(spec: dict) -> dict:
    """Peak memory that fitting (or predicting) on the big X adds, in a fresh process."""
    X, y = _scale_data(spec)
    mode = spec["mode"]
    case = dict(net="mlp", hidden=spec["hidden"], batch=200)

    def estimator(epochs):
        return GDCClassifier(hidden_layer_sizes=(spec["hidden"],), max_iter=epochs,
                             random_state=0, tol=0.0)

    # Warm-up on a slice: code pages, thread pool, lazy imports are not the data's cost.
    if mode == "hand_fit":
        hand_fit(case, X[:1000], y[:1000], 1)
    else:
        estimator(1).fit(X[:1000], y[:1000]).predict(X[:1000])
    if mode == "predict":
        est = estimator(1).fit(X[:20000], y[:20000])
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        if mode == "fit":
            est = estimator(1).fit(X, y)
        elif mode == "hand_fit":
            hand_fit(case, X, y, 1)
        else:
            pred = est.predict(X)
        seconds = time.perf_counter() - t0
    out = dict(memory=mem.record(), seconds=seconds, X_bytes=X.nbytes, X_shape=list(X.shape),
               X_dtype=str(X.dtype), torch_threads=torch.get_num_threads())
    if mode == "predict":
        out["output_bytes"] = pred.nbytes
    return out


def run_worker(kind: str, spec: dict, timeout: float = 1800) -> dict:
    """Run ``worker_<kind>(spec)`` in a fresh interpreter and return its JSON answer."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", kind, json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          cwd=Path(__file__).resolve().parents[1])
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"worker {kind} {spec} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(lines[-1][len("RESULT "):])


# ------------------------------------------------------------------ grid search
def _worker_threads():
    import os as _os

    import torch as _torch

    return dict(pid=_os.getpid(), OMP_NUM_THREADS=_os.environ.get("OMP_NUM_THREADS"),
                torch_threads=_torch.get_num_threads())


def whole_fit(quick: bool) -> dict:
    """The whole ``fit`` call against the hand loop, set-up included (bench_fit_overhead)."""
    import bench_fit_overhead

    threads = torch.get_num_threads()
    try:
        return bench_fit_overhead.run(bench_fit_overhead.parse_args(["--quick"] if quick else []))
    finally:
        torch.set_num_threads(threads)  # run() pins 1 thread


def grid_search(quick: bool, rounds: int) -> dict:
    """GridSearchCV wall time: n_jobs=1, n_jobs=2 (loky), dask LocalCluster (2×1 thread)."""
    import joblib
    from joblib import Parallel, delayed

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    grid = {"lambda_init": [1.0, 10.0], "lambda_decay": [0.5, 0.9]}
    base = GDCClassifier(hidden_layer_sizes=(256,), max_iter=5 if quick else 40, tol=0.0,
                         random_state=0)
    out = dict(grid=grid, cv=3, max_iter=base.max_iter, n_samples=len(X), runs={}, threads={})

    try:
        import distributed
    except ImportError:
        distributed = None
        out["dask"] = "skipped: dask.distributed is not installed"

    def search(n_jobs):
        t0 = time.perf_counter()
        gs = GridSearchCV(base, grid, cv=3, n_jobs=n_jobs).fit(X, y)
        return time.perf_counter() - t0, gs

    backends = {"n_jobs=1": lambda: search(1), "n_jobs=2 (loky)": lambda: search(2)}
    out["threads"]["n_jobs=1"] = [_worker_threads()]  # this process
    out["threads"]["n_jobs=2 (loky)"] = Parallel(n_jobs=2)(
        delayed(_worker_threads)() for _ in range(4)
    )
    cluster = client = None
    if distributed is not None:
        t0 = time.perf_counter()
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
        out["dask_cluster_start_seconds"] = time.perf_counter() - t0
        out["threads"]["dask LocalCluster (2 workers × 1 thread)"] = list(
            client.run(_worker_threads).values()
        )

        def dask_search():
            with joblib.parallel_backend("dask"):
                return search(None)

        backends["dask LocalCluster (2 workers × 1 thread)"] = dask_search
    try:
        fitted = {}
        for name, fn in backends.items():  # warm-up: imports, worker pools
            fn()
        for _ in range(rounds):
            for name, fn in backends.items():
                seconds, gs = fn()
                out["runs"].setdefault(name, []).append(seconds)
                fitted[name] = gs
    finally:
        if client is not None:
            client.close()
            cluster.close()
    ref = fitted["n_jobs=1"]
    out["seconds"] = {name: statistics.median(v) for name, v in out["runs"].items()}
    out["best_params"] = {name: gs.best_params_ for name, gs in fitted.items()}
    out["max_abs_score_difference_vs_n_jobs_1"] = {
        name: float(np.max(np.abs(gs.cv_results_["mean_test_score"]
                                  - ref.cv_results_["mean_test_score"])))
        for name, gs in fitted.items()
    }
    return out


# -------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke test")
    parser.add_argument("--only", nargs="+", choices=list(CASES) + ["whole_fit", "scale", "grid"],
                        help="run only these parts (default: all)")
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--grid-rounds", type=int, default=3)
    parser.add_argument("--update", action="store_true",
                        help="with --only: replace just these parts in the existing perf.json "
                             "(the re-run is recorded there and in perf.md)")
    parser.add_argument("--rewrite-md", action="store_true",
                        help="only regenerate perf.md from perf.json (after a report change)")
    parser.add_argument("--_worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rewrite_md:
        r = json.loads((Path(args.out) / "perf.json").read_text())
        md = header_block(TITLE, r["environment"], r["command"], r["wall_seconds"], r["started"],
                          r.get("git_end")) + "\n" + markdown(r)
        (Path(args.out) / "perf.md").write_text(md)
        print(md)
        return
    if args._worker:
        kind, spec = args._worker
        result = {"fit": worker_fit, "scale": worker_scale}[kind](json.loads(spec))
        print("RESULT " + json.dumps(result))
        return

    started, env, t_start = now_iso(), environment(), time.perf_counter()
    data_home = Path(args.data_home)
    parts = args.only or list(CASES) + ["whole_fit", "scale", "grid"]
    have_mnist = (data_home / "mnist").is_dir()
    result = dict(
        quick=args.quick, data_home=str(data_home), torch_threads=torch.get_num_threads(),
        memory_method=PeakRSS().method, cases={}, skipped=[],
    )

    for name in [p for p in parts if p in CASES]:
        case = case_settings(name, args.quick)
        if case["data"] == "mnist" and not have_mnist:
            result["skipped"].append(f"{name}: no MNIST under {data_home}")
            continue
        print(f"== {name}", flush=True)
        X, y, _, _ = load_case(case, data_home)
        if case["timing_rows"]:
            X, y = X[: case["timing_rows"]], y[: case["timing_rows"]]
        timed = {c: contender(c, case, X, y) for c in TIMED[case["net"]]}
        record = dict(settings=case, n_timing_rows=len(X))
        with OtherLoad() as load:
            record["seconds_per_epoch"] = per_epoch_all(timed, case["k"], case["repeats"])
            if "sgd_rae" in timed:
                record["rae_stages"] = rae_stage_check(case, X, y)
            record["zstatistics_seconds"] = zstat_cost(case, X, y, case["z_repeats"])
        record["other_load_during_timing"] = load.record()
        del X, y
        record["fits"] = {}
        for c in MEASURED[case["net"]]:
            print(f"   memory/accuracy: {c}", flush=True)
            record["fits"][c] = run_worker(
                "fit", dict(case=case, contender=c, data_home=str(data_home))
            )
        result["cases"][name] = record

    if "whole_fit" in parts:
        print("== whole fit (set-up included, 1 thread)", flush=True)
        result["whole_fit"] = whole_fit(args.quick)

    if "scale" in parts:
        print("== scale", flush=True)
        spec = SCALE_QUICK if args.quick else SCALE
        with OtherLoad() as load:
            runs = {mode: run_worker("scale", dict(spec, mode=mode))
                    for mode in ("fit", "predict", "hand_fit")}
        result["scale"] = dict(spec, runs=runs, other_load=load.record())

    if "grid" in parts:
        print("== grid search", flush=True)
        with OtherLoad() as load:
            result["grid_search"] = grid_search(args.quick, 1 if args.quick else args.grid_rounds)
        result["grid_search"]["other_load"] = load.record()

    wall = time.perf_counter() - t_start
    cmd = command_line()
    result.update(command=cmd, started=started, wall_seconds=wall, environment=env,
                  git_end=git_state())
    if args.update:
        result = _merge_into_previous(Path(args.out) / "perf.json", result, parts)
    md = header_block(TITLE, result["environment"], result["command"], result["wall_seconds"],
                      result["started"], result["git_end"]) + "\n" + markdown(result)
    paths = write_results(args.out, "perf", result, md)
    print(md)
    print("wrote", *paths)


def _merge_into_previous(path: Path, new: dict, parts: list[str]) -> dict:
    """The previous perf.json with ``parts`` replaced by the new run's, and the re-run noted."""
    old = json.loads(path.read_text())
    for name, record in new["cases"].items():
        old["cases"][name] = record
    for key in ("whole_fit", "scale", "grid_search"):
        if key in new:
            old[key] = new[key]
    old.setdefault("reruns", []).append({
        key: new[key] for key in ("command", "started", "wall_seconds", "environment", "git_end")
    } | {"parts": parts})
    return old


# ------------------------------------------------------------------------ report
def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _load_line(load: dict | None) -> str:
    if not load:
        return "- (load of other processes not measured)"
    return (f"- Other processes used {100 * load['others_share_of_machine']:.0f} % of the "
            "machine's CPU meanwhile (0 % on a quiet machine; timings taken under load are "
            "less reliable).")


def markdown(r: dict) -> str:
    lines = [
        "Time per epoch: (min t(2k epochs) − min t(k epochs)) / k over repeats taken in "
        "turns, set-up excluded, torch's default threads. Peak memory: what the fit added to "
        f"the resident set of a fresh process ({r['memory_method']}; tracemalloc cannot see "
        "torch), after a warm-up fit on 400 rows; the data are loaded before. Accuracy: "
        "test set after the same number of epochs. skconvex and the hand loop train the "
        "same module on squared error against ±1 codes, skorch the same module on "
        "cross-entropy; all Adam lr 1e-3, batch 200, no weight decay.",
        "",
    ]
    if r.get("quick"):
        lines += ["**Quick run (reduced sizes): not the reference numbers.**", ""]
    for rerun in r.get("reruns", []):
        commit = (rerun.get("git_end") or {}).get("commit") or "?"
        lines += [f"Re-run later: {', '.join(rerun['parts'])}, started {rerun['started']}, "
                  f"{rerun['wall_seconds'] / 60:.1f} min, commit `{commit[:10]}`, with "
                  f"`{rerun['command']}`; these parts below are from that run.", ""]
    crit_rows, z_rows = [], []
    for name, c in r["cases"].items():
        s = c["settings"]
        sec = {k: v["median"] for k, v in c["seconds_per_epoch"].items()}
        hand = sec["hand"]
        fits = c["fits"]
        any_fit = next(iter(fits.values()))
        rows_note = (
            f"timing on the first {c['n_timing_rows']} training rows, " if s["timing_rows"] else ""
        )
        lines += [
            f"**{s['title']}** — {any_fit['n_train']} training / {any_fit['n_test']} test rows; "
            f"{rows_note}k = {s['k']}, {s['repeats']} repeats; memory and accuracy after "
            f"{s['acc_epochs']} epochs on all training rows.",
            "",
        ]
        rows = []
        for cname in sec:
            f = fits.get(cname)
            rows.append([
                LABELS[cname], f"{sec[cname]:.4f}", f"{sec[cname] / hand:.2f}",
                "—" if f is None else f"{f['memory']['added_bytes'] / MiB:.0f}",
                "—" if f is None else f"{f['memory']['peak_bytes'] / MiB:.0f}",
                "—" if f is None else f"{f['test_accuracy']:.4f}",
            ])
        lines += [md_table(["contender", "s / epoch", "× hand loop", "fit adds (MiB)",
                            "peak RSS (MiB)", "test accuracy"], rows), ""]
        ratio = sec["skconvex_mse"] / hand
        lines += [
            f"- skconvex (MSE) over the hand-written loop, same module and work: "
            f"**{ratio:.2f}×** (target ≤ 1.05×: {_verdict(ratio <= 1.05)})",
        ]
        if "skorch" in sec:
            for v in ("skconvex_mse", "skconvex_gdc"):
                rs = sec[v] / sec["skorch"]
                lines.append(f"- {LABELS[v]} over skorch: **{rs:.2f}×** (target: faster, "
                             f"< 1: {_verdict(rs < 1)})")
        setup = {
            cname: statistics.median(2 * a - b for a, b in zip(v["t_k"], v["t_2k"]))
            for cname, v in c["seconds_per_epoch"].items() if "t_k" in v
        }
        if setup:
            lines.append(
                "- Set-up per fit (median of 2·t(k) − t(2k): validation, building, skconvex's "
                "first pass over the training set): "
                + ", ".join(f"{cname} {setup[cname]:.2f} s" for cname in
                            ("hand", "skconvex_mse", "skorch", "sklearn") if cname in setup)
                + "."
            )
        cheaper = [v for v in ("skconvex_gdc", "skconvex_nrae")
                   if v in sec and sec[v] < 0.98 * sec["skconvex_mse"]]
        if cheaper:
            gap = 1 - min(sec[v] for v in cheaper) / sec["skconvex_mse"]
            lines.append(
                f"- NRAE/GDC measured up to {100 * gap:.0f} % *faster* than plain MSE, which "
                "does the same steps with a cheaper criterion: differences of that size are "
                "measurement noise here (skconvex's set-up, see above, varies between fits)."
            )
        x_mib = any_fit["X_bytes"] / MiB
        added = {cname: f["memory"]["added_bytes"] / any_fit["X_bytes"] for cname, f in fits.items()}
        lines.append(
            f"- X_train is {x_mib:.1f} MiB (float32); the fit adds "
            + ", ".join(f"{cname} {v:.2f}×" for cname, v in added.items()) + " its size."
        )
        if added.get("skconvex_mse", 0) > 1 and fits["skconvex_mse"]["memory"]["added_bytes"] > 64 * MiB:
            lines.append(
                "- skconvex adds more than a copy of X here: its first pass over the training "
                "set (`skconvex.training.loop.per_sample_errors`, evaluation mode) runs in "
                "8192-row chunks, and for a convolutional network one chunk's activations take "
                "hundreds of MiB (with 1024-row chunks the same fit added 118 MiB instead of "
                "645 MiB, checked separately). Not changed here."
            )
        lines += [ _load_line(c.get("other_load_during_timing")), ""]
        crit = dict(case=s["title"], nrae_adam=sec["skconvex_nrae"] / sec["skconvex_mse"])
        if "sgd_rae" in sec:
            crit.update(nrae_sgd=sec["sgd_nrae"] / sec["sgd_mse"],
                        rae_sgd=sec["sgd_rae"] / sec["sgd_mse"], stages=c.get("rae_stages"))
        crit_rows.append(crit)
        z = c["zstatistics_seconds"]
        # One epoch over the rows the z-statistics saw (both costs are linear in them).
        epoch = sec["skconvex_mse"] * z["n_rows"] / c["n_timing_rows"]
        z_rows.append([
            f"{s['title']} ({z['n_rows']} rows)", f"{epoch:.3f}", f"{z['paper']['median']:.3f}",
            f"{z['paper']['median'] / epoch:.2f}", f"{z['gauss_newton']['median']:.3f}",
            f"{z['gauss_newton']['median'] / epoch:.2f}",
        ])
    if crit_rows:
        lines += [
            "**Criterion cost** (same network, data and optimizer; ratios of the seconds per "
            "epoch above). RAE is GDC's second stage (normalized gradient; every epoch "
            "checked to be in stage 'rae'); with Adam skconvex does not normalize the step, "
            "so RAE costs what NRAE does. Target ≤ 1.2× MSE.",
            "",
        ]
        rows = []
        for c in crit_rows:
            cells = [c["case"], f"{c['nrae_adam']:.2f} ({_verdict(c['nrae_adam'] <= 1.2)})"]
            if "rae_sgd" in c:
                cells += [f"{c['nrae_sgd']:.2f} ({_verdict(c['nrae_sgd'] <= 1.2)})",
                          f"{c['rae_sgd']:.2f} ({_verdict(c['rae_sgd'] <= 1.2)})",
                          ", ".join(c["stages"] or [])]
            else:
                cells += ["not run", "not run", ""]
            rows.append(cells)
        lines += [md_table(["case", "NRAE / MSE (Adam)", "NRAE / MSE (SGD)",
                            "RAE / MSE (SGD)", "stages of the RAE run"], rows), ""]
        lines += [
            "**z-statistics cost** (`skconvex.pruning.z_statistics` over the training rows "
            "given, after a fit, median of repeats) against one skconvex MSE epoch over the "
            "same rows (for LeNet-5 the epoch time measured on the timing rows, scaled to "
            "the rows the z-statistics saw):",
            "",
            md_table(["case", "s / epoch", "z 'paper' (s)", "× epoch",
                      "z 'gauss_newton' (s)", "× epoch"], z_rows),
            "",
        ]
    if "scale" in r:
        sc = r["scale"]
        xb = sc["runs"]["fit"]["X_bytes"]
        rows = []
        names = {"fit": "skconvex GDCClassifier.fit, 1 epoch",
                 "predict": "skconvex predict (all rows)",
                 "hand_fit": "hand-written torch loop, 1 epoch (reference)"}
        for mode, run in sc["runs"].items():
            m = run["memory"]
            rows.append([names[mode], f"{m['baseline_bytes'] / MiB:.0f}",
                         f"{m['added_bytes'] / MiB:.0f}", f"{m['added_bytes'] / xb:.2f}",
                         f"{run['seconds']:.1f}"])
        fit_x = sc["runs"]["fit"]["memory"]["added_bytes"] / xb
        lines += [
            f"**Scale: {sc['n']:,} × {sc['d']} float32** (X = {xb / MiB:.0f} MiB, "
            f"{sc['n_classes']} classes, MLP {sc['d']}-{sc['hidden']}-{sc['n_classes']}, "
            "batch 200, CPU). Each row is a fresh process; 'added' is the peak RSS during the "
            "call minus the RSS just before it (X and y already loaded).",
            "",
            md_table(["call", "RSS before (MiB)", "added (MiB)", "added / size of X",
                      "seconds"], rows),
            "",
            f"- Fitting adds {fit_x:.2f}× X (target ≤ 1 copy of X: {_verdict(fit_x <= 1.0)}).",
            _load_line(sc.get("other_load")),
            "",
        ]
    if "grid_search" in r:
        g = r["grid_search"]
        rows = []
        for name, sec in g["seconds"].items():
            threads = sorted({t["torch_threads"] for t in g["threads"].get(name, [])})
            rows.append([name, f"{sec:.2f}", ", ".join(str(t) for t in threads),
                         g["best_params"][name],
                         fmt_g(g["max_abs_score_difference_vs_n_jobs_1"][name])])
        lines += [
            f"**GridSearchCV** ({len(g['grid'])} "
            f"tuned parameters, 4 candidates × {g['cv']} folds, digits {g['n_samples']} rows, "
            f"64-256-10, {g['max_iter']} epochs; median of {len(next(iter(g['runs'].values())))} "
            "timed rounds taken in turns after a warm-up of each; dask cluster start "
            f"{g.get('dask_cluster_start_seconds', float('nan')):.1f} s, not included):",
            "",
            md_table(["backend", "seconds", "torch threads per worker", "best params",
                      "max |Δ mean_test_score| vs n_jobs=1"], rows),
            "",
        ]
        lines += [_load_line(g.get("other_load")), ""]
        if isinstance(g.get("dask"), str):
            lines += [f"- dask: {g['dask']}", ""]
    if "whole_fit" in r:
        import bench_fit_overhead

        body = bench_fit_overhead.markdown(r["whole_fit"]).split("\n", 2)[2]
        lines += ["**Whole fit, set-up included** (digits 64-256-10, 20 epochs, 1 torch "
                  "thread; `benchmarks/bench_fit_overhead.py`):", "", body.strip(), ""]
    for s in r.get("skipped", []):
        lines.append(f"- skipped: {s}")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    main()
