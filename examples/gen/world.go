package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// The size and time span of the example world.
const (
	numUsers        = 500
	firstUserID     = 1001 // make run reads user_id=1001 from the online store
	numMerchants    = 50
	numTransactions = 20000
	numAttacks      = 780 // card-testing and account-takeover purchases, all fraud
)

var (
	// Transactions happen in [windowStart, windowEnd).
	windowStart = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	windowEnd   = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	// Snapshots start a week early so that the first transactions already
	// have features to join.
	snapshotStart = time.Date(2026, 8, 24, 0, 0, 0, 0, time.UTC) // a Monday
)

// Purchase categories and how much an order in each costs relative to a
// user's typical order.
var (
	categories  = []string{"electronics", "grocery", "fashion", "travel", "home", "gaming", "beauty", "sports"}
	priceFactor = []float64{2.4, 0.5, 1.0, 3.0, 1.3, 0.8, 0.6, 1.0}
	// categoryRisk is the base fraud risk of a merchant in each category:
	// resellable goods and travel attract stolen cards.
	categoryRisk = []float64{0.22, 0.04, 0.08, 0.18, 0.06, 0.25, 0.05, 0.07}
	countries    = []string{"US", "US", "US", "GB", "DE", "FR", "NL", "SG", "BR"}
)

// rng draws from PCG, whose output is fixed by its specification. The
// distributions are written out here rather than taken from math/rand/v2,
// whose methods' algorithms may change between Go releases; that would
// silently change the committed files.
type rng struct{ src *rand.PCG }

func newRNG(stream uint64) *rng { return &rng{rand.NewPCG(20260901, stream)} }

// float is uniform in [0, 1).
func (r *rng) float() float64 { return float64(r.src.Uint64()>>11) / (1 << 53) }

// uniform is uniform in [lo, hi).
func (r *rng) uniform(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

// intn is uniform in [0, n); the modulo bias is below 2^-50 for these n.
func (r *rng) intn(n int) int { return int(r.src.Uint64() % uint64(n)) }

// normal is a standard normal draw (Box-Muller).
func (r *rng) normal() float64 {
	u := 1 - r.float()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// exp is an exponential draw with the given mean.
func (r *rng) exp(mean float64) float64 { return -mean * math.Log(1-r.float()) }

// pick returns an index drawn with probability proportional to weights.
func (r *rng) pick(weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.float() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// user is a customer with the latent traits that drive their purchases.
type user struct {
	id        int64
	signup    time.Time
	activity  float64 // relative purchase rate
	baseOrder float64 // typical order value before the category's price factor
	favorite  int     // category index
	refundP   float64 // share of orders refunded; abusers refund a lot
	// Purchase history before snapshotStart, as snapshots summarise it.
	priorPurchases int64
	priorSpend     float64
	priorRefunds   int64
	priorLast      time.Time // last order, or signup when there was none
	firstSnapshot  time.Time
}

func makeUsers(r *rng) []*user {
	users := make([]*user, numUsers)
	oldest := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC)
	lastSignup := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	for i := range users {
		u := &user{id: firstUserID + int64(i)}
		if r.float() < 0.18 {
			u.signup = between(r, recent, lastSignup)
		} else {
			u.signup = between(r, oldest, recent)
		}
		u.activity = math.Exp(0.7 * r.normal())
		u.baseOrder = clamp(math.Exp(math.Log(40)+0.55*r.normal()), 8, 400)
		u.favorite = r.intn(len(categories))
		if r.float() < 0.06 {
			u.refundP = r.uniform(0.12, 0.3)
		} else {
			u.refundP = r.uniform(0, 0.05)
		}
		u.priorLast = u.signup
		if u.signup.Before(snapshotStart) {
			months := snapshotStart.Sub(u.signup).Hours() / 24 / 30
			u.priorPurchases = int64(math.Round(months * u.activity * 2 * r.uniform(0.7, 1.3)))
			// Orders cost what they will in the window: mostly the favourite
			// category, the rest spread, with the lognormal spread's mean.
			mix := 0.6*priceFactor[u.favorite] + 0.4*meanPriceFactor()
			u.priorSpend = round2(float64(u.priorPurchases) * u.baseOrder * mix * 1.1 * r.uniform(0.85, 1.15))
			for range u.priorPurchases {
				if r.float() < u.refundP {
					u.priorRefunds++
				}
			}
			if u.priorPurchases > 0 {
				last := snapshotStart.Add(-time.Duration(r.exp(20/u.activity) * float64(24*time.Hour)))
				if last.After(u.signup) {
					u.priorLast = last.Truncate(time.Second)
				}
			}
		}
		// Weekly snapshots from the week before the window, or from an
		// hour after signing up for users who join later.
		u.firstSnapshot = snapshotStart.Add(time.Duration(r.intn(7*24*60)) * time.Minute)
		if u.signup.After(snapshotStart) {
			u.firstSnapshot = u.signup.Add(time.Hour)
		}
		users[i] = u
	}
	return users
}

// merchant is a shop with the latent traits behind its risk snapshots.
type merchant struct {
	id          string
	category    int
	country     string
	risk        float64 // probability-like risk of stolen-card use
	dailyOrders float64 // across all its customers, not only ours
}

func makeMerchants(r *rng) []*merchant {
	ms := make([]*merchant, numMerchants)
	for i := range ms {
		m := &merchant{
			id:          fmt.Sprintf("mch_%03d", i+1),
			category:    (i * 3) % len(categories),
			country:     countries[r.intn(len(countries))],
			dailyOrders: math.Round(r.uniform(20, 400)),
		}
		m.risk = clamp(categoryRisk[m.category]+0.05*r.normal(), 0.01, 0.5)
		if r.float() < 0.14 {
			m.risk = r.uniform(0.55, 0.9) // a handful of merchants card testers love
		}
		ms[i] = m
	}
	return ms
}

func meanPriceFactor() float64 {
	sum := 0.0
	for _, f := range priceFactor {
		sum += f
	}
	return sum / float64(len(priceFactor))
}

func between(r *rng, from, to time.Time) time.Time {
	return from.Add(time.Duration(r.float() * float64(to.Sub(from)))).Truncate(time.Second)
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }
