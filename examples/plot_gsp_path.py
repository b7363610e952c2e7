"""
Gradual statistical pruning on digits: the pruning path
=======================================================

Train a :class:`skconvex.GDCClassifier`, then let
:class:`skconvex.GradualStatisticalPruning` raise the critical value z_c step by step,
keeping a pruned network only when its validation accuracy does not drop. The path
shows, for every z_c, how much the candidate pruned and how it scored.
"""

# %%
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skconvex import GDCClassifier, GradualStatisticalPruning

X, y = load_digits(return_X_y=True)
X = X / 8.0 - 1.0  # pixels in [-1, 1], as in the paper
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

net = GDCClassifier(hidden_layer_sizes=(100,), activation="lecun_tanh", max_iter=60,
                    random_state=0)
gsp = GradualStatisticalPruning(
    net, z_start=0.5, z_max=6.0, z_step=0.5, retrain_epochs=3, retrain_learning_rate=1e-3,
    variance="gauss_newton", accept="not_worse", random_state=0,
)
gsp.fit(X_train, y_train)
print(f"pruned {100 * gsp.sparsity_:.1f} % of the connections at z_c = {gsp.best_z_}")
print(f"test accuracy {gsp.score(X_test, y_test):.4f}")

# %%
# Sparsity and validation score of each candidate against z_c:
from skconvex.plotting import plot_pruning_path

fig = plot_pruning_path(gsp)

# %%
# The pruned MLP as a smaller dense one (hidden units without connections removed):
from skconvex.nn import masks

small, kept = masks.compact(gsp.estimator_.module_)
print(f"hidden units {gsp.estimator_.module_.linears[0].out_features} -> {len(kept[0])}; "
      f"multiply-adds {masks.flops(gsp.estimator_.module_)} -> {masks.flops(small)}")
