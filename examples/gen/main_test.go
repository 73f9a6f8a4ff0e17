package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCommittedDataIsWhatGenWrites fails when the generator changed but the
// committed files were not rewritten (or were edited by hand).
func TestCommittedDataIsWhatGenWrites(t *testing.T) {
	files, err := render(generate())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		committed, err := os.ReadFile(filepath.Join("..", "repo", "data", f.name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(committed, f.data) {
			t.Errorf("examples/repo/data/%s differs from what gen writes: run go generate ./examples/gen and commit", f.name)
		}
	}
}

func TestRunWritesIdenticalFilesTwice(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := run(a, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(b, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"user_activity.csv", "merchants.csv", "transactions.parquet"} {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

func TestDataFitsTheExample(t *testing.T) {
	w := generate()
	files, err := render(w)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range files {
		total += len(f.data)
	}
	if total > 3<<20 {
		t.Errorf("data files hold %d bytes, more than 3 MiB", total)
	}
	if len(w.txs) != numTransactions || len(w.users) != numUsers || len(w.merchants) != numMerchants {
		t.Errorf("got %d transactions, %d users, %d merchants", len(w.txs), len(w.users), len(w.merchants))
	}
	fraud := 0
	for i, tx := range w.txs {
		if tx.fraud {
			fraud++
		}
		if tx.at.Before(windowStart) || !tx.at.Before(windowEnd) {
			t.Errorf("%s at %s is outside the window", tx.id, tx.at)
		}
		if i > 0 && tx.at.Before(w.txs[i-1].at) {
			t.Errorf("%s is out of time order", tx.id)
		}
	}
	if share := float64(fraud) / float64(len(w.txs)); share < 0.03 || share > 0.05 {
		t.Errorf("fraud share %.3f, want 3-5%%", share)
	}
}

// TestFraudIsLearnable checks the signal the README promises: fraud spends
// more than the user's usual order, at night, at riskier merchants.
func TestFraudIsLearnable(t *testing.T) {
	w := generate()
	var fraud, normal struct{ ratio, night, risk, n float64 }
	for _, tx := range w.txs {
		s := &normal
		if tx.fraud {
			s = &fraud
		}
		s.n++
		s.ratio += tx.amount / (tx.user.baseOrder * priceFactor[tx.merchant.category])
		s.risk += tx.merchant.risk
		if tx.at.Hour() < 6 {
			s.night++
		}
	}
	if fraud.ratio/fraud.n < 2*normal.ratio/normal.n {
		t.Errorf("fraud spends %.2fx the usual order, ordinary payments %.2fx", fraud.ratio/fraud.n, normal.ratio/normal.n)
	}
	if fraud.night/fraud.n < 3*normal.night/normal.n {
		t.Errorf("%.2f of fraud at night, %.2f of ordinary payments", fraud.night/fraud.n, normal.night/normal.n)
	}
	if fraud.risk/fraud.n < 2*normal.risk/normal.n {
		t.Errorf("mean merchant risk %.2f for fraud, %.2f for ordinary payments", fraud.risk/fraud.n, normal.risk/normal.n)
	}
}

// TestEveryTransactionHasFeaturesToJoin keeps the data and the TTLs in
// features.cue (user_stats 336h, merchant_stats 720h) consistent: every
// label row finds a user snapshot already written and a merchant report.
func TestEveryTransactionHasFeaturesToJoin(t *testing.T) {
	w := generate()
	users := map[int64][]userSnapshot{}
	for _, s := range w.userSnaps {
		users[s.user.id] = append(users[s.user.id], s)
		if !s.created.After(s.at) {
			t.Errorf("user %d snapshot at %s created at %s, not after", s.user.id, s.at, s.created)
		}
	}
	merchants := map[string][]merchantSnapshot{}
	for _, s := range w.merchSnap {
		merchants[s.merchant.id] = append(merchants[s.merchant.id], s)
	}
	for id, snaps := range users {
		if len(snaps) < 3 {
			t.Errorf("user %d has %d snapshots; point-in-time retrieval needs several", id, len(snaps))
		}
	}
	for _, tx := range w.txs {
		found := false
		for _, s := range users[tx.user.id] {
			found = found || !s.created.After(tx.at) && tx.at.Sub(s.at) <= 336*time.Hour
		}
		if !found {
			t.Errorf("%s (user %d at %s) has no user snapshot to join", tx.id, tx.user.id, tx.at)
		}
		found = false
		for _, s := range merchants[tx.merchant.id] {
			found = found || !s.at.After(tx.at) && tx.at.Sub(s.at) <= 720*time.Hour
		}
		if !found {
			t.Errorf("%s (merchant %s at %s) has no merchant report to join", tx.id, tx.merchant.id, tx.at)
		}
	}
}
