package serving

import "sync"

// namedPool keeps the maps a request's decoder fills with its named
// tensors until prepare puts them in the model's order: a map of Tensors
// costs over a kilobyte even for one entry, which was the largest
// allocation of a one-row request.
var namedPool = sync.Pool{New: func() any { return make(map[string]Tensor, 1) }}

// getNamed returns an empty map from the pool.
func getNamed() map[string]Tensor { return namedPool.Get().(map[string]Tensor) }

// putNamed empties m and returns it to the pool; the caller no longer
// uses it. A map grown by a request with many inputs is left to the
// garbage collector.
func putNamed(m map[string]Tensor) {
	if m == nil || len(m) > 8 {
		return
	}
	clear(m)
	namedPool.Put(m)
}
