package main

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// userSnapshot is what the nightly batch job wrote about a user: their
// settled purchase history as of at, written to the table at created.
type userSnapshot struct {
	user               *user
	at, created        time.Time
	totalPurchases     int64
	avgOrderValue      float64
	daysSinceLastOrder int64
	preferredCategory  string
	refunds            int64
	accountAgeDays     int64
}

// userSnapshots summarises each user's history weekly, from their first
// snapshot to the end of the window. Fraudulent payments are charged back
// and never count as purchases. Rows are in time order, as a job appending
// to the file would leave them.
func userSnapshots(r *rng, users []*user, txs []*transaction) []userSnapshot {
	byUser := map[int64][]*transaction{}
	for _, t := range txs {
		if !t.fraud {
			byUser[t.user.id] = append(byUser[t.user.id], t)
		}
	}
	var snaps []userSnapshot
	for week := 0; ; week++ {
		n := len(snaps)
		for _, u := range users {
			at := u.firstSnapshot.Add(time.Duration(week) * 7 * 24 * time.Hour)
			if at.Before(windowEnd) {
				s := summarise(u, byUser[u.id], at)
				s.created = at.Add(time.Duration(60+r.intn(4*60)) * time.Minute)
				snaps = append(snaps, s)
			}
		}
		if len(snaps) == n {
			break
		}
	}
	slices.SortStableFunc(snaps, func(a, b userSnapshot) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.user.id, b.user.id)
	})
	return snaps
}

// summarise is one user's snapshot at time at: their prior history plus the
// settled transactions before at.
func summarise(u *user, txs []*transaction, at time.Time) userSnapshot {
	s := userSnapshot{user: u, at: at, totalPurchases: u.priorPurchases, refunds: u.priorRefunds}
	spend := u.priorSpend
	last := u.priorLast
	// The favourite category leads the prior history; what users buy in the
	// window can change it.
	byCategory := make([]float64, len(categories))
	for i := range byCategory {
		byCategory[i] = u.priorSpend * 0.45 / float64(len(categories)-1)
	}
	byCategory[u.favorite] = u.priorSpend*0.55 + 0.01
	for _, t := range txs {
		if !t.at.Before(at) {
			break
		}
		s.totalPurchases++
		spend += t.amount
		byCategory[t.merchant.category] += t.amount
		last = t.at
		if t.refunded {
			s.refunds++
		}
	}
	if s.totalPurchases > 0 {
		s.avgOrderValue = round2(spend / float64(s.totalPurchases))
	}
	s.daysSinceLastOrder = int64(at.Sub(last) / (24 * time.Hour))
	s.accountAgeDays = int64(at.Sub(u.signup) / (24 * time.Hour))
	best := 0
	for i, v := range byCategory {
		if v > byCategory[best] {
			best = i
		}
	}
	s.preferredCategory = categories[best]
	return s
}

// merchantSnapshot is a weekly risk report about a merchant, covering all
// its customers over the trailing 30 days.
type merchantSnapshot struct {
	merchant    *merchant
	at          time.Time
	riskScore   float64
	orders30d   int64
	chargebacks int64
}

// merchantSnapshots writes a report per merchant every Monday at 03:00 UTC.
func merchantSnapshots(r *rng, ms []*merchant) []merchantSnapshot {
	var snaps []merchantSnapshot
	for at := snapshotStart.Add(3 * time.Hour); at.Before(windowEnd); at = at.Add(7 * 24 * time.Hour) {
		for _, m := range ms {
			orders := math.Round(m.dailyOrders * 30 * (1 + 0.08*r.normal()))
			cbRate := 0.001 + 0.02*m.risk
			snaps = append(snaps, merchantSnapshot{
				merchant:    m,
				at:          at,
				riskScore:   math.Round(clamp(m.risk+0.03*r.normal(), 0, 1)*1000) / 1000,
				orders30d:   int64(orders),
				chargebacks: int64(math.Max(0, math.Round(orders*cbRate*(1+0.2*r.normal())))),
			})
		}
	}
	return snaps
}
