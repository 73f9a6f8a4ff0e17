package features

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"sluice/runtime/store"
	"sluice/schema"
)

// The benchmarks read the data bench/features/run.sh generates, named by
// SLUICE_BENCH_FEATURES_DIR: transactions.csv (user_id, event_timestamp,
// amount, txn_count, country) and entities.csv (user_id, event_timestamp).
// Without it they generate a small data set of the same shape.

func benchData(b *testing.B) string {
	if dir := os.Getenv("SLUICE_BENCH_FEATURES_DIR"); dir != "" {
		return dir
	}
	benchSmall.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-features-bench")
		if err != nil {
			panic(err)
		}
		benchCleanup = append(benchCleanup, dir)
		genBenchData(dir, 200_000, 20_000, 20_000)
		benchSmall.dir = dir
	})
	return benchSmall.dir
}

var benchSmall struct {
	sync.Once
	dir string
}

// benchCleanup are temporary directories TestMain removes.
var benchCleanup []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range benchCleanup {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func genBenchData(dir string, rows, ents, users int) {
	rng := rand.New(rand.NewPCG(42, 43))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	span := 365 * 24 * time.Hour
	write := func(name, header string, n int, row func(b []byte, i int) []byte) {
		fh, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			panic(err)
		}
		w := bufio.NewWriter(fh)
		w.WriteString(header)
		var b []byte
		for i := range n {
			w.Write(append(row(b[:0], i), '\n'))
		}
		w.Flush()
		fh.Close()
	}
	write("transactions.csv", "user_id,event_timestamp,amount,txn_count,country\n", rows, func(b []byte, i int) []byte {
		b = strconv.AppendInt(b, int64(1+rng.IntN(users)), 10)
		b = start.Add(span/time.Duration(rows)*time.Duration(i)).AppendFormat(append(b, ','), time.DateTime)
		b = strconv.AppendFloat(append(b, ','), float64(rng.IntN(100000))/100, 'f', 2, 64)
		b = strconv.AppendInt(append(b, ','), int64(rng.IntN(100)), 10)
		return append(b, ",DE"...)
	})
	write("entities.csv", "user_id,event_timestamp\n", ents, func(b []byte, i int) []byte {
		b = strconv.AppendInt(b, int64(1+rng.IntN(users+users/10)), 10)
		return start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second).AppendFormat(append(b, ','), time.DateTime)
	})
}

// benchView is the view over transactions.csv: the same join, TTL and
// columns as bench/features/asof.py's merge_asof.
func benchView(online bool) MaterializeRequest {
	v := viewSpec{
		name: "user_tx", path: "transactions.csv", ts: "event_timestamp",
		keys: map[string]string{"user_id": "int64"}, keyOrder: []string{"user_id"},
		fields: []schema.FeatureField{
			{Name: "amount", Type: "float64"}, {Name: "country", Type: "string"}, {Name: "txn_count", Type: "int64"},
		},
		ttl: 720 * time.Hour, offline: !online,
	}
	return v.request()
}

func benchMaterialize(b *testing.B, dir, state string, req MaterializeRequest) (*store.DB, *Store, time.Duration, MaterializeResult) {
	ctx := context.Background()
	db, err := store.Open(ctx, state)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	req.FS = os.DirFS(dir)
	start := time.Now()
	var res MaterializeResult
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		res, err = s.Materialize(ctx, tx, req)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return db, s, time.Since(start), res
}

// BenchmarkMaterializeCSV loads transactions.csv into a new state file,
// committed: rows/s compares with `sqlite3 .import` of the same file.
func BenchmarkMaterializeCSV(b *testing.B) {
	dir := benchData(b)
	for _, online := range []bool{false, true} {
		name := map[bool]string{false: "offline", true: "offline+online"}[online]
		b.Run(name, func(b *testing.B) {
			var rows int64
			var took time.Duration
			for i := range b.N {
				b.StopTimer()
				state := filepath.Join(b.TempDir(), fmt.Sprintf("state-%d.db", i))
				b.StartTimer()
				db, _, d, res := benchMaterialize(b, dir, state, benchView(online))
				b.StopTimer()
				db.Close()
				rows += res.RowsWritten
				took += d
				b.StartTimer()
			}
			b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		})
	}
}

// shared is one materialized state for the retrieval benchmarks.
var shared struct {
	sync.Once
	s   *Store
	res MaterializeResult
}

func sharedStore(b *testing.B) (*Store, string) {
	dir := benchData(b)
	shared.Do(func() {
		tmp, err := os.MkdirTemp("", "sluice-features-state")
		if err != nil {
			b.Fatal(err)
		}
		benchCleanup = append(benchCleanup, tmp)
		_, shared.s, _, shared.res = benchMaterialize(b, dir, filepath.Join(tmp, "state.db"), benchView(true))
	})
	return shared.s, dir
}

// BenchmarkHistory retrieves point-in-time features for every row of
// entities.csv, parsed beforehand as pandas' frames are: compares with
// merge_asof including its sorts.
func BenchmarkHistory(b *testing.B) {
	s, dir := sharedStore(b)
	fh, err := os.Open(filepath.Join(dir, "entities.csv"))
	if err != nil {
		b.Fatal(err)
	}
	ents, err := ReadEntityRowsCSV(fh, "entities.csv")
	fh.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var out *Frame
	for range b.N {
		out, err = s.History(context.Background(), HistoryRequest{Entities: ents, Features: []string{"user_tx:amount", "user_tx:country", "user_tx:txn_count"}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	found := 0
	for r := range out.Len() {
		if !out.Column("amount").IsNull(r) {
			found++
		}
	}
	b.ReportMetric(float64(ents.Len()), "entity-rows")
	b.ReportMetric(float64(found), "matched")
}

// BenchmarkOnlineGet looks up one random entity at a time, in process, and
// reports the latency distribution over 100,000 lookups per iteration.
func BenchmarkOnlineGet(b *testing.B) {
	s, _ := sharedStore(b)
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(7, 8))
	const lookups = 100_000
	lat := make([]time.Duration, 0, lookups*b.N)
	present := 0
	b.ResetTimer()
	for range b.N {
		for range lookups {
			key := EntityKey{int64(1 + rng.IntN(1_000_000))}
			t0 := time.Now()
			vals, err := s.OnlineView(ctx, "user_tx", []EntityKey{key}, nil, now)
			lat = append(lat, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			if vals[0][0].Status == Present {
				present++
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(present)/float64(len(lat)), "present-share")
}
