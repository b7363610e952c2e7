"""Whole-fit overhead: ``GDCClassifier.fit`` against a hand-written torch loop.

What a new user compares: ``est.fit(X, y)`` from numpy arrays, set-up included, against
the loop they would write themselves from the same numpy arrays (label encoding, tensor
conversion, building and initializing the module, the training loop). The two do the
same work:

* the same network, MLP 64-256-10 with ReLU (``lecun_tanh`` outputs for ``criterion=
  "sse"``, skconvex's default output for it; identity outputs for cross-entropy), the
  same Glorot-uniform initialization drawn from the same torch seed in the same order;
* the same shuffling (``torch.randperm`` from a generator seeded the same way, every
  epoch), the same minibatches (``X[idx]``);
* the same optimizer (Adam, or SGD with momentum 0.9 and Nesterov, both ``foreach=True``)
  with the same L2 penalty ``alpha`` on the weights only (two parameter groups);
* the same loss: the mean over the minibatch of the per-sample squared error against
  ±1 codes, or of the cross-entropy;
* all ``max_iter`` epochs (``tol=0``, ``n_iter_no_change`` huge: no convergence stop).

The hand loop computes its loss in float32, as a user would; skconvex computes every
per-sample error in float64 (its criteria module explains why). ``--check`` runs the
hand loop once more with a float64 loss and compares its final weights with the
estimator's: equal weights show that both really do the same training (skconvex derives
its torch seed as ``RandomState(random_state).randint(2**31 - 1)``; the hand loop reuses
that seed).

Besides the plain criterion (``schedule="none"``) every case also times NRAE at a fixed
λ (``schedule="constant", lambda_init=LAMBDA``) and reports NRAE / plain.

Method: one process, ``torch.set_num_threads(1)``; one warm-up round, then ``repeats``
rounds in which every contender of every case is timed in turn (interleaved, so a slow
phase of the machine hits them all alike); ``gc.collect()`` before every call; the
fastest time of each contender is reported.

Run:  python benchmarks/bench_fit_overhead.py            (full: 7 repeats, about 2 min)
      python benchmarks/bench_fit_overhead.py --quick    (smoke: 2 repeats, 2 batch sizes)
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.nn import functional as F

import skconvex
from skconvex import GDCClassifier

OUT = Path(__file__).resolve().parent / "results"
HIDDEN = 256
LR = 1e-3
ALPHA = 1e-4
MOMENTUM = 0.9
LAMBDA = 1.0
RANDOM_STATE = 0


# ----------------------------------------------------------------------------- data
def load_data(scaling: str):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0 if scaling == "div16" else StandardScaler().fit_transform(X)
    return np.ascontiguousarray(X), y


def torch_seed(random_state: int) -> int:
    """The torch seed GDCClassifier draws from ``random_state`` (reused by the hand loop)."""
    return int(np.random.RandomState(random_state).randint(np.iinfo(np.int32).max))


# ------------------------------------------------------------------------ contenders
def hand_fit(X, y, *, criterion, solver, batch_size, epochs, seed, alpha=ALPHA,
             loss_dtype=torch.float32):
    """What a careful user writes by hand, from numpy arrays to a trained module."""
    classes, y_idx = np.unique(y, return_inverse=True)
    n, n_features = X.shape
    n_classes = len(classes)
    Xt = torch.from_numpy(X).to(torch.float32)
    yt = torch.from_numpy(y_idx.astype(np.int64))
    if criterion == "sse":
        Yt = torch.full((n, n_classes), -1.0, dtype=loss_dtype)
        Yt[torch.arange(n), yt] = 1.0

    torch.manual_seed(seed)
    first, last = nn.Linear(n_features, HIDDEN), nn.Linear(HIDDEN, n_classes)
    with torch.no_grad():  # Glorot uniform, scikit-learn's rule, weight then bias
        for layer in (first, last):
            bound = math.sqrt(6.0 / (layer.in_features + layer.out_features))
            layer.weight.uniform_(-bound, bound)
            layer.bias.uniform_(-bound, bound)
    net = nn.Sequential(first, nn.ReLU(), last)
    groups = [
        {"params": [first.weight, last.weight], "weight_decay": alpha},
        {"params": [first.bias, last.bias], "weight_decay": 0.0},
    ]
    if solver == "adam":
        opt = torch.optim.Adam(groups, lr=LR, foreach=True)
    else:
        opt = torch.optim.SGD(groups, lr=LR, momentum=MOMENTUM, nesterov=True, foreach=True)

    gen = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            out = net(Xt[idx])
            if criterion == "sse":
                out = 1.7159 * torch.tanh((2.0 / 3.0) * out)
                loss = ((out.to(loss_dtype) - Yt[idx]) ** 2).sum(dim=1).mean()
            else:
                loss = F.cross_entropy(out.to(loss_dtype), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return net.eval()


def estimator(*, criterion, solver, batch_size, epochs, schedule="none"):
    extra = dict(lambda_init=LAMBDA) if schedule == "constant" else {}
    return GDCClassifier(
        criterion=criterion, schedule=schedule, **extra, hidden_layer_sizes=(HIDDEN,),
        activation="relu", solver=solver, alpha=ALPHA, batch_size=batch_size,
        learning_rate_init=LR, momentum=MOMENTUM, nesterovs_momentum=True,
        max_iter=epochs, tol=0.0, n_iter_no_change=10**9, random_state=RANDOM_STATE,
    )


# --------------------------------------------------------------------------- timing
def _machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (Linux /proc/stat), or nan."""
    try:
        fields = open("/proc/stat").readline().split()[1:]
        ticks = [int(f) for f in fields]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return math.nan


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call.

    With one torch thread the fit runs on this thread only, so CPU time is the wall
    time minus the time the process was descheduled: the more robust of the two when
    other processes share the machine.
    """
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def make_cases(batches, solvers, criteria):
    return [
        dict(case=f"{crit}/{solver}/b{b}", batch=b, solver=solver, criterion=crit)
        for b in batches for solver in solvers for crit in criteria
    ]


def contenders(case, X, y, epochs, seed):
    kw = dict(criterion=case["criterion"], solver=case["solver"], batch_size=case["batch"],
              epochs=epochs)
    plain = estimator(**kw)
    nrae = estimator(**kw, schedule="constant")
    return {
        "hand": lambda: hand_fit(X, y, seed=seed, **kw),
        "skconvex": lambda: plain.fit(X, y),
        "skconvex_nrae": lambda: nrae.fit(X, y),
    }


def check_same_training(X, y, epochs, seed, cases) -> list[dict]:
    """Final weights of the hand loop (float64 loss) against the estimator's."""
    out = []
    for case in cases:
        kw = dict(criterion=case["criterion"], solver=case["solver"],
                  batch_size=case["batch"], epochs=epochs)
        net = hand_fit(X, y, seed=seed, loss_dtype=torch.float64, **kw)
        est = estimator(**kw).fit(X, y)
        hand = [p.detach() for p in net.parameters()]
        sk = [p.detach() for p in est.module_.parameters()]
        diff = max(float((a - b).abs().max()) for a, b in zip(hand, sk))
        net32 = hand_fit(X, y, seed=seed, **kw)
        diff32 = max(float((a.detach() - b).abs().max()) for a, b in zip(net32.parameters(), sk))
        out.append(dict(case=case["case"], max_abs_weight_diff_f64_loss=diff,
                        max_abs_weight_diff_f32_loss=diff32))
    return out


def run(args) -> dict:
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter is reached on purpose
    X, y = load_data(args.scaling)
    seed = torch_seed(RANDOM_STATE)
    batches = [32, 200] if args.quick else args.batches
    repeats = 2 if args.quick else args.repeats
    cases = make_cases(batches, args.solvers, args.criteria)

    check = check_same_training(X, y, 2, seed, cases[:4] if args.quick else cases) if args.check else None

    runners = {c["case"]: contenders(c, X, y, args.epochs, seed) for c in cases}
    times = {name: {k: [] for k in fns} for name, fns in runners.items()}
    cpu = {name: {k: [] for k in fns} for name, fns in runners.items()}
    t_start = time.perf_counter()
    busy0, own0 = _machine_busy_s(), time.process_time()
    for r in range(repeats + 1):  # round 0 is the warm-up
        for name, fns in runners.items():
            for k, fn in fns.items():
                t, c = timed(fn)
                if r > 0:
                    times[name][k].append(t)
                    cpu[name][k].append(c)
        if args.verbose:
            print(f"round {r}/{repeats} done ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)

    wall = time.perf_counter() - t_start
    others = (_machine_busy_s() - busy0 - (time.process_time() - own0)) / (wall * os.cpu_count())
    rows = []
    for c in cases:
        best = {k: min(v) for k, v in times[c["case"]].items()}
        bcpu = {k: min(v) for k, v in cpu[c["case"]].items()}
        rows.append(dict(
            **c,
            hand_ms=1e3 * best["hand"],
            skconvex_ms=1e3 * best["skconvex"],
            nrae_ms=1e3 * best["skconvex_nrae"],
            ratio=best["skconvex"] / best["hand"],
            nrae_over_plain=best["skconvex_nrae"] / best["skconvex"],
            nrae_over_hand=best["skconvex_nrae"] / best["hand"],
            cpu_ratio=bcpu["skconvex"] / bcpu["hand"],
            cpu_nrae_over_plain=bcpu["skconvex_nrae"] / bcpu["skconvex"],
            cpu_ms={k: 1e3 * v for k, v in bcpu.items()},
            steps=args.epochs * -(-len(X) // c["batch"]),
            times_s=times[c["case"]],
            cpu_s=cpu[c["case"]],
        ))
    return dict(
        title="Whole-fit overhead: GDCClassifier.fit vs a hand-written torch loop",
        date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        command="python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
        wall_s=wall,
        # Share of the machine's CPU used by other processes during the timing: on a
        # quiet machine ~0; above ~0.2 the minimum over repeats is less trustworthy.
        other_load=max(0.0, others),
        settings=dict(
            data=f"sklearn digits, all {len(X)} rows, scaling={args.scaling}",
            net=f"MLP {X.shape[1]}-{HIDDEN}-10 ReLU", epochs=args.epochs, repeats=repeats,
            warmup_rounds=1, lr=LR, alpha=ALPHA, momentum=MOMENTUM, nesterov=True,
            nrae=f'schedule="constant", lambda_init={LAMBDA}', torch_threads=1,
            random_state=RANDOM_STATE, torch_seed=seed, statistic="min over repeats",
        ),
        environment=dict(
            python=platform.python_version(), torch=torch.__version__,
            sklearn=sklearn.__version__, skconvex=skconvex.__version__,
            platform=platform.platform(), cpu_count=os.cpu_count(), commit=_git_commit(),
        ),
        check=check,
        rows=rows,
        summary=dict(
            max_ratio=max(r["ratio"] for r in rows),
            max_nrae_over_plain=max(r["nrae_over_plain"] for r in rows),
            max_cpu_ratio=max(r["cpu_ratio"] for r in rows),
            max_cpu_nrae_over_plain=max(r["cpu_nrae_over_plain"] for r in rows),
            ratio_target=1.05, nrae_target=1.10,
        ),
    )


def _git_commit() -> str | None:
    """HEAD of this repository, and whether the skconvex that was imported is its clean tree."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=root,
                             capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None
    package = Path(skconvex.__file__).resolve().parent
    if package != root / "skconvex":
        return f"{sha} (skconvex imported from {package})"
    dirty = subprocess.run(["git", "status", "--porcelain", "skconvex"], cwd=root,
                           capture_output=True, text=True).stdout.strip()
    return sha + (" (skconvex/ modified)" if dirty else "")


def markdown(res: dict) -> str:
    s = res["settings"]
    lines = [
        f"## {res['title']}",
        "",
        f"{res['date']}, {res['environment']['platform']}, torch {res['environment']['torch']}, "
        f"scikit-learn {res['environment']['sklearn']}, commit {res['environment']['commit']}. "
        f"{s['data']}, {s['net']}, {s['epochs']} epochs, Adam/SGD lr {s['lr']}, alpha {s['alpha']} "
        f"(weights only), 1 torch thread, fastest of {s['repeats']} interleaved repeats after a "
        f"warm-up. NRAE: {s['nrae']}. Whole call from numpy, set-up included. "
        f"Other processes used {100 * res['other_load']:.0f} % of the machine's CPU meanwhile.",
        "",
        f"Reproduce: `{res['command']}`",
        "",
        "Ratios from wall time; in brackets the same from the process's CPU time (robust to",
        "preemption when other processes share the machine).",
        "",
        "| case | batch | solver | criterion | hand ms | skconvex ms | ratio | NRAE ms | NRAE/plain |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        lines.append(
            f"| {r['case']} | {r['batch']} | {r['solver']} | {r['criterion']} | "
            f"{r['hand_ms']:.1f} | {r['skconvex_ms']:.1f} | {r['ratio']:.3f} ({r['cpu_ratio']:.3f}) | "
            f"{r['nrae_ms']:.1f} | {r['nrae_over_plain']:.3f} ({r['cpu_nrae_over_plain']:.3f}) |"
        )
    sm = res["summary"]
    lines += [
        "",
        f"- worst skconvex / hand: **{sm['max_ratio']:.3f}×** wall, {sm['max_cpu_ratio']:.3f}× CPU "
        f"(target ≤ {sm['ratio_target']}: "
        f"{'met' if sm['max_ratio'] <= sm['ratio_target'] else 'missed'})",
        f"- worst NRAE / plain: **{sm['max_nrae_over_plain']:.3f}×** wall, "
        f"{sm['max_cpu_nrae_over_plain']:.3f}× CPU (target ≤ {sm['nrae_target']}: "
        f"{'met' if sm['max_nrae_over_plain'] <= sm['nrae_target'] else 'missed'})",
    ]
    if res["check"]:
        worst = max(c["max_abs_weight_diff_f64_loss"] for c in res["check"])
        worst32 = max(c["max_abs_weight_diff_f32_loss"] for c in res["check"])
        lines.append(
            f"- same training (--check, 2 epochs): largest |weight difference| hand loop vs "
            f"skconvex {worst:.2e} with a float64 loss in the hand loop, {worst32:.2e} with its "
            "float32 loss"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="2 repeats, batches 32 and 200")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batches", type=int, nargs="+", default=[32, 64, 200])
    p.add_argument("--solvers", nargs="+", default=["adam", "sgd"], choices=["adam", "sgd"])
    p.add_argument("--criteria", nargs="+", default=["cross_entropy", "sse"],
                   choices=["cross_entropy", "sse"])
    p.add_argument("--scaling", default="div16", choices=["div16", "standard"])
    p.add_argument("--check", action=argparse.BooleanOptionalAction, default=True,
                   help="compare the final weights of both (default on)")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--no-write", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    res = run(args)
    md = markdown(res)
    print(md)
    if not args.no_write:
        args.out.mkdir(parents=True, exist_ok=True)
        name = "fit_overhead_quick" if args.quick else "fit_overhead"
        (args.out / f"{name}.json").write_text(json.dumps(res, indent=1) + "\n")
        (args.out / f"{name}.md").write_text(md)


if __name__ == "__main__":
    main()
