package drift

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestGaugesExportTheLastReportsStatistics(t *testing.T) {
	g := NewGauges()
	g.Observe(driftedReport(t))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(g)
	want := `
# HELP sluice_drift_dataset_drifted 1 when the policy's last check found the dataset drifted, 0 when not, -1 without a verdict.
# TYPE sluice_drift_dataset_drifted gauge
sluice_drift_dataset_drifted{endpoint="fraud",policy="inputs"} 1
# HELP sluice_drift_feature_drifted 1 when the feature drifted in the policy's last check, else 0.
# TYPE sluice_drift_feature_drifted gauge
sluice_drift_feature_drifted{feature="amount",policy="inputs"} 1
sluice_drift_feature_drifted{feature="category",policy="inputs"} 1
# HELP sluice_drift_threshold The threshold a feature's statistic (or p-value, for tests) was judged against.
# TYPE sluice_drift_threshold gauge
sluice_drift_threshold{feature="amount",method="wasserstein",policy="inputs"} 0.1
sluice_drift_threshold{feature="category",method="jensenshannon",policy="inputs"} 0.1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "sluice_drift_dataset_drifted", "sluice_drift_feature_drifted", "sluice_drift_threshold"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(g, "sluice_drift_statistic"); n != 2 {
		t.Errorf("%d statistic series, want 2", n)
	}
	if n := testutil.CollectAndCount(g, "sluice_drift_p_value"); n != 0 {
		t.Errorf("%d p-value series for two distances, want 0", n)
	}
	g.Observe(&Report{Policy: "inputs", Endpoint: "fraud", Verdict: VerdictNoVerdict})
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sluice_drift_dataset_drifted 1 when the policy's last check found the dataset drifted, 0 when not, -1 without a verdict.
# TYPE sluice_drift_dataset_drifted gauge
sluice_drift_dataset_drifted{endpoint="fraud",policy="inputs"} -1
`), "sluice_drift_dataset_drifted"); err != nil {
		t.Error(err)
	}
}
