package reliability

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sluice/internal/testgit"
)

// The load test's model: a random MLP 1→512→512→1 whose hidden layer is
// applied slowRepeat times with the same weights (gen-testmodels -repeat),
// about 315M multiply-adds a row in a 1 MiB file. On one ONNX Runtime
// thread that is one or two hundred rows a second: a capacity whose
// tenfold a load generator sharing the server's two CPUs can offer with
// one-row requests, even under the race detector, as it cannot for a
// model that answers thousands.
const (
	slowSizes  = "1,512,512,1"
	slowRepeat = 1200
)

// loadTimeout is loadSpec's queue timeout.
const loadTimeout = 500 * time.Millisecond

// loadSpec serves the slow model with batches of 8 rows (a batch runs for
// about 50ms) and a queue of 16 rows, about 100ms of work at capacity: an
// overload shows as 429s at the door, and a request let in starts within
// the 500ms timeout even when the machine slows the model down severalfold
// for a while (on the shared development machine, batches of the same rows
// took from 50 to over 200ms). A queue of 32 rows did not leave that room:
// accepted p99 433-754ms there at load averages of 6-10. The experiment's
// command trainer writes the model with gen-testmodels (%s: its path).
const loadSpec = `package sluice

sources: tx: {path: "data/tx.csv", timestamp: "ts"}
entities: user: join_key: "user_id"
features: spend: {entities: ["user"], source: "tx", ttl: "87600h", fields: amount: type: "float64"}
models: slow: aliases: production: 1
experiments: slow: {
	model: "slow"
	task:  "regression"
	label: {source: "tx", column: "big", entities: ["user"]}
	features: ["spend:amount"]
	trainer: {command: ["sh", "-c", %q], timeout: "5m"}
}
endpoints: slow: {
	model: "slow"
	alias: "production"
	max_batch_size: 8
	dynamic_batching: {max_queue_delay: "2ms", max_queue_size: 16, timeout: "500ms"}
	instance_groups: [{count: 1, kind: "cpu"}]
}
`

// slowModelRepo is a repository whose apply trains (writes) the slow
// model as version 1 and serves it as endpoint "slow", at "specs".
func slowModelRepo(t *testing.T) *testgit.Repo {
	t.Helper()
	gen := filepath.Join(t.TempDir(), "gen-testmodels")
	if out, err := exec.Command("go", "build", "-o", gen, "sluice/cmd/gen-testmodels").CombinedOutput(); err != nil {
		t.Fatalf("build gen-testmodels: %v\n%s", err, out)
	}
	r := testgit.New(t)
	writeTransactions(r)
	train := fmt.Sprintf("'%s' -mlp %s -repeat %d -o \"$SLUICE_OUTPUT/model.onnx\"", gen, slowSizes, slowRepeat)
	r.Write("specs/main.cue", fmt.Sprintf(loadSpec, train))
	r.Commit("serve a slow model with a bounded queue")
	return r
}
