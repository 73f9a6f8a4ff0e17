package training

import "gonum.org/v1/gonum/mat"

// hessian is the binary model's Hessian of the mean loss.
func (o *logisticObjective) hessian(h *mat.SymDense, w []float64) {
	d := o.d
	parts := make([][]float64, chunks(o.n))
	forChunks(o.n, o.threads, func(c, lo, hi int) {
		part := make([]float64, (d+1)*(d+1))
		ext := make([]float64, d+1)
		for i := lo; i < hi; i++ {
			copy(ext, o.x[i*d:(i+1)*d])
			ext[d] = 1
			z := w[d]
			for a := range d {
				z += ext[a] * w[a]
			}
			p := sigmoid(z)
			s := p * (1 - p)
			if o.classWeight != nil {
				s *= o.classWeight[o.y[i]]
			}
			for a := range d + 1 {
				sa := s * ext[a]
				for b := a; b <= d; b++ {
					part[a*(d+1)+b] += sa * ext[b]
				}
			}
		}
		parts[c] = part
	})
	scale := 1 / float64(o.n)
	for a := range d + 1 {
		for b := a; b <= d; b++ {
			var v float64
			for _, part := range parts {
				v += part[a*(d+1)+b]
			}
			v *= scale
			if a == b && a < d {
				v += o.lambda * scale
			}
			h.SetSym(a, b, v)
		}
	}
}
