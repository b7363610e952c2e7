"""``python -m skconvex``: the main job on scikit-learn's digits, in about half a minute.

Trains GDCClassifier (gradual deconvexification of NRAE) and scikit-learn's
MLPClassifier on the same split and prints their test accuracy and the λ path.
"""

from __future__ import annotations

import argparse
import time
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skconvex", description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-iter", type=int, default=200)
    args = parser.parse_args(argv)

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skconvex import GDCClassifier

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.seed
    )
    models = {
        "GDCClassifier": GDCClassifier(max_iter=args.max_iter, random_state=args.seed),
        "MLPClassifier": MLPClassifier(max_iter=args.max_iter, random_state=args.seed),
    }
    for name, model in models.items():
        pipe = make_pipeline(StandardScaler(), model)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        print(f"{name:14s} test accuracy {pipe.score(X_test, y_test):.4f}  fit {seconds:.1f} s")
    gdc = models["GDCClassifier"]
    stages = " → ".join(dict.fromkeys(gdc.stage_curve_))
    print(
        f"GDC: λ from {gdc.lambda_curve_[0]:.3g} to {gdc.lambda_curve_[-1]:.3g} over "
        f"{gdc.n_iter_} epochs, stages {stages}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
