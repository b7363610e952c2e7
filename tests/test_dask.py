"""GridSearchCV over skconvex estimators on a dask.distributed cluster (joblib's dask backend).

The search runs on a local cluster of two worker processes with one thread each and
must choose the same parameters, with the same scores, as the sequential search: the
estimators are deterministic given ``random_state`` whatever process fits them.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skconvex import GDCClassifier

distributed = pytest.importorskip("distributed")

# cv_results_ entries that are wall-clock times and may differ between runs.
_TIMING_KEYS = {"mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"}


def _search(n_jobs=None):
    est = GDCClassifier(hidden_layer_sizes=(16,), max_iter=3, tol=0.0, random_state=0)
    grid = {"lambda_init": [1.0, 10.0], "learning_rate_init": [1e-3, 1e-2]}
    return GridSearchCV(est, grid, cv=3, n_jobs=n_jobs, error_score="raise")


def _data():
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16.0).astype(np.float32), y[:600]


@contextmanager
def _torch_threads(n):
    # The dask workers run torch with one thread (distributed sets OMP_NUM_THREADS=1
    # before it spawns them); the reference run uses one thread as well so that the
    # comparison is about the backend, not about a different reduction order.
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def test_grid_search_on_dask_local_cluster_matches_sequential():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with _torch_threads(1):
            reference = _search(n_jobs=1).fit(X, y)

        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            threads = client.run(lambda: __import__("torch").get_num_threads())
            assert set(threads.values()) == {1}, threads  # no oversubscription
            with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
                searched = _search().fit(X, y)
            workers = {task["worker"] for task in stream.data}

    assert workers, "no task ran on the dask cluster"
    assert searched.best_params_ == reference.best_params_
    assert searched.best_index_ == reference.best_index_
    assert set(searched.cv_results_) == set(reference.cv_results_)
    for key, expected in reference.cv_results_.items():
        if key in _TIMING_KEYS:
            continue
        got = searched.cv_results_[key]
        if key == "params":
            assert got == expected
        else:
            np.testing.assert_array_equal(np.asarray(got), np.asarray(expected), err_msg=key)
    np.testing.assert_array_equal(searched.predict(X), reference.predict(X))
