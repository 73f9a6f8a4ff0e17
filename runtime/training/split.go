package training

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"sluice/schema"
)

// Split divides f into training and holdout rows as s says: the holdout
// is ceil(s.Holdout × rows) rows, as scikit-learn's train_test_split counts
// it, drawn at random with s.Seed, or with s.ByTime the newest rows by
// event time (ties broken by row order). Both parts keep f's row order.
// The same frame and split always give the same parts.
func Split(f *Frame, s schema.Split) (train, holdout *Frame, err error) {
	n := f.Rows()
	if n == 0 {
		return nil, nil, errors.New("split: empty dataset: no rows")
	}
	if !(s.Holdout > 0 && s.Holdout < 1) {
		return nil, nil, fmt.Errorf("split: holdout %v, want a fraction between 0 and 1", s.Holdout)
	}
	k := int(math.Ceil(s.Holdout * float64(n)))
	if k >= n {
		return nil, nil, fmt.Errorf("split: holdout %v of %d rows leaves no training rows", s.Holdout, n)
	}
	var order []int
	if s.ByTime {
		if f.Time == nil {
			return nil, nil, errors.New("split: by_time needs the dataset's event time, and it has none")
		}
		order = newestLast(f)
	} else {
		order = shuffled(n, s.Seed)
	}
	hold := append([]int(nil), order[n-k:]...)
	rest := append([]int(nil), order[:n-k]...)
	sort.Ints(hold)
	sort.Ints(rest)
	return f.Take(rest), f.Take(hold), nil
}

// newestLast returns the row indices ordered by event time, oldest first.
func newestLast(f *Frame) []int {
	order := make([]int, len(f.Time))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return f.Time[order[a]].Before(f.Time[order[b]]) })
	return order
}

// shuffled returns a permutation of 0..n-1 drawn with seed.
func shuffled(n int, seed int64) []int {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed_5b17))
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng.Shuffle(n, func(a, b int) { order[a], order[b] = order[b], order[a] })
	return order
}
