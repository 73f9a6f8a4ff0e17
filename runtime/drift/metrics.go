package drift

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Gauges export each policy's last report to Prometheus, so that a
// Prometheus/Grafana user can alert on the statistics themselves:
//
//	sluice_drift_statistic{policy, feature, method}  the method's statistic
//	sluice_drift_p_value{policy, feature, method}    the test's p-value
//	sluice_drift_threshold{policy, feature, method}  the threshold in force
//	sluice_drift_feature_drifted{policy, feature}    1 drifted, 0 not
//	sluice_drift_dataset_drifted{policy, endpoint}   1 drift, 0 none, -1 no verdict
//	sluice_drift_window_rows{policy, endpoint}       rows in the window
//
// Only numbers that exist are exported: a p-value for tests, a statistic
// once a feature could be judged.
type Gauges struct {
	mu      sync.Mutex
	reports map[string]*Report
}

// NewGauges returns gauges with no reports yet.
func NewGauges() *Gauges { return &Gauges{reports: map[string]*Report{}} }

// Observe makes r its policy's current report.
func (g *Gauges) Observe(r *Report) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reports[r.Policy] = r
}

var (
	descStatistic = prometheus.NewDesc("sluice_drift_statistic", "A drift policy's statistic for a feature in its last check.", []string{"policy", "feature", "method"}, nil)
	descPValue    = prometheus.NewDesc("sluice_drift_p_value", "The p-value of a drift policy's test for a feature in its last check.", []string{"policy", "feature", "method"}, nil)
	descThreshold = prometheus.NewDesc("sluice_drift_threshold", "The threshold a feature's statistic (or p-value, for tests) was judged against.", []string{"policy", "feature", "method"}, nil)
	descFeature   = prometheus.NewDesc("sluice_drift_feature_drifted", "1 when the feature drifted in the policy's last check, else 0.", []string{"policy", "feature"}, nil)
	descDataset   = prometheus.NewDesc("sluice_drift_dataset_drifted", "1 when the policy's last check found the dataset drifted, 0 when not, -1 without a verdict.", []string{"policy", "endpoint"}, nil)
	descRows      = prometheus.NewDesc("sluice_drift_window_rows", "Captured rows in the policy's last window.", []string{"policy", "endpoint"}, nil)
)

// Describe implements prometheus.Collector.
func (g *Gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStatistic, descPValue, descThreshold, descFeature, descDataset, descRows} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (g *Gauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range g.reports {
		verdict := map[string]float64{VerdictDrift: 1, VerdictNoDrift: 0}[r.Verdict]
		if r.Verdict == VerdictNoVerdict {
			verdict = -1
		}
		ch <- prometheus.MustNewConstMetric(descDataset, prometheus.GaugeValue, verdict, r.Policy, r.Endpoint)
		ch <- prometheus.MustNewConstMetric(descRows, prometheus.GaugeValue, float64(r.CurrentRows), r.Policy, r.Endpoint)
		for _, fs := range [][]FeatureReport{r.Features, r.Prediction} {
			for _, f := range fs {
				collectFeature(ch, r.Policy, f)
			}
		}
	}
}

func collectFeature(ch chan<- prometheus.Metric, policy string, f FeatureReport) {
	if f.Verdict == VerdictNoVerdict {
		return
	}
	drifted := 0.0
	if f.Drifted() {
		drifted = 1
	}
	ch <- prometheus.MustNewConstMetric(descFeature, prometheus.GaugeValue, drifted, policy, f.Name)
	if f.Method == "" {
		return
	}
	if f.Statistic.Valid() {
		ch <- prometheus.MustNewConstMetric(descStatistic, prometheus.GaugeValue, float64(f.Statistic), policy, f.Name, f.Method)
	}
	if f.PValue.Valid() {
		ch <- prometheus.MustNewConstMetric(descPValue, prometheus.GaugeValue, float64(f.PValue), policy, f.Name, f.Method)
	}
	ch <- prometheus.MustNewConstMetric(descThreshold, prometheus.GaugeValue, f.Threshold, policy, f.Name, f.Method)
}
