package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/internal/testgit"
)

// writeTransactions writes data/tx.csv: 200 transactions of 20 users over
// November, with an amount and a 0/1 label "big", for a command trainer.
func writeTransactions(r *testgit.Repo) {
	var b strings.Builder
	b.WriteString("user_id,ts,amount,big\n")
	for i := range 200 {
		fmt.Fprintf(&b, "%d,2026-11-%02dT00:00:00Z,%d,%d\n", i%20, 1+i%28, i%97, i%97/50)
	}
	r.Write("data/tx.csv", b.String())
}

// commandRepo is a repository whose one experiment runs command.
func commandRepo(t *testing.T, command, timeout string) *testgit.Repo {
	t.Helper()
	r := testgit.New(t)
	writeTransactions(r)
	r.Write("specs/main.cue", fmt.Sprintf(`package sluice

sources: tx: {path: "data/tx.csv", timestamp: "ts"}
entities: user: join_key: "user_id"
features: spend: {entities: ["user"], source: "tx", ttl: "87600h", fields: amount: type: "float64"}
models: m: aliases: {}
experiments: cmd: {
	model: "m"
	label: {source: "tx", column: "big", entities: ["user"]}
	features: ["spend:amount"]
	trainer: {command: ["sh", "-c", %q], timeout: %q}
}
`, command, timeout))
	r.Commit("a command trainer")
	return r
}

// TestCommandTrainersRunOnlyWhenAllowedWithoutSecretsAndWithATimeout
// applies an experiment whose trainer is a shell command: without
// --allow-command-trainers it never runs; allowed, it runs without any of
// the environment of the process that started it (a webhook secret and a
// token among it); and one that outlives its timeout is stopped and its
// run failed, saying so.
func TestCommandTrainersRunOnlyWhenAllowedWithoutSecretsAndWithATimeout(t *testing.T) {
	t.Parallel()
	needORT(t)
	const secret = "whs-trainer-5e1d0c9b"
	out := t.TempDir()
	envFile := filepath.Join(out, "env.txt")
	repo := commandRepo(t, "env > "+envFile+"; exit 3", "1m")
	env := []string{"SLUICE_WEBHOOK_SECRET=" + secret, "SLUICE_API_TOKEN=" + secret}
	args := []string{"apply", "--repo", repo.Dir(), "--path", "specs", "--auto-approve"}

	p := start(t, sluiceCmd(t.TempDir(), env, args...))
	p.wait(2 * time.Minute)
	if _, err := os.Stat(envFile); err == nil {
		t.Fatalf("the command trainer ran without --allow-command-trainers:\n%s", p.output())
	}
	if !strings.Contains(p.output(), "--allow-command-trainers") {
		t.Errorf("apply does not say command trainers need --allow-command-trainers:\n%s", p.output())
	}

	p = start(t, sluiceCmd(t.TempDir(), env, append(args, "--allow-command-trainers")...))
	p.wait(2 * time.Minute)
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatalf("the allowed command trainer did not run: %v\n%s", err, p.output())
	}
	if strings.Contains(string(b), secret) {
		t.Errorf("the command trainer's environment holds the secret:\n%s", b)
	}

	slow := commandRepo(t, "sleep 60", "1s")
	began := time.Now()
	p = start(t, sluiceCmd(t.TempDir(), nil, "apply", "--repo", slow.Dir(), "--path", "specs", "--auto-approve", "--allow-command-trainers"))
	err = p.wait(2 * time.Minute)
	if err == nil || !strings.Contains(p.output(), "experiments.cmd: Failed") || !strings.Contains(p.output(), "1s") {
		t.Errorf("a trainer past its 1s timeout: %v\n%s", err, p.output())
	}
	if took := time.Since(began); took > 50*time.Second {
		t.Errorf("apply waited %s for a trainer with a 1s timeout that sleeps 60s", took.Round(time.Second))
	}
}
