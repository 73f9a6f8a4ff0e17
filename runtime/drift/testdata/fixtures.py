#!/usr/bin/python3
"""Generate scipy_fixtures.json: the expected drift statistics for the Go tests.

Run with Debian's python3 (scipy 1.10, numpy 1.24):
    /usr/bin/python3 runtime/drift/testdata/fixtures.py > runtime/drift/testdata/scipy_fixtures.json

Samples are not stored: both sides regenerate them from a seed with the same
exact integer and IEEE arithmetic (see sample() and drift's gen_test.go), so
the fixture stays small while the cases run to hundreds of thousands of rows.
"""
import json
import sys

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

MASK = (1 << 64) - 1


def splitmix(seed, n):
    """n uniforms in [0, 1) from splitmix64, 53 bits each."""
    out = np.empty(n)
    x = seed & MASK
    for i in range(n):
        x = (x + 0x9E3779B97F4A7C15) & MASK
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z = z ^ (z >> 31)
        out[i] = (z >> 11) * (1.0 / (1 << 53))
    return out


def sample(spec):
    """Irwin–Hall(4) values, scaled and shifted; optionally floored to tenths."""
    n = spec["n"]
    u = splitmix(spec["seed"], 4 * n).reshape(n, 4)
    v = (((u[:, 0] + u[:, 1]) + u[:, 2]) + u[:, 3] - 2.0) * spec["scale"] + spec["shift"]
    if spec.get("tenths"):
        v = np.floor(v * 10.0) / 10.0
    return v


def numeric_case(name, ref, cur, bins=10):
    a, b = sample(ref), sample(cur)
    ks = stats.ks_2samp(a, b)
    q = np.arange(1, bins) / bins
    edges = np.quantile(a, q)
    ec = np.bincount(np.searchsorted(edges, a, side="right"), minlength=bins)
    ac = np.bincount(np.searchsorted(edges, b, side="right"), minlength=bins)
    ep = np.clip(ec / len(a), 0.001, None)
    ap = np.clip(ac / len(b), 0.001, None)
    psi = np.sum((ap - ep) * np.log(ap / ep))
    wd = stats.wasserstein_distance(a, b)
    return {
        "name": name, "ref": ref, "cur": cur, "bins": bins,
        "ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue),
        "edges": edges.tolist(), "ref_counts": ec.tolist(), "cur_counts": ac.tolist(),
        "psi": float(psi),
        "wasserstein": float(wd),
        "wasserstein_normed": float(wd / max(np.std(a), 0.001)),
        "js": float(distance.jensenshannon(ec, ac)),
        "js_base2": float(distance.jensenshannon(ec, ac, base=2)),
    }


def num(x):
    """A float for JSON; inf and nan as the strings "inf" and "nan"."""
    x = float(x)
    return x if np.isfinite(x) else str(x)


def g(seed, n, shift=0.0, scale=1.0, tenths=False):
    return {"seed": seed, "n": n, "shift": shift, "scale": scale, "tenths": tenths}


def categorical_case(name, ref, cur):
    keys = sorted(set(ref) | set(cur))
    rn, cn = sum(ref.values()), sum(cur.values())
    f_exp = [ref.get(k, 0) * (cn / rn) for k in keys]
    f_obs = [cur.get(k, 0) for k in keys]
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = stats.chisquare(f_obs, f_exp)
    out = {"name": name, "ref": ref, "cur": cur, "keys": keys,
           "chi2_statistic": num(chi.statistic), "chi2_pvalue": num(chi.pvalue),
           "js": float(distance.jensenshannon([ref.get(k, 0) for k in keys], f_obs))}
    if len(keys) == 2:
        k = keys[0]
        p1, p2 = ref.get(k, 0) / rn, cur.get(k, 0) / cn
        P = (p1 * rn + p2 * cn) / (rn + cn)
        z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / rn + 1.0 / cn))
        out["z"] = float(z)
        out["z_pvalue"] = float(2 * (1 - stats.norm.cdf(np.abs(z))))
    return out


def main():
    numeric = [
        numeric_case("equal sizes, no drift", g(1, 400), g(2, 400)),
        numeric_case("equal sizes, shifted", g(3, 500), g(4, 500, shift=0.3)),
        numeric_case("unequal sizes, exact", g(5, 1000), g(6, 700, shift=0.1)),
        numeric_case("ties from rounding", g(7, 900, tenths=True), g(8, 600, shift=0.05, tenths=True)),
        numeric_case("exact at the auto limit", g(9, 10000), g(10, 3000, scale=1.1)),
        numeric_case("asymptotic, durbin", g(11, 12000), g(12, 30000)),
        numeric_case("asymptotic, smirnov", g(13, 20000), g(14, 15000, shift=0.04)),
        numeric_case("asymptotic, far apart", g(15, 20000), g(16, 20000, shift=1.0)),
        numeric_case("asymptotic, pelz-good", g(17, 250000), g(18, 200000)),
        numeric_case("asymptotic, small n pomeranz", g(19, 20000), g(20, 60, shift=0.25)),
        numeric_case("asymptotic, small n durbin", g(21, 20000), g(22, 120)),
        numeric_case("asymptotic, small n smirnov", g(23, 20000), g(24, 100, shift=0.8)),
        numeric_case("constant reference", g(25, 300, scale=0.0, shift=2.0), g(26, 300)),
        numeric_case("twenty bins", g(27, 5000), g(28, 5000, scale=1.5), bins=20),
    ]
    categorical = [
        categorical_case("three categories", {"a": 500, "b": 300, "c": 200}, {"a": 420, "b": 330, "c": 250}),
        categorical_case("unseen in training", {"a": 500, "b": 500}, {"a": 300, "b": 300, "z": 10}),
        categorical_case("two categories", {"no": 900, "yes": 100}, {"no": 780, "yes": 120}),
        categorical_case("two categories, same", {"no": 700, "yes": 300}, {"no": 350, "yes": 150}),
    ]
    # kstwo.sf at points that reach each of its methods (Simard & L'Ecuyer).
    kstwo = [{"n": n, "x": x, "sf": num(stats.kstwo.sf(x, n))} for n, x in [
        (100, 0.05), (50000, 0.0008), (200, 0.003), (100, 0.008), (100, 0.995),
        (100, 0.6), (2000, 0.05), (500000, 0.003), (500000, 0.001), (100, 0.15),
        (100, 0.25), (1, 0.7), (140, 0.004), (3000, 0.02),
    ]]
    json.dump({"scipy": scipy.__version__, "numpy": np.__version__,
               "numeric": numeric, "categorical": categorical, "kstwo": kstwo}, sys.stdout, indent=1, allow_nan=False)
    sys.stdout.write("\n")


main()
