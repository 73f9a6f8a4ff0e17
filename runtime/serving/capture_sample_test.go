package serving

import "testing"

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
