//go:build !unix

package source

import "context"

// lockFile does not lock where flock is missing: two processes syncing the
// same cached clone at once may then both fetch, which git tolerates.
func lockFile(context.Context, string) (func(), error) {
	return func() {}, nil
}
