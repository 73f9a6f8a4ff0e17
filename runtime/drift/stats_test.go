package drift

import (
	"slices"
	"testing"
)

func TestStatisticsMatchScipyOnNumericalFixtures(t *testing.T) {
	for _, c := range loadFixtures(t).Numeric {
		t.Run(c.Name, func(t *testing.T) {
			ref, cur := c.Ref.sorted(), c.Cur.sorted()
			ks := KS2Samp(ref, cur)
			if !near(ks.Statistic, c.KSStatistic) || !near(ks.PValue, c.KSPValue) {
				t.Errorf("KS = (%.17g, %.17g), scipy (%.17g, %.17g)", ks.Statistic, ks.PValue, c.KSStatistic, c.KSPValue)
			}
			edges := QuantileEdges(ref, c.Bins)
			if !slices.Equal(edges, c.Edges) {
				t.Errorf("edges = %v, numpy %v", edges, c.Edges)
			}
			rc, cc := Histogram(edges, ref), histogramSorted(edges, cur)
			if !slices.Equal(rc, c.RefCounts) || !slices.Equal(cc, c.CurCounts) {
				t.Errorf("counts = %v %v, numpy %v %v", rc, cc, c.RefCounts, c.CurCounts)
			}
			if got := PSI(rc, cc); !near(got, c.PSI) {
				t.Errorf("PSI = %.17g, numpy %.17g", got, c.PSI)
			}
			w := Wasserstein(ref, cur)
			if !near(w, c.Wasserstein) {
				t.Errorf("Wasserstein = %.17g, scipy %.17g", w, c.Wasserstein)
			}
			if got := WassersteinNormed(w, Std(ref)); !near(got, c.WassersteinNormed) {
				t.Errorf("normed Wasserstein = %.17g, scipy/numpy %.17g", got, c.WassersteinNormed)
			}
			if got := JensenShannon(floats(rc), floats(cc), 0); !near(got, c.JS) {
				t.Errorf("Jensen-Shannon = %.17g, scipy %.17g", got, c.JS)
			}
			if got := JensenShannon(floats(rc), floats(cc), 2); !near(got, c.JSBase2) {
				t.Errorf("Jensen-Shannon base 2 = %.17g, scipy %.17g", got, c.JSBase2)
			}
		})
	}
}

func TestStatisticsMatchScipyOnCategoricalFixtures(t *testing.T) {
	for _, c := range loadFixtures(t).Categorical {
		t.Run(c.Name, func(t *testing.T) {
			var rn, cn float64
			for _, v := range c.Ref {
				rn += float64(v)
			}
			for _, v := range c.Cur {
				cn += float64(v)
			}
			obs, exp, ref := make([]float64, len(c.Keys)), make([]float64, len(c.Keys)), make([]float64, len(c.Keys))
			for i, k := range c.Keys {
				obs[i], ref[i] = float64(c.Cur[k]), float64(c.Ref[k])
				exp[i] = ref[i] * (cn / rn)
			}
			stat, p := ChiSquare(obs, exp)
			if !near(stat, float64(c.Chi2Statistic)) || !near(p, c.Chi2PValue) {
				t.Errorf("chi2 = (%.17g, %.17g), scipy (%.17g, %.17g)", stat, p, float64(c.Chi2Statistic), c.Chi2PValue)
			}
			if got := JensenShannon(ref, obs, 0); !near(got, c.JS) {
				t.Errorf("Jensen-Shannon = %.17g, scipy %.17g", got, c.JS)
			}
			if c.ZPValue == nil {
				return
			}
			k := c.Keys[0]
			z, p := ZTestProportions(float64(c.Ref[k]), rn, float64(c.Cur[k]), cn)
			if !near(z, *c.Z) || !near(p, *c.ZPValue) {
				t.Errorf("z-test = (%.17g, %.17g), scipy (%.17g, %.17g)", z, p, *c.Z, *c.ZPValue)
			}
		})
	}
}

func floats(c []int64) []float64 {
	out := make([]float64, len(c))
	for i, v := range c {
		out[i] = float64(v)
	}
	return out
}

func TestKolmogorovSurvivalMatchesScipyKstwoInEveryMethod(t *testing.T) {
	for _, c := range loadFixtures(t).KSTwo {
		if got := kolmogorovSF(c.N, c.X); !near(got, float64(c.SF)) {
			t.Errorf("kstwo.sf(%g, %d) = %.17g, scipy %.17g", c.X, c.N, got, float64(c.SF))
		}
	}
}
