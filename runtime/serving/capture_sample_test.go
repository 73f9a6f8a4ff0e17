package serving

import (
	"fmt"
	"hash/fnv"
	"testing"
)

func TestCaptureSamplesTheRateOfAServersOwnRequestIDs(t *testing.T) {
	for server := 0; server < 5; server++ {
		ids := newRequestIDs()
		const n = 4000
		hits := 0
		for range n {
			if sampled(ids.next(), 0.1) {
				hits++
			}
		}
		// Binomial(4000, 0.1): mean 400, sd 19.
		if hits < 320 || hits > 480 {
			t.Errorf("server %d (ids %s…) sampled %d of %d at rate 0.1", server, ids.prefix, hits, n)
		}
	}
}

// sampledWithFNV is the sample as it was first written, over hash/fnv; the
// inline hash must choose the very same ids, or a server upgraded mid-run
// would capture different requests than the one before it.
func sampledWithFNV(id string, rate float64) bool {
	switch {
	case rate <= 0 || id == "":
		return false
	case rate >= 1:
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	x := h.Sum64()
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < rate
}

func TestCaptureSamplesTheSameIDsAsHashFNV(t *testing.T) {
	ids := newRequestIDs()
	for i := range 20000 {
		id := ids.next()
		if i%7 == 0 {
			id = fmt.Sprintf("client-%d-é\x00", i)
		}
		for _, rate := range []float64{0, 0.01, 0.1, 0.5, 0.99, 1} {
			if got, want := sampled(id, rate), sampledWithFNV(id, rate); got != want {
				t.Fatalf("id %q at rate %v: sampled %v, hash/fnv says %v", id, rate, got, want)
			}
		}
	}
}
