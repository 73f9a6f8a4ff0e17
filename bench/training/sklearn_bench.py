#!/usr/bin/python3
"""scikit-learn's side of bench/training/run.sh.

    sklearn_bench.py gen --dir DIR --rows N   writes the data set
    sklearn_bench.py fit --dir DIR            times scikit-learn on it

The data set is make_classification's (20 features, 10 informative,
5 redundant, seed 42) as raw little-endian float64: X.f64 (rows x 20,
row-major) and y.f64. Both sides train on the first 80% of the rows and
score ROC AUC on the last 20%, timing predict_proba on it too. fit prints
"name value" lines.
"""
import argparse
import os
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

FEATURES = 20


def gen(args):
    X, y = make_classification(n_samples=args.rows, n_features=FEATURES, n_informative=10,
                               n_redundant=5, random_state=42)
    os.makedirs(args.dir, exist_ok=True)
    X.astype("<f8").tofile(os.path.join(args.dir, "X.f64"))
    y.astype("<f8").tofile(os.path.join(args.dir, "y.f64"))


def load(d):
    X = np.fromfile(os.path.join(d, "X.f64"), dtype="<f8").reshape(-1, FEATURES)
    y = np.fromfile(os.path.join(d, "y.f64"), dtype="<f8").astype(int)
    cut = len(y) - len(y) // 5
    return X[:cut], y[:cut], X[cut:], y[cut:]


def fit(args):
    Xtr, ytr, Xte, yte = load(args.dir)
    for name, model in [
        ("logistic_regression", LogisticRegression(solver="lbfgs")),
        ("random_forest", RandomForestClassifier(n_estimators=args.trees, max_depth=args.depth,
                                                 n_jobs=2, random_state=0)),
    ]:
        start = time.perf_counter()
        model.fit(Xtr, ytr)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        proba = model.predict_proba(Xte)
        predict = time.perf_counter() - start
        auc = roc_auc_score(yte, proba[:, 1])
        print(f"{name}_seconds {seconds:.3f}", flush=True)
        print(f"{name}_auc {auc:.6f}", flush=True)
        print(f"{name}_predict_rows_per_second {len(yte) / predict:.0f}", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("step", choices=["gen", "fit"])
    p.add_argument("--dir", required=True)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--trees", type=int, default=100)
    p.add_argument("--depth", type=int, default=10)
    a = p.parse_args()
    gen(a) if a.step == "gen" else fit(a)
