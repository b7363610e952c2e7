"""scikit-learn's digits: test accuracy and fit time of GDCClassifier's schedules.

``load_digits`` (1797 8×8 images, 10 classes), one fixed stratified 75/25 split
(``random_state=0``), StandardScaler fitted on the training part, 10 seeds
(``random_state=seed`` of the estimator; the split never changes).

Rows:

* ``GDCClassifier(schedule=s, criterion=c, random_state=seed)`` for s in
  {gdc, constant, adaptive, none} and c in {sse, cross_entropy}; every other parameter
  at its default (hidden_layer_sizes=(100,), relu, Adam lr 1e-3, batch 200, alpha 1e-4,
  max_iter=200, tol=1e-4, n_iter_no_change=10, float32, lambda_init="auto").
* ``MLPClassifier(random_state=seed)``, scikit-learn's default (max_iter=200).
* "paper recipe (minibatch)": ``GDCClassifier(**PAPER_RECIPE, batch_size=16,
  max_iter=100, random_state=seed)``: the paper's settings (λ₀=1e4, momentum SGD lr 1e-4
  momentum 0.5, lecun_tanh, U(±2.4/fan-in), global normalizer, SSE with lr halving)
  except minibatches of 16 instead of pairwise steps and 100 epochs, to fit the budget.

Reported: test accuracy mean ± std (sample std, ddof=1) over the seeds, min–max,
training accuracy, mean fit time, mean epochs run, stop reasons.

Usage::

    python benchmarks/bench_digits.py           # full run, a few minutes on 2 cores
    python benchmarks/bench_digits.py --quick   # smoke test, seconds
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DEFAULT_OUT,
    Stopwatch,
    command_line,
    git_state,
    environment,
    fmt_g,
    header_block,
    md_table,
    now_iso,
    worker_setup,
    write_results,
)

NAME = "digits"
SCHEDULES = ("gdc", "constant", "adaptive", "none")
CRITERIA = ("sse", "cross_entropy")


def configs(quick: bool) -> list[dict]:
    rows = []
    for crit in CRITERIA:
        for sched in SCHEDULES:
            params = dict(schedule=sched, criterion=crit)
            if quick:
                params["max_iter"] = 3
            rows.append(dict(key=f"{sched}_{crit}", label=f"GDCClassifier {sched} / {crit}",
                             kind="gdc", params=params))
    rows.append(dict(key="mlp", label="MLPClassifier (sklearn default)", kind="mlp",
                     params=dict(max_iter=3) if quick else {}))
    paper_iter = 2 if quick else 100
    rows.append(dict(key="paper_minibatch", label=f"paper recipe (minibatch 16, {paper_iter} epochs)",
                     kind="paper", params=dict(batch_size=16, max_iter=paper_iter)))
    return rows


def load_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


def make_estimator(cfg: dict, seed: int):
    from sklearn.neural_network import MLPClassifier

    from skconvex import PAPER_RECIPE, GDCClassifier

    if cfg["kind"] == "mlp":
        return MLPClassifier(random_state=seed, **cfg["params"])
    if cfg["kind"] == "paper":
        return GDCClassifier(**{**PAPER_RECIPE, **cfg["params"]}, random_state=seed)
    return GDCClassifier(random_state=seed, **cfg["params"])


def run_one(cfg: dict, seed: int) -> dict:
    worker_setup()
    X_tr, X_te, y_tr, y_te = load_split()
    est = make_estimator(cfg, seed)
    with Stopwatch() as sw:
        est.fit(X_tr, y_tr)
    lam_curve = getattr(est, "lambda_curve_", None)
    lam0 = None if not lam_curve or lam_curve[0] is None else float(lam_curve[0])
    lam_final = getattr(est, "lambda_", None)
    return dict(
        config=cfg["key"],
        seed=seed,
        test_accuracy=float(est.score(X_te, y_te)),
        train_accuracy=float(est.score(X_tr, y_tr)),
        fit_seconds=sw.seconds,
        n_iter=int(est.n_iter_),
        stop_reason=getattr(est, "stop_reason_", None)
        or ("max_iter" if est.n_iter_ >= est.max_iter else "converged"),
        final_stage=getattr(est, "stage_", None),
        lambda0=lam0,
        lambda_final=None if lam_final is None else float(lam_final),
        params={k: v for k, v in est.get_params().items() if not callable(v)},
    )


def summarize(cfg: dict, recs: list[dict]) -> dict:
    acc = np.array([r["test_accuracy"] for r in recs])
    lam0 = [r["lambda0"] for r in recs if r["lambda0"] is not None]
    return dict(
        key=cfg["key"],
        label=cfg["label"],
        kind=cfg["kind"],
        params=cfg["params"],
        n_runs=len(recs),
        test_accuracy_mean=float(acc.mean()),
        test_accuracy_std=float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
        test_accuracy_min=float(acc.min()),
        test_accuracy_max=float(acc.max()),
        train_accuracy_mean=float(np.mean([r["train_accuracy"] for r in recs])),
        fit_seconds_mean=float(np.mean([r["fit_seconds"] for r in recs])),
        n_iter_mean=float(np.mean([r["n_iter"] for r in recs])),
        stop_reasons=dict(Counter(r["stop_reason"] for r in recs)),
        final_stages=dict(Counter(str(r["final_stage"]) for r in recs)),
        lambda0_median=float(np.median(lam0)) if lam0 else None,
        lambda_final_median=(
            float(np.median([r["lambda_final"] for r in recs if r["lambda_final"] is not None]))
            if any(r["lambda_final"] is not None for r in recs) else None
        ),
        n_lambda_changed=int(sum(
            r["lambda0"] is not None and r["lambda_final"] is not None
            and abs(r["lambda_final"] - r["lambda0"]) > 1e-12 * abs(r["lambda0"])
            for r in recs
        )),
    )


def reading(summ: list[dict], n_test: int) -> str:
    s = {x["key"]: x for x in summ}

    def acc(k):
        return f"{100 * s[k]['test_accuracy_mean']:.2f} ± {100 * s[k]['test_accuracy_std']:.2f} %"

    best = max(summ, key=lambda x: x["test_accuracy_mean"])
    worst = min(summ, key=lambda x: x["test_accuracy_mean"])
    return (
        f"Highest mean test accuracy: {best['label']} ({acc(best['key'])}); lowest: "
        f"{worst['label']} ({acc(worst['key'])}). With SSE: GDC {acc('gdc_sse')}, constant "
        f"NRAE {acc('constant_sse')}, ANRAT {acc('adaptive_sse')}, plain {acc('none_sse')}. "
        f"With cross-entropy: GDC {acc('gdc_cross_entropy')}, constant "
        f"{acc('constant_cross_entropy')}, ANRAT {acc('adaptive_cross_entropy')}, plain "
        f"{acc('none_cross_entropy')}. MLPClassifier {acc('mlp')}; paper recipe with "
        f"minibatches {acc('paper_minibatch')}, training accuracy "
        f"{100 * s['paper_minibatch']['train_accuracy_mean']:.1f} %, final stages "
        f"{s['paper_minibatch']['final_stages']} (its SGD lr 1e-4 was set for pairwise steps: a step on the mean of 16 samples "
        "is about as long as one pairwise step, so an epoch covers roughly 1/16 of the "
        f"pairwise distance). One test image is {100 / n_test:.2f} %; compare differences "
        "between rows with the std column. GDC lowered λ in "
        f"{s['gdc_sse']['n_lambda_changed']}/{s['gdc_sse']['n_runs']} SSE runs and "
        f"{s['gdc_cross_entropy']['n_lambda_changed']}/{s['gdc_cross_entropy']['n_runs']} "
        "cross-entropy runs (final stages in the table); where it never did, "
        "GDC trained exactly as constant NRAE at the auto λ₀."
    )


def markdown(payload: dict) -> str:
    env = payload["environment"]
    title = "Digits: GDCClassifier schedules × criteria vs MLPClassifier"
    if payload["quick"]:
        title += " — QUICK SMOKE RUN, not a result"
    out = [header_block(title, env, payload["command"], payload["wall_seconds"], payload["started"],
                        payload.get("git_end"))]
    out.append(
        f"`load_digits`, stratified 75/25 split (random_state=0: {payload['n_train']} train, "
        f"{payload['n_test']} test), StandardScaler on the training part, seeds "
        f"{payload['seeds'][0]}–{payload['seeds'][-1]} (estimator `random_state`), "
        f"n_jobs={payload['n_jobs']} with one torch thread per worker. GDC rows use the "
        "defaults otherwise (hidden (100,), relu, Adam lr 1e-3, batch 200, max_iter=200, "
        "tol=1e-4, float32, lambda_init=\"auto\"). Accuracy: mean ± sample std over seeds.\n"
    )
    rows = []
    for x in payload["summary"]:
        stops = ", ".join(f"{k} {v}" for k, v in sorted(x["stop_reasons"].items()))
        stages = ", ".join(f"{k} {v}" for k, v in sorted(x["final_stages"].items())) if x["kind"] != "mlp" else "—"
        rows.append([
            x["label"],
            f"**{100 * x['test_accuracy_mean']:.2f} ± {100 * x['test_accuracy_std']:.2f}**",
            f"{100 * x['test_accuracy_min']:.2f}–{100 * x['test_accuracy_max']:.2f}",
            f"{100 * x['train_accuracy_mean']:.2f}",
            f"{x['fit_seconds_mean']:.2f}",
            f"{x['n_iter_mean']:.0f}",
            "—" if x["lambda0_median"] is None else fmt_g(x["lambda0_median"]),
            "—" if x["lambda_final_median"] is None
            else f"{fmt_g(x['lambda_final_median'])} ({x['n_lambda_changed']}/{x['n_runs']} moved)",
            stops,
            stages,
        ])
    out.append(md_table(
        ["method", "test acc % (mean ± std)", "min–max", "train acc %", "fit s", "epochs",
         "λ₀ median", "final λ median (runs where λ moved)", "stop reasons", "final stage"],
        rows,
    ))
    out.append("\n" + reading(payload["summary"], payload["n_test"]) + "\n")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="seconds-long smoke version")
    ap.add_argument("--out", default=None,
                    help="output directory (default benchmarks/results; "
                         "benchmarks/results/quick with --quick)")
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args(argv)
    out_dir = Path(args.out) if args.out else (DEFAULT_OUT / "quick" if args.quick else DEFAULT_OUT)

    seeds = [0, 1] if args.quick else list(range(10))
    cfgs = configs(args.quick)
    started = now_iso()
    env = environment()  # at the start: the library version the workers import
    X_tr, X_te, _, _ = load_split()
    with Stopwatch() as total:
        tasks = [(c, s) for s in seeds for c in cfgs]
        records = Parallel(n_jobs=args.n_jobs)(delayed(run_one)(c, s) for c, s in tasks)
    summary = [summarize(c, [r for r in records if r["config"] == c["key"]]) for c in cfgs]
    payload = dict(
        benchmark=NAME,
        quick=args.quick,
        started=started,
        wall_seconds=total.seconds,
        command=command_line(),
        environment=env,
        git_end=git_state(),
        n_jobs=args.n_jobs,
        seeds=seeds,
        split=dict(test_size=0.25, stratify=True, random_state=0, scaler="StandardScaler"),
        n_train=int(X_tr.shape[0]),
        n_test=int(X_te.shape[0]),
        summary=summary,
        records=records,
    )
    jpath, mpath = write_results(out_dir, NAME, payload, markdown(payload))
    print(f"wrote {jpath} and {mpath} (wall {total.seconds / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
