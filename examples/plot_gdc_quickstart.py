"""
GDC on scikit-learn's digits: the quick start
=============================================

Train :class:`skconvex.GDCClassifier` in a Pipeline, score it, and look at how the
risk-sensitivity index λ and the training error moved. This is the README's quick start.
"""

# %%
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skconvex import GDCClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

model = make_pipeline(StandardScaler(), GDCClassifier(random_state=0))
model.fit(X_train, y_train)
print(model.score(X_test, y_test))

gdc = model[-1]
print(gdc.lambda_curve_[:3], gdc.stage_curve_[-1])   # the λ path and the final stage

# %%
# The criterion minimized (NRAE at the epoch's λ), the plain mean error, and λ:
from skconvex.plotting import plot_training_history

plot_training_history(gdc)
