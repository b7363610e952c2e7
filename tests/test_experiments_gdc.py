"""The GDC (Tables I, II) and ANRAT reproductions: paper constants, split, recipes, summaries.

The generic tiny run of every registered experiment is in test_experiments.py; these
tests check the modules' own logic and are fast.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from skconvex.experiments import Context, get_experiment
from skconvex.experiments import anrat, gdc

SHARED = Path(__file__).resolve().parents[2] / "shared"
PAPERS = SHARED / "papers"


def _data_home() -> Path:
    env = os.environ.get("SKCONVEX_DATA")
    return Path(env) if env else SHARED / "data"


def _table_lines(path: Path, start: str, stop: str) -> list[str]:
    if not path.is_file():
        pytest.skip(f"{path} not present")
    text = path.read_text(encoding="utf-8").splitlines()
    i = text.index(start)
    j = next(k for k in range(i + 1, len(text)) if text[k].startswith(stop))
    return [line.strip() for line in text[i:j] if line.strip()]


def _percentages(line: str) -> list[float]:
    return [float(v) for v in re.findall(r"(\d+\.\d+)%", line)]


# ------------------------------------------------------------- paper constants
def test_table2_constants_are_the_papers():
    lines = _table_lines(PAPERS / "gdc-nrae-rae-statistical-pruning.txt", "TABLE II", "lower test error")
    body = [line for line in lines if "MLP(" in line]
    assert len(body) == len(gdc.PAPER_TABLE2) == 22
    for line, (method, network, errors) in zip(body, gdc.PAPER_TABLE2):
        assert line.startswith(f"{method} MLP({network}) "), line
        assert tuple(_percentages(line)) == errors, line


def test_table1_constants_are_the_papers():
    lines = _table_lines(PAPERS / "gdc-nrae-rae-statistical-pruning.txt", "TABLE I", "TABLE II")
    body = [line for line in lines if " LeNet-5 " in line]
    assert len(body) == len(gdc.PAPER_TABLE1) == 6
    for line, (method, error) in zip(body, gdc.PAPER_TABLE1):
        assert line.startswith(f"{method} LeNet-5 "), line
        assert _percentages(line) == [error], line


def test_table_constants_spot_values():
    # Independent of the text file: the numbers the reports quote.
    assert gdc.paper_row(gdc.PAPER_TABLE2, "GDC w/o RAE", "784-300-10") == (2.61, 2.67, 2.70, 2.73, 2.88)
    assert gdc.paper_row(gdc.PAPER_TABLE2, "GDC w/ RAE + Pruning", "784-1000-10") == (1.34,)
    assert gdc.paper_row(gdc.PAPER_TABLE2, "SSE", "784-1000-10") == (4.5,)
    assert gdc.paper_row(gdc.PAPER_TABLE1, "GDC w/ RAE + Pruning") == 0.84
    with pytest.raises(KeyError):
        gdc.paper_row(gdc.PAPER_TABLE2, "GDC w/o RAE", "784-1000-10")
    assert gdc.PAPER_GSP["z_start"] == 0.2 and gdc.PAPER_GSP["z_max"] == 3.0
    assert gdc.PAPER_GSP["z_step"] == 0.1 and gdc.PAPER_GSP["retrain_epochs"] == 10


def test_anrat_constants_are_the_papers():
    path = PAPERS / "anrat-cross-entropy-nrae.txt"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    text = path.read_text(encoding="utf-8")
    for method, error in anrat.PAPER_TABLE1:
        assert re.search(rf"^{re.escape(method)} {error:.2f}$", text, re.M), method
    assert "selected in {1, 0.5, 0.1} and {1, 0.1, 0.001}" in text
    assert re.search(r"The initial λ is fixed at\s+10\.", text)
    assert anrat.PAPER_GRID == dict(learning_rate=(1.0, 0.5, 0.1), penalty=(1.0, 0.1, 0.001), lambda_init=10.0)


# ------------------------------------------------------------------ the logic
def test_split_indices_is_bench_pruning_split():
    train, val = gdc.split_indices()
    assert len(train) == 50000 and len(val) == 10000
    assert len(np.intersect1d(train, val)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(60000))
    order = np.random.RandomState(0).permutation(60000)  # benchmarks/bench_pruning.py
    assert np.array_equal(train, order[:50000]) and np.array_equal(val, order[50000:])
    sub_train, sub_val = gdc.split_indices(n_train=500, n_val=300)
    assert np.array_equal(sub_train, train[:500]) and np.array_equal(sub_val, val[:300])
    with pytest.raises(ValueError):
        gdc.split_indices(n_train=50001)
    with pytest.raises(ValueError):
        gdc.split_indices(n_val=10001)


def test_gdc_recipe():
    from skconvex import PAPER_RECIPE

    rae = gdc.gdc_recipe("gdc_rae")
    assert rae["batch_size"] == gdc.BATCH == 100
    assert rae["learning_rate_init"] == pytest.approx(1e-4 * 100)
    assert rae["lambda_init"] == "auto" and rae["lambda_min"] == "auto"
    for key in ("momentum", "activation", "init", "normalizer", "alpha", "learning_rate", "solver"):
        assert rae[key] == PAPER_RECIPE[key]
    assert rae["switch_to_rae"] is True and rae["schedule"] == "gdc"
    assert gdc.gdc_recipe("gdc_norae")["switch_to_rae"] is False
    assert gdc.gdc_recipe("sse")["schedule"] == "none"
    ce = gdc.gdc_recipe("ce")
    assert ce["schedule"] == "none" and ce["criterion"] == "cross_entropy"
    with pytest.raises(ValueError):
        gdc.gdc_recipe("adam")


def test_error_summary():
    s = gdc.error_summary([1.0, 2.0, 3.0])
    assert s == dict(n=3, mean=2.0, std=1.0, min=1.0, max=3.0)
    assert gdc.error_summary([0.5]) == dict(n=1, mean=0.5, std=0.0, min=0.5, max=0.5)
    assert gdc.error_summary([])["n"] == 0
    assert gdc.fmt_errors(s) == "2.00 ± 1.00 (1.00–3.00)"
    assert gdc.fmt_errors(gdc.error_summary([0.5])) == "0.50"


def test_rows_from_records_aggregates_per_row_and_pruning():
    def rec(row, seed, err, pruning=()):
        return dict(row=row, seed=seed, test_error=err, val_error=err + 1, train_error=err - 1,
                    epochs=3, final_stage="rae", fit_seconds=1.0, pruning=list(pruning),
                    final_mean_sse=0.5, lambda0=None if row == "a" else 10.0)

    gsp = dict(variance="gauss_newton", test_error=1.5, sparsity=0.25, best_z=2.0, n_accepted=3,
               val_error_before=3.0, val_error_after=2.5)
    records = [rec("a", 0, 2.0), rec("a", 1, 4.0), rec("b", 0, 3.0, [gsp])]
    specs = [dict(row="a", method="A", network="n1", paper=(2.61, 2.67)),
             dict(row="b", method="B", network="n2", paper=(1.37,), prune=("gauss_newton",),
                  paper_pruned=(1.34,))]
    rows, summary = gdc._rows_from_records(specs, records)
    assert summary["a"]["test_error"]["mean"] == 3.0
    assert summary["a"]["test_error"]["std"] == pytest.approx(np.sqrt(2.0))
    assert summary["a"]["seeds"] == [0, 1]
    assert summary["b+gsp_gauss_newton"]["test_error"]["mean"] == 1.5
    assert summary["b+gsp_gauss_newton"]["sparsity"] == [0.25]
    assert [r[0] for r in rows] == ["A", "B", "B + GSP (Gauss–Newton z)"]
    assert rows[0][2] == "2.61, 2.67" and rows[2][2] == "1.34"
    assert rows[2][-1] == "25 % at z_c 2.0"
    assert rows[0][6] == "0.5" and rows[0][7] == "—" and rows[1][7] == "10"
    assert all(len(r) == len(gdc._HEADERS) for r in rows)


def test_sizes_grow_from_tiny_to_full():
    tiny, quick, full = Context(quick=True, tiny=True), Context(quick=True), Context()
    for sizes in (gdc._table2_sizes, gdc._table1_sizes, anrat._sizes):
        t, q, f = sizes(tiny), sizes(quick), sizes(full)
        n = [s["n_train"] or 50000 for s in (t, q, f)]
        e = [s["epochs"] for s in (t, q, f)]
        assert n[0] < n[1] <= n[2] and e[0] < e[1] <= e[2]
    assert gdc._table2_sizes(full)["n_train"] is None  # all 50 000 training images
    assert gdc._table1_sizes(tiny)["z_start"] == gdc._table1_sizes(tiny)["z_max"]  # one GSP step


def test_select_config_lowest_validation_first_on_ties():
    records = [dict(method="anrat", phase="grid", val_error=2.0, learning_rate=1.0, penalty=1.0),
               dict(method="anrat", phase="grid", val_error=1.0, learning_rate=0.5, penalty=1.0),
               dict(method="anrat", phase="grid", val_error=1.0, learning_rate=0.1, penalty=0.1),
               dict(method="anrat", phase="seeds", val_error=0.1, learning_rate=9.0, penalty=9.0),
               dict(method="ce", phase="grid", val_error=0.5, learning_rate=0.1, penalty=None)]
    best = anrat.select_config(records, "anrat")
    assert (best["learning_rate"], best["penalty"]) == (0.5, 1.0)
    assert anrat.select_config(records, "ce")["learning_rate"] == 0.1
    with pytest.raises(ValueError):
        anrat.select_config(records, "anrat_dropout")


def test_anrat_grid_is_papers_plus_smaller_rates():
    for ctx in (Context(quick=True), Context()):
        sizes = anrat._sizes(ctx)
        assert sizes["penalty"] == anrat.PAPER_GRID["penalty"]
        assert sizes["learning_rate"][:3] == anrat.PAPER_GRID["learning_rate"]
        assert all(lr < min(anrat.PAPER_GRID["learning_rate"]) for lr in sizes["learning_rate"][3:])


def test_anrat_params():
    p = anrat._params("anrat", 0.5, 0.1, 7, 0.2)
    assert p["schedule"] == "adaptive" and p["criterion"] == "cross_entropy"
    assert p["lambda_init"] == 10.0 and p["lambda_penalty"] == 0.1
    assert p["solver"] == "sgd" and p["momentum"] == 0.0 and p["module"] == "lenet5_20_50_500"
    assert p["early_stopping"] is True and p["max_iter"] == 7
    assert anrat._params("ce", 0.5, None, 7, 0.2)["schedule"] == "none"
    assert anrat._params("anrat_dropout", 0.5, 0.1, 7, 0.2)["module_params"] == {"dropout": anrat.DROPOUT}


def test_registered():
    for name in ("gdc-table2-mlp", "gdc-table1-lenet5", "anrat-lenet"):
        exp = get_experiment(name)
        assert exp.needs == ("mnist",)
        assert exp.minutes[0] < exp.minutes[1] <= 40


# ------------------------------------------------------------ with the data
def test_mnist_split_shapes_and_scaling():
    home = _data_home()
    if not (home / "mnist").is_dir():
        pytest.skip(f"MNIST not under {home}")
    X_tr, y_tr, X_va, y_va, X_te, y_te = gdc.mnist_split(home, n_train=200, n_val=100, n_test=50)
    assert X_tr.shape == (200, 784) and X_va.shape == (100, 784) and X_te.shape == (50, 784)
    assert X_tr.dtype == np.float32 and y_tr.shape == (200,)
    assert X_tr.min() == -1.0 and X_tr.max() == 1.0
    from skconvex.datasets import load_mnist

    X, y = load_mnist(home, subset="train", return_X_y=True, dtype=np.float32)
    train, val = gdc.split_indices(n_train=200, n_val=100)
    np.testing.assert_array_equal(X_tr, (X[train] * 2 - 1).astype(np.float32))
    np.testing.assert_array_equal(y_va, y[val])
