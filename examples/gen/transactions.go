package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// transaction is one card payment. refunded is hidden state that only the
// user snapshots reveal.
type transaction struct {
	id       string
	user     *user
	merchant *merchant
	amount   float64
	channel  string
	at       time.Time
	fraud    bool
	refunded bool
}

// hourWeights is how ordinary purchases spread over the hours of a day (UTC).
var hourWeights = []float64{
	0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.6, 1.2, 1.8, 2.0, 2.2, 2.4,
	2.6, 2.4, 2.2, 2.2, 2.4, 2.8, 3.2, 3.4, 3.0, 2.4, 1.6, 0.8,
}

// makeTransactions draws ordinary purchases and attacks, then orders them
// by time and numbers them in that order.
//
// The fraud signal is what a model can learn from the features: attacks
// spend several times a user's usual order, mostly at night, mostly on the
// web, at risky merchants, and on new accounts or accounts with many
// refunds. A few ordinary-looking purchases are fraud too (friendly fraud),
// so no model is perfect.
func makeTransactions(r *rng, users []*user, ms []*merchant) []*transaction {
	byCategory := make([][]*merchant, len(categories))
	for _, m := range ms {
		byCategory[m.category] = append(byCategory[m.category], m)
	}
	activity := make([]float64, len(users))
	for i, u := range users {
		activity[i] = u.activity
	}
	txs := make([]*transaction, 0, numTransactions)
	for len(txs) < numTransactions-numAttacks {
		u := users[r.pick(activity)]
		at, ok := purchaseTime(r, u, r.pick(hourWeights))
		if !ok {
			continue
		}
		m := ms[r.intn(len(ms))]
		if r.float() < 0.6 {
			fav := byCategory[u.favorite]
			m = fav[r.intn(len(fav))]
		}
		t := &transaction{user: u, merchant: m, at: at}
		t.amount = orderAmount(u, m, math.Exp(0.4*r.normal()))
		t.channel = []string{"app", "web", "pos"}[r.pick([]float64{0.5, 0.35, 0.15})]
		t.fraud = r.float() < 0.001+0.008*m.risk
		t.refunded = !t.fraud && r.float() < u.refundP
		txs = append(txs, t)
	}
	risk := make([]float64, len(ms))
	for i, m := range ms {
		risk[i] = m.risk * m.risk * m.risk
	}
	for len(txs) < numTransactions {
		hour := r.pick(hourWeights)
		if r.float() < 0.8 {
			hour = r.intn(6)
		}
		at, _ := purchaseTime(r, nil, hour)
		u := victim(r, users, at)
		if u == nil {
			continue
		}
		m := ms[r.pick(risk)]
		txs = append(txs, &transaction{
			user: u, merchant: m, at: at, fraud: true,
			amount:  orderAmount(u, m, r.uniform(3, 10)),
			channel: []string{"web", "app", "pos"}[r.pick([]float64{0.75, 0.2, 0.05})],
		})
	}
	slices.SortStableFunc(txs, func(a, b *transaction) int { return a.at.Compare(b.at) })
	for i, t := range txs {
		t.id = txID(i + 1)
	}
	return txs
}

// purchaseTime draws a moment in the window at the given hour; for a user,
// at least a day after they signed up (so that their first snapshot exists).
func purchaseTime(r *rng, u *user, hour int) (time.Time, bool) {
	from := windowStart
	if u != nil && u.signup.Add(24*time.Hour).After(from) {
		from = u.signup.Add(24 * time.Hour).Truncate(24 * time.Hour).Add(24 * time.Hour)
	}
	days := int(windowEnd.Sub(from).Hours() / 24)
	if days <= 0 {
		return time.Time{}, false
	}
	day := from.Add(time.Duration(r.intn(days)) * 24 * time.Hour)
	return day.Add(time.Duration(hour)*time.Hour + time.Duration(r.intn(3600))*time.Second), true
}

// victim picks whose card an attack uses: new accounts and accounts that
// refund a lot are several times likelier.
func victim(r *rng, users []*user, at time.Time) *user {
	weights := make([]float64, len(users))
	any := false
	for i, u := range users {
		if at.Sub(u.signup) < 48*time.Hour {
			continue
		}
		w := 1.0
		if at.Sub(u.signup) < 45*24*time.Hour {
			w += 5
		}
		if u.refundP > 0.1 {
			w += 3
		}
		weights[i], any = w, true
	}
	if !any {
		return nil
	}
	return users[r.pick(weights)]
}

func orderAmount(u *user, m *merchant, factor float64) float64 {
	return math.Max(1, round2(u.baseOrder*priceFactor[m.category]*factor))
}

func txID(n int) string { return fmt.Sprintf("tx_%06d", n) }
