"""RVSM: the shape of Dinh & Xin's Tables 1 and 2 on networks a 2-core CPU can train.

The paper sparsifies VGG-16 and ResNet18 on CIFAR-10 (Table 1: accuracy and share of
zero weights per penalty; Table 2: RVSM-ℓ0 against ADMM). Those nets need a GPU and
CIFAR-10 is not on disk here, so this benchmark runs the same comparison on:

* ``digits-mlp``: scikit-learn's digits (8×8), MLP 64-300-100-10, stratified 4:1 split
  per seed;
* ``mnist-mlp``: MNIST (``../shared/data/mnist``), LeNet-300-100 (784-300-100-10),
  the original 60 000/10 000 split;
* ``mnist-lenet5``: MNIST, LeNet-5 (the package's ``"lenet5"``).

Per case and seed, every network starts from the same initialization (same
``random_state``) and gets the same optimizer and epochs (SGD, Nesterov momentum 0.9,
weight decay 5e-4 and batch 128 as in the authors' code; a constant learning rate):

* ``dense``: plain training (RVSM with λ = 0, so u = w);
* ``RVSM-l1``, ``RVSM-tl1``, ``RVSM-l0``: λ = 1e-5, β = 1e-2, a = 1 (the paper's
  Table 1 values); accuracy of u (the sparse copy, as the paper evaluates) and of w;
* ``RVSM-… reset``: the same with w set to u after every epoch, as the authors' code
  does (``reset_to_sparse=True``; not in Algorithm 1);
* ``ADMM-l1`` and ``ADMM-l0``: eq. 10 with a gradient step for w, same λ, β (the
  paper's Table 2 baseline; its ADMM instead projects on a fixed 60 % sparsity);
* ``magnitude``: ``torch.nn.utils.prune.global_unstructured`` (L1, global over the
  same weights) of the dense network at the sparsity each RVSM penalty reached, once
  without retraining and once fine-tuned with the pruning masks for ``--finetune``
  epochs (the same optimizer; the dense net's epochs plus these).

Sparsity is the share of zeros over the weights of all Linear/Conv layers (biases not
counted), as in the paper; for LeNet-5 the fixed zeros of C3's connection table
count as zeros for every method.

Usage::

    python benchmarks/bench_rvsm.py                  # all three cases
    python benchmarks/bench_rvsm.py --only digits-mlp --seeds 5
    python benchmarks/bench_rvsm.py --quick          # smoke test, about a minute
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DEFAULT_OUT,
    Stopwatch,
    command_line,
    environment,
    git_state,
    header_block,
    md_table,
    memoized,
    now_iso,
    worker_setup,
    write_results,
)

from skconvex import RVSMClassifier  # noqa: E402
from skconvex.nn.masks import prunable_parameters  # noqa: E402

DATA_HOME = Path(__file__).resolve().parents[2] / "shared" / "data"
CASES = {
    "digits-mlp": dict(data="digits", architecture="mlp", hidden_layer_sizes=(300, 100)),
    "mnist-mlp": dict(data="mnist", architecture="mlp", hidden_layer_sizes=(300, 100)),
    "mnist-lenet5": dict(data="mnist", architecture="lenet5", image_shape=(1, 28, 28)),
}
PENALTIES = ("l1", "tl1", "l0")
# name -> (method, penalty, reset_to_sparse)
SPLITTING = (
    {f"RVSM-{p}": ("rvsm", p, False) for p in PENALTIES}
    | {f"RVSM-{p} reset": ("rvsm", p, True) for p in PENALTIES}
    | {"ADMM-l1": ("admm", "l1", False), "ADMM-l0": ("admm", "l0", False)}
)
# The paper's numbers (CIFAR-10): accuracy %, sparsity %.
PAPER_TABLE1 = {"dense": (93.82, 0.0), "RVSM-l1": (93.70, 35.68), "RVSM-tl1": (93.07, 63.34), "RVSM-l0": (92.54, 86.89)}
PAPER_TABLE2 = {"dense": (95.07, 0.0), "ADMM": (94.84, 47.08), "RVSM-l0": (94.89, 93.70)}


def _mnist(data_home: str):
    from skconvex.datasets import load_mnist

    X, y = load_mnist(data_home, subset="train", return_X_y=True, dtype=np.float32)
    X_te, y_te = load_mnist(data_home, subset="test", return_X_y=True, dtype=np.float32)
    return X, y, X_te, y_te


def load_case(case: str, seed: int, data_home: str, n_train: int | None):
    """Training and test data of a case (MNIST pixels in [0, 1], digits divided by 16)."""
    if CASES[case]["data"] == "digits":
        X, y = load_digits(return_X_y=True)
        X = (X / 16).astype(np.float32)
        return train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    X, y, X_te, y_te = memoized(("mnist", data_home), lambda: _mnist(data_home))
    if n_train is not None and n_train < len(X):
        X, _, y, _ = train_test_split(X, y, train_size=n_train, stratify=y, random_state=seed)
    return X, X_te, y, y_te


def make_estimator(case: str, seed: int, args, method: str = "rvsm", penalty: str = "l0", lam: float = 1e-5,
                   reset: bool = False):
    cfg = {k: v for k, v in CASES[case].items() if k != "data"}
    return RVSMClassifier(
        **cfg, method=method, penalty=penalty, lam=lam, beta=args.beta, a=1.0, reset_to_sparse=reset,
        use_sparse_weights=False,  # keep w in module_; u is evaluated from sparse_weights_
        solver="sgd", learning_rate_init=args.lr, momentum=0.9, nesterovs_momentum=True,
        alpha=5e-4, batch_size=128, max_iter=args.epochs[case],
        tol=0.0, n_iter_no_change=args.epochs[case] + 1,  # a fixed budget: no early stop
        random_state=seed,
    )


def weight_sparsity(module: torch.nn.Module, names=None) -> float:
    """Share of zeros over the weights ``names`` (default: the Linear/Conv weights).

    Read as attributes, so the weights torch.nn.utils.prune recomputes count too.
    """
    names = list(prunable_parameters(module)) if names is None else names
    weights = [getattr(module.get_submodule(n.rpartition(".")[0]), n.rpartition(".")[2]) for n in names]
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / sum(w.numel() for w in weights)


def with_weights(est, weights: dict):
    """A copy of ``est`` whose split parameters are ``weights`` (e.g. u)."""
    other = copy.deepcopy(est)
    params = dict(other.module_.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(torch.from_numpy(value))
    return other


def _fit_task(case, seed, name, args):
    worker_setup()
    X, X_te, y, y_te = load_case(case, seed, args.data_home, args.n_train)
    if name == "dense":
        est = make_estimator(case, seed, args, lam=0.0)
    else:
        method, penalty, reset = SPLITTING[name]
        est = make_estimator(case, seed, args, method=method, penalty=penalty, lam=args.lam, reset=reset)
    with Stopwatch() as sw:
        est.fit(X, y)
    record = dict(case=case, seed=seed, method=name, seconds=sw.seconds, epochs=est.n_iter_,
                  stop_reason=est.stop_reason_)
    if name == "dense":
        record.update(accuracy=100 * est.score(X_te, y_te), sparsity=100 * weight_sparsity(est.module_))
        return record, est
    sparse = with_weights(est, est.sparse_weights_)
    record.update(
        accuracy=100 * sparse.score(X_te, y_te),  # u, the sparse network
        accuracy_w=100 * est.score(X_te, y_te),  # w, the relaxed weights
        sparsity=100 * est.sparsity_,
        train_accuracy=100 * sparse.score(X, y),
        layer_sparsity={k: 100 * v for k, v in est.layer_sparsity_.items()},
    )
    return record, None


def _finetune(est, X, y, epochs: int, args, seed: int) -> None:
    """Retrain the pruned module_ with its torch.nn.utils.prune masks (hand loop)."""
    module = est.module_
    module.train()
    opt = torch.optim.SGD(module.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    yt = torch.from_numpy(np.searchsorted(est.classes_, y)).long()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(Xt), generator=gen).split(128):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(module(Xt[idx]), yt[idx]).backward()
            opt.step()
    module.eval()


def _magnitude_task(case, seed, matched, target, dense, args):
    """Global magnitude pruning of the dense net to ``target`` % zeros, then fine-tuning."""
    from torch.nn.utils import prune

    worker_setup()
    X, X_te, y, y_te = load_case(case, seed, args.data_home, args.n_train)
    est = copy.deepcopy(dense)
    split = prunable_parameters(est.module_)
    owners = dict(est.module_.named_modules())
    pairs = [(owners[name.rpartition(".")[0]], name.rpartition(".")[2]) for name in split]
    prune.global_unstructured(pairs, pruning_method=prune.L1Unstructured, amount=target / 100)
    record = dict(case=case, seed=seed, method="magnitude", matched=matched,
                  sparsity=100 * weight_sparsity(est.module_, split), accuracy=100 * est.score(X_te, y_te))
    with Stopwatch() as sw:
        _finetune(est, X, y, args.finetune[case], args, seed)
    record.update(accuracy_finetuned=100 * est.score(X_te, y_te), finetune_epochs=args.finetune[case],
                  finetune_seconds=sw.seconds,
                  sparsity_finetuned=100 * weight_sparsity(est.module_, split))
    return record


def _ms(values) -> str:
    values = np.asarray([v for v in values if v is not None], dtype=float)
    if len(values) == 0:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{values.mean():.2f}±{values.std(ddof=1):.2f}"


def summarize(records) -> tuple[list, dict]:
    rows, summary = [], {}
    for case in dict.fromkeys(r["case"] for r in records):
        rs = [r for r in records if r["case"] == case]
        seeds = sorted({r["seed"] for r in rs})
        for name in ["dense", *SPLITTING]:
            sel = [r for r in rs if r["method"] == name]
            if not sel:
                continue
            summary[f"{case}/{name}"] = dict(
                accuracy=float(np.mean([r["accuracy"] for r in sel])),
                sparsity=float(np.mean([r["sparsity"] for r in sel])),
            )
            rows.append([case, name, _ms(r["accuracy"] for r in sel), _ms(r.get("accuracy_w") for r in sel),
                         _ms(r["sparsity"] for r in sel), len(seeds)])
        for matched in [n for n in SPLITTING if n.startswith("RVSM-")]:
            sel = [r for r in rs if r["method"] == "magnitude" and r["matched"] == matched]
            if not sel:
                continue
            ft = sel[0]["finetune_epochs"]
            rows.append([case, f"magnitude @ {matched}", _ms(r["accuracy"] for r in sel), "–",
                         _ms(r["sparsity"] for r in sel), len(seeds)])
            rows.append([case, f"magnitude @ {matched} + {ft} ep. fine-tuning",
                         _ms(r["accuracy_finetuned"] for r in sel), "–",
                         _ms(r["sparsity_finetuned"] for r in sel), len(seeds)])
    return rows, summary


def markdown(rows, env, cmd, wall, started, git_end, args) -> str:
    paper = md_table(
        ["paper (CIFAR-10)", "accuracy %", "zeros %"],
        [[f"VGG-16 {k}", *v] for k, v in PAPER_TABLE1.items()]
        + [[f"ResNet18 {k}", *v] for k, v in PAPER_TABLE2.items()],
    )
    epochs = ", ".join(f"{c} {e}" for c, e in args.epochs.items() if c in args.cases)
    fts = ", ".join(f"{c} {e}" for c, e in args.finetune.items() if c in args.cases)
    return (
        header_block("RVSM: sparsity and accuracy per penalty, against ADMM and magnitude pruning (paper Tables 1–2)",
                     env, cmd, wall, started, git_end)
        + f"\nλ = {args.lam:g}, β = {args.beta:g}, a = 1; SGD lr {args.lr:g} (constant), Nesterov 0.9, "
        f"weight decay 5e-4, batch 128; epochs: {epochs}; magnitude fine-tuning epochs: {fts}. "
        + (f"MNIST training set subsampled to {args.n_train} (stratified). "
           if args.n_train and any(CASES[c]["data"] == "mnist" for c in args.cases) else "")
        + "Test accuracy in %, mean±sd over seeds (one split per seed for digits, MNIST's own split); "
        "\"accuracy (w)\" is the relaxed weights w, the other column the sparse copy u that RVSM returns. "
        "Zeros: share of zero weights over all Linear/Conv weights.\n\n"
        + md_table(["case", "method", "accuracy (u) %", "accuracy (w) %", "zeros %", "seeds"], rows)
        + "\n\nThe paper's numbers, for the shape (VGG-16 and ResNet18 on CIFAR-10 are not run here: "
        "no GPU in this session and no CIFAR-10 on disk):\n\n" + paper + "\n"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(CASES), action="append", default=None)
    parser.add_argument("--seeds", type=int, default=5, help="seeds of digits-mlp")
    parser.add_argument("--seeds-mnist", type=int, default=2, help="seeds of mnist-mlp")
    parser.add_argument("--seeds-lenet5", type=int, default=1)
    parser.add_argument("--lam", type=float, default=1e-5)
    parser.add_argument("--beta", type=float, default=1e-2)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--epochs-digits", type=int, default=100)
    parser.add_argument("--epochs-mnist-mlp", type=int, default=20)
    parser.add_argument("--epochs-lenet5", type=int, default=10)
    parser.add_argument("--finetune-fraction", type=float, default=0.25,
                        help="fine-tuning epochs of magnitude pruning, as a fraction of the training epochs")
    parser.add_argument("--n-train", type=int, default=None, help="subsample MNIST's training set")
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tag", default="")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.seeds_mnist, args.seeds_lenet5, args.n_train = 1, 1, 1, 2000
        args.epochs_digits, args.epochs_mnist_mlp, args.epochs_lenet5 = 10, 2, 1
    args.epochs = {"digits-mlp": args.epochs_digits, "mnist-mlp": args.epochs_mnist_mlp,
                   "mnist-lenet5": args.epochs_lenet5}
    args.finetune = {c: max(1, round(args.finetune_fraction * e)) for c, e in args.epochs.items()}
    have_mnist = (Path(args.data_home) / "mnist" / "train-images-idx3-ubyte.gz").exists()
    args.cases = [c for c in (args.only or CASES) if CASES[c]["data"] == "digits" or have_mnist]
    if len(args.cases) < len(args.only or CASES):
        print(f"MNIST not found under {args.data_home}: running {args.cases} only")

    started, env, t0 = now_iso(), environment(), time.perf_counter()
    n_seeds = {"digits-mlp": args.seeds, "mnist-mlp": args.seeds_mnist, "mnist-lenet5": args.seeds_lenet5}
    seeds = {c: range(n_seeds[c]) for c in args.cases}
    # Longest tasks first so the two workers finish together.
    jobs = [(c, s, m) for c in reversed(args.cases) for s in seeds[c] for m in ["dense", *SPLITTING]]
    out = Parallel(n_jobs=args.n_jobs, verbose=5)(delayed(_fit_task)(c, s, m, args) for c, s, m in jobs)
    records = [r for r, _ in out]
    dense = {(r["case"], r["seed"]): est for r, est in out if est is not None}
    targets = [(r["case"], r["seed"], r["method"], r["sparsity"]) for r in records
               if r["method"].startswith("RVSM-")]
    records += Parallel(n_jobs=args.n_jobs, verbose=5)(
        delayed(_magnitude_task)(c, s, p, t, dense[c, s], args) for c, s, p, t in targets
    )
    wall = time.perf_counter() - t0
    rows, summary = summarize(records)
    args_json = {k: v for k, v in vars(args).items()}
    payload = dict(benchmark="rvsm", started=started, wall_seconds=wall, command=command_line(),
                   environment=env, git_end=git_state(), settings=args_json, records=records,
                   summary=summary, paper_table1=PAPER_TABLE1, paper_table2=PAPER_TABLE2)
    md = markdown(rows, env, command_line(), wall, started, payload["git_end"], args)
    paths = write_results(args.out, "rvsm" + args.tag, payload, md)
    print(md)
    print("wrote", *paths)


if __name__ == "__main__":
    main()
