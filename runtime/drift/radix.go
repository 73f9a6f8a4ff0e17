package drift

import (
	"math"
)

// radixSort sorts finite float64s by a least-significant-digit radix sort
// over 16-bit digits of their order-preserving bit patterns: four passes,
// each a counting sort.
func radixSort(xs []float64) {
	n := len(xs)
	keys := make([]uint64, n)
	tmp := make([]uint64, n)
	for i, x := range xs {
		b := math.Float64bits(x)
		// Flip all bits of negatives and the sign bit of positives, so that
		// unsigned order is float order.
		if b>>63 == 1 {
			b = ^b
		} else {
			b |= 1 << 63
		}
		keys[i] = b
	}
	var count [1 << 16]int
	for shift := uint(0); shift < 64; shift += 16 {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&0xffff]++
		}
		if count[(keys[0]>>shift)&0xffff] == n {
			continue // every key has this digit; the pass would change nothing
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range keys {
			d := (k >> shift) & 0xffff
			tmp[count[d]] = k
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	for i, b := range keys {
		if b>>63 == 1 {
			b &^= 1 << 63
		} else {
			b = ^b
		}
		xs[i] = math.Float64frombits(b)
	}
}
