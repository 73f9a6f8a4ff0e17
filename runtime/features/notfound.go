package features

import "errors"

// IsNotMaterialized reports whether err says a feature view has never been
// materialized (or was deleted): a reader's mistake in naming it, not a
// failure of the store.
func IsNotMaterialized(err error) bool { return errors.Is(err, errNoView) }
