package registry

import (
	"testing"

	"sluice/schema"
)

func TestGateDeclaredOnExperimentAndModelIsJudgedOnce(t *testing.T) {
	exp := &schema.Experiment{Meta: schema.Meta{Addr: schema.Addr{Kind: schema.KindExperiment, Name: "e"}}, Gates: map[string]string{"f1": ">= 0.80", "recall": ">= 0.5"}}
	model := &schema.Model{Meta: schema.Meta{Addr: schema.Addr{Kind: schema.KindModel, Name: "m"}}, Gates: map[string]string{"f1": ">=0.80", "precision": ">= 0.7"}}
	gates, err := GatesFor(exp, model)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range gates {
		got = append(got, g.Metric+" "+g.Expr)
	}
	if len(gates) != 3 {
		t.Errorf("gates %v: want f1 once, recall and precision", got)
	}
}
