"""sample_weight is a first-class, routable fit argument; images may come as 4-d arrays."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate

from skconvex import GDCClassifier

pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)


def _data():
    rng = np.random.RandomState(0)
    X = rng.rand(60, 4)
    return X, (X[:, 0] > 0.5).astype(int), rng.rand(60)


def test_sample_weight_is_routed_by_cross_validate():
    X, y, w = _data()
    with sklearn.config_context(enable_metadata_routing=True):
        est = GDCClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
        est.set_fit_request(sample_weight=True).set_score_request(sample_weight=False)
        routed = cross_validate(est, X, y, cv=2, params={"sample_weight": w},
                                return_estimator=True)
    # The routed weights reach fit: the same folds fitted by hand with them agree.
    train = np.arange(30, 60)
    manual = GDCClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    manual.fit(X[train], y[train], sample_weight=w[train])
    np.testing.assert_array_equal(
        routed["estimator"][0].predict_proba(X), manual.predict_proba(X)
    )


def test_images_as_4d_arrays_and_rows_are_the_same_model():
    rng = np.random.RandomState(0)
    images = rng.rand(12, 1, 28, 28)
    y = np.arange(12) % 3
    a = GDCClassifier(module="lenet5", max_iter=1, random_state=0).fit(images, y)
    b = GDCClassifier(module="lenet5", max_iter=1, random_state=0).fit(images.reshape(12, -1), y)
    assert a.n_features_in_ == 784
    assert a._module_args_["params"]["image_shape"] == (1, 28, 28)
    np.testing.assert_array_equal(a.predict_proba(images), b.predict_proba(images.reshape(12, -1)))
    np.testing.assert_array_equal(a.predict(images), a.predict(images.reshape(12, -1)))


def test_non_square_images_need_image_shape():
    X = np.random.RandomState(0).rand(6, 600)
    with pytest.raises(ValueError, match="image_shape"):
        GDCClassifier(module="lenet5", max_iter=1).fit(X, [0, 1] * 3)
