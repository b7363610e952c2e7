"""
CPNA on 3-D XOR with irrelevant features
========================================

The label of k-D XOR data is the sign of the product of k informative features;
every marginal model of fewer than k features is useless, and the remaining p − k
irrelevant features let a dense network fit the training set in a shallow local
optimum that generalizes poorly (Guo & Barbu, *Finding deep local optima using
network pruning*). :class:`skconvex.CPNAClassifier` starts from a wide dense ReLU
network, then prunes it gradually, first the hidden→output connections and then the
input→hidden ones, normalizing the hidden units before every pruning step, and
trains the sparse network that remains. Pruning the input layer selects features.

Here: 3-D XOR in p = 20 dimensions, 2000 training and 2000 test samples; a dense
network trained for as many iterations as CPNA against CPNA with 12 hidden→output
and 24 input→hidden connections at the end.
"""

# %%
from sklearn.metrics import roc_auc_score

from skconvex import CPNAClassifier
from skconvex.datasets import make_xor

X, y, informative = make_xor(
    4000, n_features=20, n_informative=3, random_state=0, return_informative=True
)
X_train, y_train, X_test, y_test = X[:2000], y[:2000], X[2000:], y[2000:]

common = dict(hidden_layer_sizes=(256,), batch_size=100, random_state=0)

# The baseline: the same network, dense, for the same 300 iterations (epochs).
dense = CPNAClassifier(n_connections={}, pretrain_iter=300, **common)
dense.fit(X_train, y_train)

# CPNA: 100 dense iterations, then one stage of 100 iterations per layer:
# hidden→output down to 12 connections, then input→hidden down to 24.
cpna = CPNAClassifier(
    n_connections={"hidden": 12, "input": 24}, pretrain_iter=100, prune_iter=100, **common
)
# The test set is passed as validation data only to record its AUC and loss at every
# iteration (for the figure below); it does not influence training.
cpna.fit(X_train, y_train, X_val=X_test, y_val=y_test)

for name, model in [("dense network", dense), ("CPNA", cpna)]:
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    print(f"{name:14s} test AUC {auc:.4f}")

# %%
# What is left of the network, and which features it reads:
print("kept connections per layer:", cpna.n_connections_)
print("live hidden units:", cpna.n_active_hidden_)
print("selected features:   ", cpna.get_support(indices=True).tolist())
print("informative features:", informative.tolist())

# %%
# The training history, as in the paper's Figure 8: kept connections per layer
# (log scale; M_e of the annealing schedule while a layer is pruned), ROC AUC and
# cross-entropy on the training and the monitored (here: test) data. Pruning the
# hidden→output connections also removes the input connections of the hidden units
# that lose all their outgoing ones.
from skconvex.plotting import plot_cpna_history

fig = plot_cpna_history(cpna)
