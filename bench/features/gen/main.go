// Command gen writes the feature store benchmark's data: a feature source
// CSV of transactions (time-ordered events of random users, as an event log
// is) and an entity CSV of (user_id, event_timestamp) rows to retrieve
// point-in-time features for. Output is deterministic for a given seed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	dir := flag.String("dir", ".", "output directory")
	rows := flag.Int("rows", 10_000_000, "feature rows")
	entities := flag.Int("entities", 1_000_000, "entity rows")
	users := flag.Int("users", 1_000_000, "distinct users")
	seed := flag.Uint64("seed", 42, "random seed")
	flag.Parse()
	if err := run(*dir, *rows, *entities, *users, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

var (
	start     = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	span      = 365 * 24 * time.Hour
	countries = []string{"DE", "FR", "US", "GB", "NL", "ES", "IT", "PL", "SE", "JP", "BR", "IN", "CA", "AU", "MX", "CH", "AT", "BE", "DK", "NO"}
)

func run(dir string, rows, entities, users int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	err := write(filepath.Join(dir, "transactions.csv"), "user_id,event_timestamp,amount,txn_count,country\n", rows, func(b []byte, i int) []byte {
		ts := start.Add(time.Duration(int64(span) / int64(rows) * int64(i)))
		b = strconv.AppendInt(b, int64(1+rng.IntN(users)), 10)
		b = append(b, ',')
		b = ts.AppendFormat(b, time.DateTime)
		b = append(b, ',')
		b = strconv.AppendFloat(b, float64(rng.IntN(100000))/100, 'f', 2, 64)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(rng.IntN(100)), 10)
		b = append(b, ',')
		return append(b, countries[rng.IntN(len(countries))]...)
	})
	if err != nil {
		return err
	}
	// A tenth of the entity rows name users that have no events.
	return write(filepath.Join(dir, "entities.csv"), "user_id,event_timestamp\n", entities, func(b []byte, i int) []byte {
		ts := start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second)
		b = strconv.AppendInt(b, int64(1+rng.IntN(users+users/10)), 10)
		b = append(b, ',')
		return ts.AppendFormat(b, time.DateTime)
	})
}

func write(path, header string, n int, row func([]byte, int) []byte) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(header)
	var b []byte
	for i := range n {
		b = append(row(b[:0], i), '\n')
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
