#!/usr/bin/python3
"""The drift benchmark's peer: scipy's ks_2samp plus the seed article's numpy
PSI, corrected to bin both samples on the reference's decile edges (the
seed's calculate_psi histograms each sample on its own edges). Reads
DIR/ref.f64 and DIR/cur.f64 (written by bench/drift/gen) and prints JSON:
the time of each part and every feature's statistics."""
import json
import sys
import time

import numpy as np
from scipy import stats


def psi(ref, cur, bins=10):
    edges = np.quantile(ref, np.arange(1, bins) / bins)
    e = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=bins) / len(ref)
    a = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=bins) / len(cur)
    e = np.clip(e, 0.001, None)
    a = np.clip(a, 0.001, None)
    return float(np.sum((a - e) * np.log(a / e)))


def main():
    d, features = sys.argv[1], int(sys.argv[2])
    ref = np.fromfile(d + "/ref.f64", dtype="<f8").reshape(features, -1)
    cur = np.fromfile(d + "/cur.f64", dtype="<f8").reshape(features, -1)
    out, ks_s, psi_s = [], 0.0, 0.0
    for i in range(features):
        t0 = time.perf_counter()
        r = stats.ks_2samp(ref[i], cur[i])
        t1 = time.perf_counter()
        p = psi(ref[i], cur[i])
        t2 = time.perf_counter()
        ks_s += t1 - t0
        psi_s += t2 - t1
        out.append({"ks_statistic": float(r.statistic), "ks_pvalue": float(r.pvalue), "psi": p})
    json.dump({"ks_seconds": ks_s, "psi_seconds": psi_s, "features": out}, sys.stdout)


main()
