package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// The crash tests run this test binary as sluice in a child process.
	if os.Getenv("SLUICE_TEST_MAIN") == "1" {
		os.Exit(Main())
	}
	testscript.Main(m, map[string]func(){
		"sluice": func() { os.Exit(Main()) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script. Each scenario's
// repo/ directory becomes a git repository with one commit before it starts.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               setupScript,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"commit":  cmdCommit,
			"sql":     cmdSQL,
			"capture": cmdCapture,
		},
	})
}

func setupScript(env *testscript.Env) error {
	for _, k := range []string{"SLUICE_ORT_LIB", "SLUICE_CACHE", "HOME"} {
		if v := os.Getenv(k); v != "" {
			env.Setenv(k, v)
		}
	}
	env.Setenv("GIT_AUTHOR_NAME", "Sluice Test")
	env.Setenv("GIT_AUTHOR_EMAIL", "test@sluice.invalid")
	env.Setenv("GIT_COMMITTER_NAME", "Sluice Test")
	env.Setenv("GIT_COMMITTER_EMAIL", "test@sluice.invalid")
	env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	env.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(env.WorkDir, ".gitconfig-none"))
	repo := filepath.Join(env.WorkDir, "repo")
	if _, err := os.Stat(repo); err != nil {
		return nil
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "first"}} {
		if err := git(env.Vars, repo, args...); err != nil {
			return err
		}
	}
	return nil
}

// cmdCommit commits everything in a directory: commit DIR MESSAGE.
func cmdCommit(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: commit DIR MESSAGE")
	}
	dir := ts.MkAbs(args[0])
	for _, a := range [][]string{{"add", "-A"}, {"commit", "-q", "-m", args[1]}} {
		if err := git(envOf(ts), dir, a...); err != nil {
			ts.Fatalf("%v", err)
		}
	}
}

// cmdSQL prints the rows of a query on a state file: sql FILE QUERY.
func cmdSQL(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sql FILE QUERY")
	}
	db, err := sql.Open("sqlite3", "file:"+ts.MkAbs(args[0])+"?mode=ro")
	ts.Check(err)
	defer db.Close()
	rows, err := db.Query(args[1])
	if err != nil {
		if neg {
			return
		}
		ts.Fatalf("sql: %v", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		ts.Check(rows.Scan(ptrs...))
		parts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprint(v)
		}
		fmt.Fprintln(ts.Stdout(), strings.Join(parts, "|"))
	}
	ts.Check(rows.Err())
}

func envOf(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"HOME", "PATH", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

func git(env []string, dir string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
