#!/usr/bin/env python3
"""Commit-to-served latency and resident memory of `sluice daemon` on the
example repository.

Copies examples/repo into a fresh git repository, starts the daemon on it
(fsnotify on the refs, no polling) with its data plane, and waits until
the fraud endpoint answers with version 2 (training both experiments on a
fresh state). Then it commits N promotions, moving `production` between
versions 1 and 2 (a serving change only: no training). For each, the
clock starts when `git commit` returns and stops at the first predict
response that names the new version (polled every millisecond). A second
client sends predict requests the whole time and counts failures.

Resident memory is read from /proc/PID/status (VmRSS now, VmHWM the peak)
once the example is loaded and serving, and again after the commits.

    go build -o /tmp/sluice ./cmd/sluice
    python3 bench/daemon/served.py --sluice /tmp/sluice --commits 50
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BODY = json.dumps({"instances": [{"amount": 412.5, "channel": "web", "hour_of_day": 3,
                                  "user_id": 1001, "merchant_id": "mch_007"}]}).encode()


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@sluice.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@sluice.invalid",
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def predict(url):
    """The served model version, or None when the request failed."""
    req = urllib.request.Request(url + "/v1/models/fraud:predict", data=BODY,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r).get("model_version")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def current(api):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/status" % api, timeout=10) as r:
            return (json.load(r).get("revision") or {}).get("commit")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def memory(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024  # MiB
    return out


def set_alias(models_cue, version):
    with open(models_cue) as f:
        text = f.read()
    text = re.sub(r"aliases: production: \d+", "aliases: production: %d" % version, text)
    # Moving back and forth between two versions: keep both unarchived.
    text = text.replace("archive_previous: true", "archive_previous: false")
    with open(models_cue, "w") as f:
        f.write(text)


class Client(threading.Thread):
    """Sends predict requests back to back and counts the failures."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.ok, self.failed, self.stop = url, 0, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            if predict(self.url) is None:
                self.failed += 1
            else:
                self.ok += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True, help="the sluice binary")
    ap.add_argument("--commits", type=int, default=50)
    ap.add_argument("--no-client", action="store_true", help="no concurrent client (to tell swaps' memory from traffic's)")
    ap.add_argument("--metadata-only", action="store_true",
                    help="commit description edits instead of promotions, waiting for each to be the revision in force (to tell swaps' memory from reconciles')")
    ap.add_argument("--example", default=os.path.join(os.path.dirname(__file__), "..", "..", "examples", "repo"))
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="sluice-bench-served-")
    repo = os.path.join(work, "repo")
    shutil.copytree(args.example, os.path.join(repo, "examples", "repo"))
    models_cue = os.path.join(repo, "examples", "repo", "models.cue")
    set_alias(models_cue, 2)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "example")

    serve, api = free_port(), free_port()
    url = "http://127.0.0.1:%d" % serve
    log = open(os.path.join(work, "daemon.log"), "w")
    t_start = time.perf_counter()
    cmd = [args.sluice, "--state", os.path.join(work, "state.db"), "daemon",
           "--repo", repo, "--path", "examples/repo", "--branch", "main",
           "--serve-listen", "127.0.0.1:%d" % serve, "--listen", "127.0.0.1:%d" % api,
           "--open-reads", "--poll", "0", "--recheck", "0"]
    daemon = subprocess.Popen(cmd, stderr=log)
    client = Client(url)
    try:
        while predict(url) != "2":
            if time.perf_counter() - t_start > 600:
                sys.exit("the example was not served within 600 s; see " + log.name)
            time.sleep(0.05)
        first = time.perf_counter() - t_start
        loaded = memory(daemon.pid)
        if not args.no_client:
            client.start()
        lat = []
        for n in range(1, args.commits + 1):
            want = 1 if n % 2 else 2
            if args.metadata_only:
                with open(models_cue) as f:
                    text = re.sub(r'description: +"[^"]*"', 'description: "edit %d"' % n, f.read(), count=1)
                with open(models_cue, "w") as f:
                    f.write(text)
                git(repo, "commit", "-q", "-am", "edit %d" % n)
                t0 = time.perf_counter()
                head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
                while current(api) != head:
                    if time.perf_counter() - t0 > 60:
                        sys.exit("commit %d was not applied within 60 s; see %s" % (n, log.name))
                    time.sleep(0.001)
                lat.append(time.perf_counter() - t0)
                continue
            set_alias(models_cue, want)
            git(repo, "commit", "-q", "-am", "production: %d" % want)
            t0 = time.perf_counter()
            while predict(url) != str(want):
                if time.perf_counter() - t0 > 60:
                    sys.exit("commit %d was not served within 60 s; see %s" % (n, log.name))
                time.sleep(0.001)
            lat.append(time.perf_counter() - t0)
        client.stop.set()
        if not args.no_client:
            client.join()
        after = memory(daemon.pid)
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
    # A restart on the same state trains nothing: this is the daemon as it
    # usually runs, loaded and serving.
    daemon = subprocess.Popen(cmd, stderr=log)
    try:
        t0 = time.perf_counter()
        while predict(url) is None:
            if time.perf_counter() - t0 > 120:
                sys.exit("the restarted daemon did not serve within 120 s; see " + log.name)
            time.sleep(0.05)
        restart = time.perf_counter() - t0
        time.sleep(1)
        for _ in range(200):
            predict(url)
        restarted = memory(daemon.pid)
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = max(code, daemon.wait(timeout=60))
    ms = sorted(x * 1000 for x in lat)
    p50 = statistics.median(ms)
    print("fresh state to the first served prediction (training both experiments): %.1f s" % first)
    what = "a model description edited, each waited for as the revision in force" if args.metadata_only else \
        "production moved between versions 1 and 2, each waited for as the served version"
    print("commits: %d (%s)" % (len(ms), what))
    print("commit-to-served p50: %.0f ms, max: %.0f ms, mean: %.0f ms" % (p50, ms[-1], statistics.mean(ms)))
    print("against a 60 s poll: p50 is %.4f of the interval (%.0fx sooner than one interval, %.0fx than its mean wait of 30 s)"
          % (p50 / 60000, 60000 / p50, 30000 / p50))
    print("concurrent client: %d requests, %d failed" % (client.ok + client.failed, client.failed))
    print("resident memory, restarted on the trained state, loaded and serving: %.0f MiB (%.2f of the 200 MiB target; serving again after %.1f s)"
          % (restarted["VmRSS"], restarted["VmRSS"] / 200, restart))
    print("resident memory of the first run, just after training and loading: %.0f MiB; after the commits %.0f MiB, peak %.0f MiB (%.2f of the target)"
          % (loaded["VmRSS"], after["VmRSS"], after["VmHWM"], after["VmHWM"] / 200))
    print("daemon exit status after SIGTERM: %d" % code)
    if code != 0 or client.failed:
        sys.exit(1)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
