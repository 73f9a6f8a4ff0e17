package engine

// Hook is told about each step of an apply, for progress output and
// notifications. Recording a step's outcome is not a hook's job: that
// commits in the step's own transaction.
type Hook interface {
	// PreStep is called before a change's step starts.
	PreStep(c *Change)
	// PostStep is called after it ends, or when it was held.
	PostStep(c *Change, r StepResult)
	// Warn reports a problem that did not fail a step.
	Warn(err error)
}
