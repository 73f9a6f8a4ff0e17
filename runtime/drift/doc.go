// Package drift measures whether an endpoint's live traffic still looks like
// the data its model was trained on, and acts by policy when it does not.
//
// The statistics are the ones Evidently and NannyML use, computed to match
// scipy and numpy to 1e-9 on the same inputs (testdata/fixtures.py makes the
// fixtures): PSI over reference-quantile bins shared by both samples, the
// two-sample Kolmogorov–Smirnov test with scipy's exact or asymptotic
// p-value, the 1-D Wasserstein distance (optionally normed by the
// reference's standard deviation), the Jensen–Shannon distance, Pearson's
// chi-square for categories and the Z-test for two proportions.
//
// The reference is fitted once, when a model version is trained, into a
// sketch per feature that every statistic can be computed from; captured
// traffic is buffered asynchronously and written to the state store in
// batches. The package imports no other runtime package: the engine adapts
// serving's captured rows into this package's own row type.
package drift
