package training

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// seedRuns records runs a..f, started in that order, and returns the
// tracker and state.
func seedRuns(t *testing.T) (*Tracker, Querier) {
	t.Helper()
	ctx := context.Background()
	tr, db := newTracker(t)
	for _, r := range []struct {
		name, experiment, status string
		metrics                  map[string]float64
		params, tags             map[string]string
		digest                   string
	}{
		{"a", "fraud-rf", StatusFinished, map[string]float64{"f1": 0.91, "auc": 0.97}, map[string]string{"max_depth": "15", "criterion": "gini"}, map[string]string{"team": "risk"}, "d1"},
		{"b", "fraud-rf", StatusFinished, map[string]float64{"f1": 0.84, "auc": 0.95}, map[string]string{"max_depth": "9", "criterion": "gini"}, map[string]string{"team": "Risk"}, "d1"},
		{"c", "fraud-lr", StatusFinished, map[string]float64{"f1": 0.88}, map[string]string{"C": "0.5", "solver": "lbfgs"}, map[string]string{"team": "growth"}, "d2"},
		{"d", "fraud-lr", StatusFailed, nil, map[string]string{"C": "abc"}, nil, "d2"},
		{"e", "fraud-rf", StatusFinished, map[string]float64{"f1": 0.86}, map[string]string{"max_depth": "15", "criterion": "entropy"}, map[string]string{"team": "risk_ops"}, "d3"},
		{"f", "churn", StatusRunning, map[string]float64{"rmse": 3.5}, map[string]string{"alpha": "0.1"}, map[string]string{"note": "it's 50% done"}, "d4"},
	} {
		run, err := tr.StartRun(ctx, db, RunStart{Experiment: r.experiment, Name: r.name, DatasetDigest: r.digest})
		if err != nil {
			t.Fatal(err)
		}
		tr.LogParams(ctx, db, run.ID, r.params)
		tr.LogMetrics(ctx, db, run.ID, r.metrics)
		tr.SetTags(ctx, db, run.ID, r.tags)
		tr.LogDataset(ctx, db, run.ID, Dataset{Name: r.experiment, Digest: r.digest, Context: "training", Rows: 10})
		if r.status != StatusRunning {
			tr.EndRun(ctx, db, run.ID, r.status, "", "")
		}
	}
	return tr, db
}

func runNames(runs []*Run) string {
	var out []string
	for _, r := range runs {
		out = append(out, r.Name)
	}
	return strings.Join(out, " ")
}

func TestRunsFilterSelectsAndOrdersRuns(t *testing.T) {
	tr, db := seedRuns(t)
	for _, tc := range []struct {
		filter  string
		orderBy []string
		max     int
		want    string
	}{
		{"", nil, 0, "f e d c b a"},
		{"metrics.f1 > 0.85", nil, 0, "e c a"},
		{"metrics.f1 > 0.85 and params.max_depth = 15", []string{"metrics.f1 desc"}, 0, "a e"},
		{"metrics.f1 >= 0.88 or tags.team = 'growth'", nil, 0, "c a"},
		{"(metrics.f1 < 0.85 or metrics.f1 > 0.9) and attributes.status = 'FINISHED'", nil, 0, "b a"},
		{"metrics.f1 > 0.85 and (params.max_depth = 15 or params.solver = 'lbfgs')", nil, 0, "e c a"},
		{"params.max_depth < 10", nil, 0, "b"},
		{"params.max_depth = '15'", nil, 0, "e a"},
		{"params.C > 0", nil, 0, "c"},
		{"params.C != '0.5'", nil, 0, "d"},
		{"tags.team LIKE 'risk%'", nil, 0, "e a"},
		{"tags.team ILIKE 'risk%'", nil, 0, "e b a"},
		{"tags.team LIKE 'risk_ops'", nil, 0, "e"},
		{"tags.note LIKE '%50[%] done'", nil, 0, ""},
		{"tags.note LIKE 'it''s 50% done'", nil, 0, "f"},
		{"tags.team IN ('growth', 'Risk')", nil, 0, "c b"},
		{"tags.team NOT IN ('growth', 'Risk')", nil, 0, "e a"},
		{"tags.team IS NULL", nil, 0, "f d"},
		{"metrics.rmse IS NOT NULL", nil, 0, "f"},
		{"attributes.status != 'FINISHED'", nil, 0, "f d"},
		{"attributes.run_name IN ('a', 'c')", nil, 0, "c a"},
		{"attr.experiment = 'fraud-lr' AND run.status = 'FAILED'", nil, 0, "d"},
		{"datasets.digest = 'd1'", nil, 0, "b a"},
		{"metrics.`f1` > 0.9", nil, 0, "a"},
		{`metric."auc" >= 0.95`, []string{"metrics.auc"}, 0, "b a"},
		{"", []string{"metrics.f1 desc"}, 0, "a c e b f d"},
		{"", []string{"metrics.f1"}, 2, "b e"},
		{"", []string{"params.max_depth desc", "attributes.run_name"}, 0, "a e b c d f"},
		{"", []string{"tags.team, attributes.start_time asc"}, 0, "b c a e d f"},
		{"attributes.experiment = 'fraud-rf'", []string{"attributes.duration desc"}, 0, "e b a"},
	} {
		runs, err := tr.SearchRuns(context.Background(), db, Search{Filter: tc.filter, OrderBy: tc.orderBy, Max: tc.max})
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := runNames(runs); got != tc.want {
			t.Errorf("filter %q order %q: runs %q, want %q", tc.filter, tc.orderBy, got, tc.want)
		}
	}
}

func TestRunsFilterComparesTimesInMilliseconds(t *testing.T) {
	tr, db := seedRuns(t)
	c, err := tr.SearchRuns(context.Background(), db, Search{Filter: "attributes.run_name = 'c'"})
	if err != nil || len(c) != 1 {
		t.Fatal(c, err)
	}
	ms := c[0].Start.UnixMilli()
	for filter, want := range map[string]string{
		fmt.Sprintf("attributes.start_time > %d", ms):    "f e d",
		fmt.Sprintf("attributes.created <= %d", ms):      "c b a",
		fmt.Sprintf("attributes.end_time = %d", ms+2000): "c",
	} {
		runs, err := tr.SearchRuns(context.Background(), db, Search{Filter: filter})
		if err != nil || runNames(runs) != want {
			t.Errorf("%s: runs %q (%v), want %q", filter, runNames(runs), err, want)
		}
	}
}

func TestRunsSearchLimitsToExperimentsAndLoadsDetails(t *testing.T) {
	tr, db := seedRuns(t)
	runs, err := tr.SearchRuns(context.Background(), db, Search{Experiments: []string{"fraud-lr", "churn"}, Filter: "params.C = '0.5'"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Name != "c" || runs[0].Params["solver"] != "lbfgs" || runs[0].Metrics["f1"] != 0.88 ||
		runs[0].Tags["team"] != "growth" || len(runs[0].Datasets) != 1 {
		t.Fatalf("runs %+v", runs)
	}
}

func TestRunsFilterErrorsPointAtTheMistake(t *testing.T) {
	tr, db := seedRuns(t)
	for _, tc := range []struct{ filter, want string }{
		{"params.alpha ~ 1", `filter: column 14: expected a comparison operator, got "~"`},
		{"metrics.f1 > ", `filter: column 14: expected a value (a number or a quoted string), got the end of the filter`},
		{"metrics.f1 > 'high'", `filter: column 14: metrics.f1 is a number; compare it with a number, not 'high'`},
		{"metrics.f1 LIKE 'a%'", `filter: column 12: metrics.f1 is a number; compare it with = != < <= > >=`},
		{"tags.team = risk", `filter: column 13: expected a value (a number or a quoted string), got "risk"`},
		{"tags.team = 5", `filter: column 13: tags.team is a string; quote the value: '5'`},
		{"tags.team > 'a'", `filter: column 11: tags.team compares with = != LIKE ILIKE IN, or with < <= > >= against a number`},
		{"metric_s.f1 > 1", `filter: column 1: unknown name "metric_s.f1": names start with metrics., params., tags., attributes. or datasets.`},
		{"attributes.stauts = 'x'", `filter: column 1: unknown attribute "stauts" (known: created, duration, end_time, experiment, git_commit, run_id, run_name, start_time, status, trigger)`},
		{"metrics.f1 > 1 and", `filter: column 19: expected a name such as metrics.f1 or params.max_depth, got the end of the filter`},
		{"metrics.f1 > 1 metrics.auc > 1", `filter: column 16: expected "and", "or" or the end of the filter, got "metrics.auc"`},
		{"(metrics.f1 > 1 or metrics.auc > 1", `filter: column 35: expected ")" to close the "(" at column 1, got the end of the filter`},
		{"metrics.f1 > 1)", `filter: column 15: unmatched ")"`},
		{"tags.team = 'open", `filter: column 13: unterminated string`},
		{"tags.team IN ('a' 'b')", `filter: column 19: expected "," or ")" in the list, got "'b'"`},
		{"tags.team IN ('a', 1)", `filter: column 20: the values of a list must all be strings or all numbers`},
		{"tags.team NOT LIKE 'a'", `filter: column 15: expected "in" after "not", got "LIKE"`},
		{"attributes.status IS NULL", `filter: column 19: attributes.status is always set; IS NULL applies to metrics, params and tags`},
		{"metrics. > 1", `filter: column 10: expected a key after "metrics.", got ">"`},
	} {
		_, err := tr.SearchRuns(context.Background(), db, Search{Filter: tc.filter})
		if err == nil || err.Error() != tc.want {
			t.Errorf("filter %q:\n got %v\nwant %s", tc.filter, err, tc.want)
		}
	}
	_, err := tr.SearchRuns(context.Background(), db, Search{OrderBy: []string{"metrics.f1 up"}})
	if err == nil || err.Error() != `order by "metrics.f1 up": column 12: expected "asc", "desc", "," or the end, got "up"` {
		t.Errorf("order by: %v", err)
	}
	_, err = tr.SearchRuns(context.Background(), db, Search{Max: MaxSearchRuns + 1})
	if err == nil || err.Error() != "search runs: max 50001, want 1 to 50000" {
		t.Errorf("max: %v", err)
	}
}

func TestRunsFilterBindsValuesInsteadOfSplicingThem(t *testing.T) {
	tr, db := seedRuns(t)
	evil := "x' OR 1=1; DROP TABLE training_runs; --"
	filter := "tags.team = '" + strings.ReplaceAll(evil, "'", "''") + "' or params.`a'b` IN ('1')"
	query, args, err := searchSQL(Search{Filter: filter, OrderBy: []string{"tags.`x'y`"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(query, "DROP") || strings.Contains(query, "a'b") || strings.Contains(query, "x'y") {
		t.Fatalf("a value reached the SQL text: %s", query)
	}
	if strings.Count(query, "?") != len(args) {
		t.Fatalf("%d placeholders for %d arguments", strings.Count(query, "?"), len(args))
	}
	runs, err := tr.SearchRuns(context.Background(), db, Search{Filter: filter})
	if err != nil || len(runs) != 0 {
		t.Fatalf("runs %q, error %v", runNames(runs), err)
	}
	if all, _ := tr.SearchRuns(context.Background(), db, Search{}); len(all) != 6 {
		t.Fatalf("%d runs left", len(all))
	}
}

func TestRunsFilterPrintsCanonicallyAndParsesBack(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"metrics.f1>0.85 AND params.max_depth=15", "metrics.f1 > 0.85 and params.max_depth = 15"},
		{"a_or_b", ""},
		{"metric.f1 > 1 or tag.t = \"x\" and (attr.status <> 'A' or datasets.digest in ('d'))",
			"metrics.f1 > 1 or (tags.t = 'x' and (attributes.status != 'A' or datasets.digest IN ('d')))"},
		{"tags.`my tag` ilike '%it''s%'", "tags.`my tag` ILIKE '%it''s%'"},
		{"params.p is not null", "params.p IS NOT NULL"},
	} {
		f, err := ParseFilter(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q parsed as %v", tc.in, f)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if f.String() != tc.want {
			t.Errorf("%q prints as %q, want %q", tc.in, f.String(), tc.want)
		}
		again, err := ParseFilter(f.String())
		if err != nil || again.String() != f.String() {
			t.Errorf("%q does not parse back: %v, %v", f.String(), again, err)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"metrics.f1 > 0.85 and params.max_depth = 15",
		"(metrics.f1 < 0.5 or tags.t LIKE 'a%') and attributes.status IN ('FINISHED', 'FAILED')",
		"datasets.digest = 'abc' and params.`odd key` IS NULL",
		"tags.team NOT IN ('a', 'b') or metrics.auc >= -1e-3",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		filter, err := ParseFilter(src)
		if err != nil {
			if _, ok := err.(*filterError); !ok {
				t.Fatalf("%q: error %v has no column", src, err)
			}
			return
		}
		if filter == nil {
			return
		}
		text := filter.String()
		again, err := ParseFilter(text)
		if err != nil {
			t.Fatalf("%q prints as %q, which does not parse: %v", src, text, err)
		}
		if again.String() != text {
			t.Fatalf("%q prints as %q, then as %q", src, text, again.String())
		}
		var args []any
		query := filter.sql(&args)
		if strings.Count(query, "?") != len(args) {
			t.Fatalf("%q compiles to %d placeholders for %d arguments", src, strings.Count(query, "?"), len(args))
		}
	})
}
