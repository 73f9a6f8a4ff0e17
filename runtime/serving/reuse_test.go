package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"sluice/schema"
)

// The batcher reuses what it can between requests and batches: answered
// requests go back to a pool, instances gather rows into buffers they keep,
// one-row requests share their output shapes. A mix-up in any of these
// would hand a request another's rows, so many clients send rows that say
// whose they are — one row, several, more than a batch — while others
// give up mid-way, on two instances, and every answer is checked.
func TestConcurrentRequestsEachGetTheirOwnRows(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, Config{Endpoint: "types", Version: 1, Path: model("types.onnx"), MaxBatchSize: 4,
		Batching:  schema.DynamicBatching{MaxQueueDelay: time.Millisecond, MaxQueueSize: 4096},
		Instances: []schema.InstanceGroup{{Count: 2, Kind: "cpu", IntraOpThreads: 1}}})
	var wg sync.WaitGroup
	for c := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				id := int64(c*1000 + i)
				rows := 1 + (c+i)%3*3 // 1, 4 or 7 rows: whole, a full batch, split
				if (c+i)%7 == 0 {
					// A client that gives up while its rows may be queued
					// or in a batch.
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+i%4)*300*time.Microsecond)
					send(ctx, "POST", ts.url+"/v1/models/types:predict", typesBody(id, rows))
					cancel()
					continue
				}
				r, err := send(context.Background(), "POST", ts.url+"/v1/models/types:predict", typesBody(id, rows))
				if err != nil || r.code != 200 {
					t.Errorf("request %d: %v %d %s", id, err, r.code, r.raw)
					return
				}
				if err := checkTypesAnswer(r.raw, id, rows); err != nil {
					t.Errorf("request %d: %v", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// typesBody is a request to types.onnx whose row k carries x = [id, k],
// n = id and tag "id/k".
func typesBody(id int64, rows int) string {
	var b strings.Builder
	b.WriteString(`{"instances":[`)
	for k := range rows {
		if k > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"x":[%d,%d],"n":[%d],"tag":["%d/%d"]}`, id, k, id, id, k)
	}
	b.WriteString(`]}`)
	return b.String()
}

// checkTypesAnswer checks that every row of the answer is the request's
// own: total = id + k + id, twice = 2 id, tag_out = "id/k".
func checkTypesAnswer(raw string, id int64, rows int) error {
	var body struct {
		Predictions []struct {
			Total  []float64 `json:"total"`
			Twice  []int64   `json:"twice"`
			TagOut []string  `json:"tag_out"`
		}
	}
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		return err
	}
	if len(body.Predictions) != rows {
		return fmt.Errorf("%d predictions for %d rows: %s", len(body.Predictions), rows, raw)
	}
	for k, p := range body.Predictions {
		if len(p.Total) != 1 || p.Total[0] != float64(2*id+int64(k)) || len(p.Twice) != 1 || p.Twice[0] != 2*id ||
			len(p.TagOut) != 1 || p.TagOut[0] != fmt.Sprintf("%d/%d", id, k) {
			return fmt.Errorf("row %d is not this request's: %+v", k, p)
		}
	}
	return nil
}
