package schema

import _ "embed"

// schemaSource is the CUE schema every repository is unified with.
//
//go:embed sluice.cue
var schemaSource string
