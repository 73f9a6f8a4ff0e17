// Command sluice is a declarative GitOps reconciler for machine learning:
// it plans and applies a git revision of CUE specs against its SQLite state.
package main

import "os"

func main() { os.Exit(Main()) }
