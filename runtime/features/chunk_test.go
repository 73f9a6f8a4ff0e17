package features

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The radix sort orders like a stable comparison sort, negative and huge
// keys included.
func TestRadixByKeyIsAStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, keys := range [][]int64{
		{5, 3, 5, 1, 3},
		{math.MinInt64, math.MaxInt64, -1, 0, 1, math.MinInt64, math.MaxInt64},
		nil,
	} {
		check(t, keys)
	}
	for range 50 {
		n := rng.IntN(5000)
		spread := rng.Int64N(1 << uint(rng.IntN(63)))
		keys := make([]int64, n)
		for i := range keys {
			keys[i] = rng.Int64N(spread+1) - spread/2
		}
		check(t, keys)
	}
}

func check(t *testing.T, keys []int64) {
	t.Helper()
	got := make([]sortKey, len(keys))
	for i, k := range keys {
		got[i] = sortKey{k: k, row: uint32(i)}
	}
	want := slices.Clone(got)
	slices.SortStableFunc(want, func(a, b sortKey) int { return cmp.Compare(a.k, b.k) })
	radixByKey(got)
	if !slices.Equal(got, want) {
		t.Fatalf("radix sort of %v = %v, want %v", keys, got, want)
	}
}
