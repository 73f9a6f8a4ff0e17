#!/usr/bin/python3
"""Writes the scikit-learn fixtures the training tests compare against.

Run with Debian's interpreter and python3-sklearn (1.2), from this
directory:

    /usr/bin/python3 sklearn_fixtures.py

It rewrites sklearn/*.json. The tests read the committed JSON; they never
run Python.
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import (accuracy_score, f1_score, log_loss,
                             mean_absolute_error, mean_squared_error,
                             precision_score, r2_score, recall_score,
                             roc_auc_score)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

OUT = "sklearn"


def write(name, value):
    os.makedirs(OUT, exist_ok=True)
    value["sklearn_version"] = sklearn.__version__
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.write("\n")


def floats(a):
    return [float(v) for v in np.asarray(a).ravel()]


def dataset(rng, n, classes):
    """Three numeric columns on different scales, one string column, and a
    label that depends on all of them."""
    x1 = rng.normal(10, 3, n)
    x2 = rng.normal(0, 0.01, n)
    x3 = rng.uniform(-5, 5, n)
    cat = rng.choice(["DE", "FR", "US"], n, p=[0.5, 0.3, 0.2])
    effect = np.select([cat == "DE", cat == "FR"], [0.0, 1.0], -1.0)
    score = 0.4 * (x1 - 10) + 120 * x2 - 0.3 * x3 + effect + rng.normal(0, 1, n)
    if classes == 0:
        y = 3 * score + 50
    elif classes == 2:
        y = (score > 0.3).astype(int)
    else:
        y = np.digitize(score, [-1, 1])  # 0, 1, 2
    cols = {"x1": x1, "x2": x2, "x3": x3, "cat": cat}
    return cols, y


def frame(cols, y, rows):
    return {
        "numeric": {k: floats(cols[k][rows]) for k in ("x1", "x2", "x3")},
        "strings": {"cat": [str(v) for v in cols["cat"][rows]]},
        "label": floats(y[rows]),
    }


def design(cols):
    import pandas as pd
    return pd.DataFrame(cols)


def pipeline(estimator):
    pre = ColumnTransformer([
        ("num", StandardScaler(), ["x1", "x2", "x3"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["cat"]),
    ])
    return make_pipeline(pre, estimator)


def exact(model):
    return model.set_params(solver="newton-cg", tol=1e-10, max_iter=10000)


def linear_fixtures():
    rng = np.random.RandomState(0)
    for name, classes, est in [
        # newton-cg converges to the optimum; lbfgs, as scipy runs it,
        # stops on a relative change of the loss about 1e-5 short of it.
        ("logistic_binary", 2, exact(LogisticRegression(C=1.0))),
        ("logistic_binary_c01_balanced", 2, exact(LogisticRegression(C=0.1, class_weight="balanced"))),
        ("logistic_multiclass", 3, exact(LogisticRegression(C=1.0))),
        ("linear_regression", 0, LinearRegression()),
        ("ridge", 0, Ridge(alpha=10.0)),
    ]:
        cols, y = dataset(rng, 300, classes)
        train, test = np.arange(0, 240), np.arange(240, 300)
        df = design(cols)
        model = pipeline(est).fit(df.iloc[train], y[train])
        out = {"train": frame(cols, y, train), "test": frame(cols, y, test)}
        if classes:
            out["probabilities"] = floats(model.predict_proba(df.iloc[test]))
        else:
            out["values"] = floats(model.predict(df.iloc[test]))
        write(name, out)


def forest_fixtures():
    rng = np.random.RandomState(1)
    for name, classes, est in [
        ("forest_classifier", 2, RandomForestClassifier(
            n_estimators=100, max_depth=6, class_weight="balanced", random_state=0, n_jobs=2)),
        ("forest_regressor", 0, RandomForestRegressor(
            n_estimators=100, max_depth=8, random_state=0, n_jobs=2)),
    ]:
        cols, y = dataset(rng, 1200, classes)
        train, test = np.arange(0, 900), np.arange(900, 1200)
        df = design(cols)
        model = pipeline(est).fit(df.iloc[train], y[train])
        out = {"train": frame(cols, y, train), "test": frame(cols, y, test)}
        if classes:
            out["roc_auc"] = roc_auc_score(y[test], model.predict_proba(df.iloc[test])[:, 1])
        else:
            out["r2"] = r2_score(y[test], model.predict(df.iloc[test]))
        names = list(model[0].get_feature_names_out())
        out["importances"] = dict(zip(names, floats(model[-1].feature_importances_)))
        write(name, out)


def classifier_metrics(y, probs, classes):
    labels = np.asarray(classes)[np.argmax(probs, axis=1)]
    binary = len(classes) == 2
    avg = "binary" if binary else "macro"
    kw = {"pos_label": classes[1]} if binary else {}
    m = {
        "accuracy": accuracy_score(y, labels),
        "precision": precision_score(y, labels, average=avg, zero_division=0, **kw),
        "recall": recall_score(y, labels, average=avg, zero_division=0, **kw),
        "f1": f1_score(y, labels, average=avg, zero_division=0, **kw),
        "log_loss": log_loss(y, probs, labels=classes),
    }
    if len(set(y)) > 1:
        if binary:
            m["roc_auc"] = roc_auc_score(y, probs[:, 1])
        else:
            m["roc_auc"] = roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=classes)
    return m


def metric_fixtures():
    rng = np.random.RandomState(2)
    cases = []
    # Binary, with ties in the scores (AUC must average them) and labels
    # that are not 0/1.
    y = rng.choice([3, 7], 200, p=[0.7, 0.3])
    p1 = np.round(np.clip(0.3 + 0.4 * (y == 7) + rng.normal(0, 0.25, 200), 0, 1), 1)
    probs = np.column_stack([1 - p1, p1])
    cases.append({"name": "binary_ties", "classes": [3, 7], "y": floats(y),
                  "probabilities": floats(probs), "metrics": classifier_metrics(y, probs, [3, 7])})
    # A classifier that never predicts the positive class: precision 0.
    y = rng.choice([0, 1], 50)
    p1 = rng.uniform(0, 0.4, 50)
    probs = np.column_stack([1 - p1, p1])
    cases.append({"name": "never_positive", "classes": [0, 1], "y": floats(y),
                  "probabilities": floats(probs), "metrics": classifier_metrics(y, probs, [0, 1])})
    # Three classes with a class absent from the predictions.
    y = rng.choice([0, 1, 2], 150)
    raw = rng.dirichlet([1, 1, 1], 150)
    raw[np.arange(150), y] += 0.3
    raw[:, 2] *= 0.2
    probs = raw / raw.sum(axis=1, keepdims=True)
    cases.append({"name": "multiclass", "classes": [0, 1, 2], "y": floats(y),
                  "probabilities": floats(probs), "metrics": classifier_metrics(y, probs, [0, 1, 2])})
    # Perfectly confident and wrong: log loss clips at float64 epsilon.
    y = np.array([0, 1, 1, 0])
    probs = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    cases.append({"name": "confident_wrong", "classes": [0, 1], "y": floats(y),
                  "probabilities": floats(probs), "metrics": classifier_metrics(y, probs, [0, 1])})
    regs = []
    y = rng.normal(100, 20, 120)
    pred = y + rng.normal(0, 5, 120)
    regs.append({"name": "noisy", "y": floats(y), "values": floats(pred)})
    y = np.full(10, 4.0)
    pred = y + rng.normal(0, 1, 10)
    regs.append({"name": "constant_truth", "y": floats(y), "values": floats(pred)})
    for r in regs:
        yt, yp = np.array(r["y"]), np.array(r["values"])
        r["metrics"] = {
            "rmse": float(np.sqrt(mean_squared_error(yt, yp))),
            "mae": mean_absolute_error(yt, yp),
            "r2": r2_score(yt, yp),
        }
    write("metrics", {"classifiers": cases, "regressors": regs})


if __name__ == "__main__":
    # newton-cg warns that its line search fails once at the optimum.
    warnings.simplefilter("ignore")
    linear_fixtures()
    forest_fixtures()
    metric_fixtures()
