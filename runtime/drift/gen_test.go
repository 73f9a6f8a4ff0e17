package drift

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// genSpec is how testdata/fixtures.py describes a sample; both sides
// regenerate it with the same exact arithmetic.
type genSpec struct {
	Seed   uint64  `json:"seed"`
	N      int     `json:"n"`
	Shift  float64 `json:"shift"`
	Scale  float64 `json:"scale"`
	Tenths bool    `json:"tenths"`
}

// splitmix returns n uniforms in [0, 1) from splitmix64, 53 bits each.
func splitmix(seed uint64, n int) []float64 {
	out := make([]float64, n)
	x := seed
	for i := range out {
		x += 0x9E3779B97F4A7C15
		z := x
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		z ^= z >> 31
		out[i] = float64(z>>11) * (1.0 / (1 << 53))
	}
	return out
}

func (g genSpec) sample() []float64 {
	u := splitmix(g.Seed, 4*g.N)
	v := make([]float64, g.N)
	for i := range v {
		x := (((u[4*i]+u[4*i+1])+u[4*i+2])+u[4*i+3]-2.0)*g.Scale + g.Shift
		if g.Tenths {
			x = math.Floor(x*10.0) / 10.0
		}
		v[i] = x
	}
	return v
}

func (g genSpec) sorted() []float64 {
	v := g.sample()
	slices.Sort(v)
	return v
}

type numericFixture struct {
	Name              string    `json:"name"`
	Ref               genSpec   `json:"ref"`
	Cur               genSpec   `json:"cur"`
	Bins              int       `json:"bins"`
	KSStatistic       float64   `json:"ks_statistic"`
	KSPValue          float64   `json:"ks_pvalue"`
	Edges             []float64 `json:"edges"`
	RefCounts         []int64   `json:"ref_counts"`
	CurCounts         []int64   `json:"cur_counts"`
	PSI               float64   `json:"psi"`
	Wasserstein       float64   `json:"wasserstein"`
	WassersteinNormed float64   `json:"wasserstein_normed"`
	JS                float64   `json:"js"`
	JSBase2           float64   `json:"js_base2"`
}

type categoricalFixture struct {
	Name          string           `json:"name"`
	Ref           map[string]int64 `json:"ref"`
	Cur           map[string]int64 `json:"cur"`
	Keys          []string         `json:"keys"`
	Chi2Statistic jsonFloat        `json:"chi2_statistic"`
	Chi2PValue    float64          `json:"chi2_pvalue"`
	JS            float64          `json:"js"`
	Z             *float64         `json:"z"`
	ZPValue       *float64         `json:"z_pvalue"`
}

// jsonFloat reads a number, or "inf", "-inf" or "nan" as fixtures.py writes them.
type jsonFloat float64

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"inf"`:
		*f = jsonFloat(math.Inf(1))
		return nil
	case `"-inf"`:
		*f = jsonFloat(math.Inf(-1))
		return nil
	case `"nan"`:
		*f = jsonFloat(math.NaN())
		return nil
	}
	var v float64
	err := json.Unmarshal(b, &v)
	*f = jsonFloat(v)
	return err
}

type fixtures struct {
	Numeric     []numericFixture     `json:"numeric"`
	Categorical []categoricalFixture `json:"categorical"`
	KSTwo       []struct {
		N  int       `json:"n"`
		X  float64   `json:"x"`
		SF jsonFloat `json:"sf"`
	} `json:"kstwo"`
}

func loadFixtures(t testing.TB) fixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/scipy_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("testdata/scipy_fixtures.json: %v", err)
	}
	return f
}

// near says got equals want to 1e-9, relative for large values.
func near(got, want float64) bool {
	if math.IsInf(want, 0) || math.IsNaN(want) {
		return got == want || (math.IsNaN(got) && math.IsNaN(want))
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}
