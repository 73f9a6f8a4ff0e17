#!/usr/bin/env python3
"""Commit-to-applied latency of `sluice daemon` on a local repository.

Makes a git repository with one feature view in a temporary directory,
starts the daemon on it (fsnotify on the refs, no polling), then commits N
changes to the view one after another. For each, the clock starts when
`git commit` returns and stops when GET /api/status first names the new
commit as the revision in force (polled every millisecond). Prints p50,
max and mean, and the p50 against a 60 s polling interval.

    go build -o /tmp/sluice ./cmd/sluice
    python3 bench/daemon/latency.py --sluice /tmp/sluice --commits 20
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

SPEC = """package sluice

sources: tx: {path: "data/tx.csv", timestamp: "ts"}
entities: user: join_key: "user_id"
features: spend: {entities: ["user"], source: "tx", ttl: "87600h", fields: {amount: type: "float64"%s}}
"""


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@sluice.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@sluice.invalid",
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def head(repo):
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def current(url):
    with urllib.request.urlopen(url + "/api/status", timeout=5) as r:
        st = json.load(r)
    rev = st.get("revision") or {}
    return rev.get("commit"), st.get("phase")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True, help="the sluice binary")
    ap.add_argument("--commits", type=int, default=20)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="sluice-bench-daemon-")
    repo = os.path.join(work, "repo")
    os.makedirs(os.path.join(repo, "specs"))
    os.makedirs(os.path.join(repo, "data"))
    with open(os.path.join(repo, "data", "tx.csv"), "w") as f:
        f.write("user_id,ts,amount\n")
        for i in range(1000):
            f.write("%d,2026-11-%02dT00:00:00Z,%d.5\n" % (i % 100, 1 + i % 28, i))
    with open(os.path.join(repo, "specs", "main.cue"), "w") as f:
        f.write(SPEC % "")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")

    port = free_port()
    url = "http://127.0.0.1:%d" % port
    log = open(os.path.join(work, "daemon.log"), "w")
    daemon = subprocess.Popen([args.sluice, "--state", os.path.join(work, "state.db"), "daemon",
                               "--repo", repo, "--path", "specs", "--branch", "main",
                               "--listen", "127.0.0.1:%d" % port, "--open-reads",
                               "--poll", "0", "--recheck", "0"], stderr=log)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if current(url)[0] == head(repo):
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("the daemon did not apply the first commit; see " + log.name)
            time.sleep(0.01)

        lat = []
        for n in range(1, args.commits + 1):
            with open(os.path.join(repo, "specs", "main.cue"), "w") as f:
                f.write(SPEC % (', x%d: {type: "float64", expr: "amount * %d"}' % (n, n)))
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "-m", "variant %d" % n)
            t0 = time.perf_counter()
            want = head(repo)
            while True:
                commit, _ = current(url)
                if commit == want:
                    break
                if time.perf_counter() - t0 > 60:
                    sys.exit("commit %d was not applied within 60 s; see %s" % (n, log.name))
                time.sleep(0.001)
            lat.append(time.perf_counter() - t0)
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
    ms = sorted(x * 1000 for x in lat)
    p50 = statistics.median(ms)
    print("commits: %d" % len(ms))
    print("commit-to-applied p50: %.0f ms, max: %.0f ms, mean: %.0f ms" % (p50, ms[-1], statistics.mean(ms)))
    print("against a 60 s poll: p50 is %.4f of the interval (%.0fx sooner than one interval, %.0fx than its mean wait of 30 s)"
          % (p50 / 60000, 60000 / p50, 30000 / p50))
    print("daemon exit status after SIGTERM: %d" % code)
    if code != 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
