"""The ``uci-search`` experiment: grids, equal budgets, split sizes, summary math, a tiny run."""

from __future__ import annotations

import functools

import itertools
import math
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import ParameterGrid, train_test_split
from sklearn.preprocessing import MinMaxScaler

from skconvex import GDCClassifier, GradualStatisticalPruning
from skconvex.datasets._uci import _CAR_ATTRIBUTES
from skconvex.experiments import Context, get_experiment
from skconvex.experiments import uci_search as us


def _real_home() -> Path:
    env = os.environ.get("SKCONVEX_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


SIZES = {
    "tiny": Context(tiny=True, quick=True),
    "quick": Context(quick=True),
    "full": Context(),
}


# --- registration and sizes ---------------------------------------------------------------


def test_registered():
    exp = get_experiment("uci-search")
    assert exp.needs == ("uci",)
    assert exp.run is us.run
    quick, full = exp.minutes
    assert quick <= 5 and 30 <= full <= 60


def test_budget_sizes():
    tiny, quick, full = (us.make_budget(c) for c in SIZES.values())
    assert tiny.datasets == ("car",) and tiny.n_folds == 2 and tiny.n_seeds == 1
    assert len(ParameterGrid(us.gdc_param_grid(tiny))) <= 2 and tiny.max_iter <= 10
    assert quick.datasets == full.datasets == ("car", "segmentation", "optdigits", "mfeat", "isolet")
    assert quick.n_folds == full.n_folds == 5  # the 5-fold CV
    assert full.n_seeds >= 3  # a standard deviation needs more than one seed
    for b in (tiny, quick, full):
        assert b.test_size == 0.2  # the 4:1 split


@pytest.mark.parametrize("size", SIZES)
def test_grids_have_equal_size_and_reach_real_parameters(size):
    budget = us.make_budget(SIZES[size])
    gdc_points = list(ParameterGrid(us.gdc_param_grid(budget)))
    mlp_points = list(ParameterGrid(us.mlp_param_grid(budget)))
    assert len(gdc_points) == len(mlp_points)
    assert len(gdc_points) == len(budget.lambda_init) * len(budget.lambda_decay) * len(budget.z_max)
    # Every grid point sets the intended attribute of the inner estimators.
    for point in gdc_points:
        pipe = us.make_gdc_pipeline(budget, seed=0).set_params(**point)
        gsp = pipe.named_steps["model"]
        assert isinstance(gsp, GradualStatisticalPruning) and isinstance(gsp.estimator, GDCClassifier)
        assert gsp.estimator.lambda_init == point["model__estimator__lambda_init"]
        assert gsp.estimator.lambda_decay == point["model__estimator__lambda_decay"]
        assert gsp.z_max == point["model__z_max"]
    for point in mlp_points:
        mlp = us.make_mlp_pipeline(budget, seed=0).set_params(**point).named_steps["model"]
        assert (mlp.alpha, mlp.learning_rate_init) == (point["model__alpha"], point["model__learning_rate_init"])


def test_pipelines_scale_inside_and_share_the_network():
    budget = us.make_budget(SIZES["full"])
    gdc = us.make_gdc_pipeline(budget, seed=3)
    mlp = us.make_mlp_pipeline(budget, seed=3)
    for pipe in (gdc, mlp):
        scaler = pipe.steps[0][1]
        assert isinstance(scaler, MinMaxScaler)
        assert scaler.feature_range == (-1, 1) and scaler.clip
    net, mlp_model = gdc.named_steps["model"].estimator, mlp.named_steps["model"]
    for attr in ("hidden_layer_sizes", "solver", "batch_size", "tol", "n_iter_no_change", "random_state"):
        assert getattr(net, attr) == getattr(mlp_model, attr), attr
    assert net.max_iter == budget.max_iter
    assert gdc.named_steps["model"].random_state == 3


def test_invalid_budgets_raise():
    base = us.make_budget(SIZES["tiny"])
    kwargs = {**base.__dict__}
    with pytest.raises(ValueError, match="grids differ"):
        us.SearchBudget(**{**kwargs, "alpha": (1e-4,)})
    with pytest.raises(ValueError, match="z_start"):
        us.SearchBudget(**{**kwargs, "z_max": (0.25, 1.0)})


# --- z ladders and the epoch budget ---------------------------------------------------------


def test_z_ladder_is_gsps_own():
    np.testing.assert_allclose(us.z_ladder(0.5, 1.5, 0.5), [0.5, 1.0, 1.5])
    np.testing.assert_allclose(us.z_ladder(0.5, 3.0, 0.5), [0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    np.testing.assert_allclose(us.z_ladder(0.5, 0.5, 0.5), [0.5])
    gsp = GradualStatisticalPruning(GDCClassifier(), z_start=0.2, z_max=3.0, z_step=0.1)
    np.testing.assert_array_equal(us.z_ladder(0.2, 3.0, 0.1), gsp.z_grid())


def test_epoch_caps_exact():
    # tiny: 5 epochs + 1 retraining epoch per rung; ladders [0.5] and [0.5, 1.0].
    tiny = us.make_budget(SIZES["tiny"])
    assert us.gdc_epoch_caps(tiny) == [6, 7]
    assert us.mlp_max_iter(tiny) == 7
    # quick: 50 + 3 per rung, ladders of 2 and 4 rungs; z_max varies fastest in ParameterGrid.
    quick = us.make_budget(SIZES["quick"])
    assert us.gdc_epoch_caps(quick) == [56, 62] * 2
    assert us.mlp_max_iter(quick) == 59
    # full: 200 + 5 per rung, ladders of 3 and 6 rungs, 12 points.
    full = us.make_budget(SIZES["full"])
    assert us.gdc_epoch_caps(full) == [215, 230] * 6
    assert us.mlp_max_iter(full) == 223  # ceil(222.5)
    assert us.make_mlp_pipeline(full, seed=0).named_steps["model"].max_iter == 223


@pytest.mark.parametrize("size", SIZES)
def test_total_epoch_caps_match(size):
    """Same points and folds: the MLP's total cap exceeds skconvex's by less than one epoch a point."""
    budget = us.make_budget(SIZES[size])
    caps = us.gdc_epoch_caps(budget)
    n = len(caps)
    excess = us.mlp_max_iter(budget) * n - sum(caps)
    assert 0 <= excess < n


# --- split sizes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, expected",
    [(1728, (1382, 346)), (2310, (1848, 462)), (5620, (4496, 1124)), (2000, (1600, 400)), (1559, (1247, 312))],
)
def test_split_sizes(n, expected):
    assert us.split_sizes(n) == expected
    # ... and they are what the stratified split of the experiment produces.
    y = np.arange(n) % 4
    X = np.zeros((n, 1))
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    assert (len(X_train), len(X_test)) == expected


# --- summary math --------------------------------------------------------------------------


def _record(name, seed, gdc_acc, mlp_acc, sparsity, kept_z=1.0):
    return {
        "dataset": name, "seed": seed, "n_train": 80, "n_test": 20,
        "gdc": {"test_accuracy": gdc_acc, "sparsity": sparsity, "search_seconds": 2.0,
                "lambda_init": "auto", "lambda_decay": 0.5, "z_max": 2.0, "kept_z": kept_z},
        "mlp": {"test_accuracy": mlp_acc, "search_seconds": 1.0, "alpha": 1e-4, "learning_rate_init": 1e-3},
    }


def test_summarize_exact():
    records = [
        _record("car", 0, 0.90, 0.80, 0.50),
        _record("car", 1, 0.80, 0.90, 0.30, kept_z=None),
        _record("car", 2, 0.70, 0.70, 0.10),
        _record("mfeat", 0, 0.95, 0.97, 0.60),
    ]
    s = us.summarize(records)
    assert list(s) == ["car", "mfeat", "overall"]
    car = s["car"]
    assert car["n_seeds"] == 3
    assert car["gdc_accuracy_mean"] == pytest.approx(0.8)
    assert car["gdc_accuracy_sd"] == pytest.approx(0.1)  # sample sd (ddof=1)
    assert car["mlp_accuracy_mean"] == pytest.approx(0.8)
    assert car["mlp_accuracy_sd"] == pytest.approx(0.1)
    assert car["difference_mean"] == pytest.approx(0.0)
    assert car["sparsity_mean"] == pytest.approx(0.3) and car["sparsity_sd"] == pytest.approx(0.2)
    assert car["gdc_search_seconds"] == 6.0 and car["mlp_search_seconds"] == 3.0
    assert math.isnan(s["mfeat"]["gdc_accuracy_sd"])  # one seed: no sd
    assert s["mfeat"]["difference_mean"] == pytest.approx(-0.02)
    assert s["overall"]["gdc_accuracy_mean"] == pytest.approx((0.8 + 0.95) / 2)
    assert s["overall"]["mlp_accuracy_mean"] == pytest.approx((0.8 + 0.97) / 2)
    assert s["overall"]["sparsity_mean"] == pytest.approx((0.3 + 0.6) / 2)
    assert s["overall"]["n_datasets"] == 2

    table = us._table(records, s)
    assert "| car (80/20) | 80.00 ± 10.00 | 30.00 ± 20.00 |" in table
    assert "auto, 0.5, 2 → 1 ×2; auto, 0.5, 2 → none ×1" in table
    assert "| mfeat (80/20) | 95.00 | 60.00 |" in table  # no "±" for a single seed
    reading = us._reading(s, n_seeds=3)
    assert "ahead on 0 (none)" in reading and "behind on 1 (mfeat)" in reading


def test_thread_context_restores_torch_threads():
    import torch

    before = torch.get_num_threads()
    with us._one_thread_per_worker():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


# --- runs ----------------------------------------------------------------------------------


def _synthetic_car_home(root: Path) -> Path:
    """All 1728 attribute combinations, the class a simple rule of buying and safety."""
    directory = root / "uci" / "car"
    directory.mkdir(parents=True)
    attributes = [categories for _, categories in _CAR_ATTRIBUTES]
    lines = []
    for row in itertools.product(*attributes):
        buying, safety = row[0], row[5]
        label = "unacc" if safety == "low" else ("vgood" if buying == "low" and safety == "high" else "acc")
        lines.append(",".join(row) + f",{label}")
    (directory / "car.data").write_text("\n".join(lines) + "\n")
    return root


def _check_record(record, budget, n_train, n_test):
    assert record["n_train"] == n_train and record["n_test"] == n_test
    gdc, mlp = record["gdc"], record["mlp"]
    for part in (gdc, mlp):
        assert 0.0 <= part["test_accuracy"] <= 1.0 and 0.0 <= part["cv_accuracy"] <= 1.0
        assert len(part["cv_results"]) == len(ParameterGrid(us.gdc_param_grid(budget)))
    assert 0.0 <= gdc["sparsity"] < 1.0
    assert gdc["lambda_init"] in budget.lambda_init and gdc["z_max"] in budget.z_max
    assert gdc["kept_z"] is None or gdc["kept_z"] <= gdc["z_max"]
    assert gdc["n_iter"] <= budget.max_iter and mlp["n_iter"] <= us.mlp_max_iter(budget)
    assert mlp["alpha"] in budget.alpha and mlp["learning_rate_init"] in budget.learning_rate_init


def test_run_one_synthetic_car(tmp_path, monkeypatch):
    """The whole path on a synthetic car.data: no shared data needed."""
    # The synthetic file is not the UCI original: skip the checksum it would fail.
    monkeypatch.setattr(us, "load_uci", functools.partial(us.load_uci, verify_checksum=False))
    budget = us.make_budget(SIZES["tiny"])
    home = _synthetic_car_home(tmp_path)
    record = us.run_one("car", 0, budget, home)
    _check_record(record, budget, 1382, 346)


def test_run_tiny_real_car():
    home = _real_home()
    if not (home / "uci" / "car").is_dir():
        pytest.skip(f"no car data in {home / 'uci'}")
    result = us.run(Context(tiny=True, quick=True, data_home=home))
    budget = us.make_budget(SIZES["tiny"])
    assert [r["dataset"] for r in result.records] == ["car"]
    _check_record(result.records[0], budget, 1382, 346)
    assert result.settings["total_epoch_cap"] == {"gdc": (6 + 7) * 2, "mlp": 7 * 2 * 2}
    assert result.settings["fits_per_search"] == 2 * 2 + 1
    assert "car (1382/346)" in result.table
    assert set(result.summary) == {"car", "overall"}
