// Package reliability proves Sluice's promises about faults, load and
// hostile input by driving the real binary: it kills `sluice apply` and
// `sluice daemon` with SIGKILL at random moments and checks the state file
// afterwards, fills disks, stalls git servers, floods endpoints and greps
// every output for secrets. It holds tests only; RELIABILITY.md at the
// repository's root lists each promise with the test that proves it.
//
// `go test ./reliability` runs a few trials of each (the short mode that
// `make test` runs); `make reliability` sets SLUICE_RELIABILITY=full and
// runs 200 crash trials.
package reliability
