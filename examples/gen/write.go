package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
)

// world is everything generated, before it is written out.
type world struct {
	users     []*user
	merchants []*merchant
	txs       []*transaction
	userSnaps []userSnapshot
	merchSnap []merchantSnapshot
}

// generate draws the world. Each part has its own random stream, so that
// changing how one is drawn leaves the others' files unchanged.
func generate() *world {
	w := &world{}
	w.users = makeUsers(newRNG(1))
	w.merchants = makeMerchants(newRNG(2))
	w.txs = makeTransactions(newRNG(3), w.users, w.merchants)
	w.userSnaps = userSnapshots(newRNG(4), w.users, w.txs)
	w.merchSnap = merchantSnapshots(newRNG(5), w.merchants)
	return w
}

// file is one data file's name and content.
type file struct {
	name string
	data []byte
	rows int
}

// render encodes the world as the example's data files.
func render(w *world) ([]file, error) {
	users, err := usersCSV(w.userSnaps)
	if err != nil {
		return nil, err
	}
	merchants, err := merchantsCSV(w.merchSnap)
	if err != nil {
		return nil, err
	}
	txs, err := transactionsParquet(w.txs)
	if err != nil {
		return nil, err
	}
	return []file{
		{"user_activity.csv", users, len(w.userSnaps)},
		{"merchants.csv", merchants, len(w.merchSnap)},
		{"transactions.parquet", txs, len(w.txs)},
	}, nil
}

func usersCSV(snaps []userSnapshot) ([]byte, error) {
	rows := [][]string{{"user_id", "event_timestamp", "created_timestamp", "total_purchases",
		"avg_order_value", "days_since_last_order", "preferred_category", "refunds", "account_age_days"}}
	for _, s := range snaps {
		rows = append(rows, []string{
			strconv.FormatInt(s.user.id, 10), ts(s.at), ts(s.created),
			strconv.FormatInt(s.totalPurchases, 10), money(s.avgOrderValue),
			strconv.FormatInt(s.daysSinceLastOrder, 10), s.preferredCategory,
			strconv.FormatInt(s.refunds, 10), strconv.FormatInt(s.accountAgeDays, 10),
		})
	}
	return encodeCSV(rows)
}

func merchantsCSV(snaps []merchantSnapshot) ([]byte, error) {
	rows := [][]string{{"merchant_id", "event_timestamp", "category", "country",
		"risk_score", "orders_30d", "chargebacks_30d"}}
	for _, s := range snaps {
		m := s.merchant
		rows = append(rows, []string{
			m.id, ts(s.at), categories[m.category], m.country,
			strconv.FormatFloat(s.riskScore, 'f', 3, 64),
			strconv.FormatInt(s.orders30d, 10), strconv.FormatInt(s.chargebacks, 10),
		})
	}
	return encodeCSV(rows)
}

func encodeCSV(rows [][]string) ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	if err := cw.WriteAll(rows); err != nil {
		return nil, fmt.Errorf("encode csv: %w", err)
	}
	return b.Bytes(), nil
}

// txRow is a row of transactions.parquet. Timestamps are RFC 3339 strings,
// as in the CSV files.
type txRow struct {
	TransactionID  string  `parquet:"transaction_id"`
	UserID         int64   `parquet:"user_id"`
	MerchantID     string  `parquet:"merchant_id,dict"`
	Amount         float64 `parquet:"amount"`
	Channel        string  `parquet:"channel,dict"`
	HourOfDay      int64   `parquet:"hour_of_day"`
	EventTimestamp string  `parquet:"event_timestamp"`
	IsFraud        int64   `parquet:"is_fraud"`
}

// transactionsParquet writes several row groups, as real exports have, so
// that readers are exercised across group boundaries.
func transactionsParquet(txs []*transaction) ([]byte, error) {
	rows := make([]txRow, len(txs))
	for i, t := range txs {
		rows[i] = txRow{
			TransactionID: t.id, UserID: t.user.id, MerchantID: t.merchant.id,
			Amount: t.amount, Channel: t.channel, HourOfDay: int64(t.at.Hour()),
			EventTimestamp: ts(t.at),
		}
		if t.fraud {
			rows[i].IsFraud = 1
		}
	}
	var b bytes.Buffer
	pw := parquet.NewGenericWriter[txRow](&b,
		parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(5000),
		parquet.CreatedBy("sluice examples/gen", "1", "none"))
	if _, err := pw.Write(rows); err != nil {
		return nil, fmt.Errorf("encode parquet: %w", err)
	}
	if err := pw.Close(); err != nil {
		return nil, fmt.Errorf("encode parquet: %w", err)
	}
	return b.Bytes(), nil
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func money(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
