package engine

import (
	"errors"
	"fmt"
)

// Condition reasons: why a resource has the status it has. CamelCase, fixed,
// documented here and nowhere else.
const (
	// ReasonApplied: the resource's spec is recorded and its runtime work done.
	ReasonApplied = "Applied"
	// ReasonMaterialized: a feature view's stores hold its data.
	ReasonMaterialized = "Materialized"
	// ReasonDataInvalid: a data file does not match its declared schema.
	ReasonDataInvalid = "DataInvalid"
	// ReasonMaterializeFailed: materialization failed for another reason.
	ReasonMaterializeFailed = "MaterializeFailed"
	// ReasonDependencyFailed: something this resource reads failed, so it
	// was held back rather than applied against stale inputs.
	ReasonDependencyFailed = "DependencyFailed"
	// ReasonNotExecuted: the spec is valid and recorded, but this build of
	// sluice does not execute its kind yet.
	ReasonNotExecuted = "NotExecuted"
	// ReasonApplyFailed: a step failed for a reason of its own kind.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonInterrupted: an apply stopped before this step finished.
	ReasonInterrupted = "Interrupted"
	// ReasonCancelled: the step alone was cancelled (a training run whose
	// experiment says on_new_revision: "cancel", when a newer revision
	// landed); the message says why.
	ReasonCancelled = "Cancelled"
)

// StepError is a failed step with the condition reason it should record.
type StepError struct {
	Reason string
	Err    error
}

func (e *StepError) Error() string { return e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

func stepErr(reason string, err error) error {
	if err == nil {
		return nil
	}
	return &StepError{Reason: reason, Err: err}
}

func stepErrf(reason, format string, args ...any) error {
	return &StepError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// reasonOf returns the condition reason a step error should record.
func reasonOf(err error) string {
	var se *StepError
	if errors.As(err, &se) {
		return se.Reason
	}
	return ReasonApplyFailed
}
