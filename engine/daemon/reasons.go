package daemon

// Event reasons the daemon records for a revision as a whole (resource
// events are the engine's, see engine/status.go). CamelCase, fixed,
// documented here and nowhere else.
const (
	// ReasonRevisionApplied: a revision was applied and is current.
	ReasonRevisionApplied = "RevisionApplied"
	// ReasonApplyIncomplete: a revision was applied but some steps failed
	// or were held; it is current, and is retried with backoff.
	ReasonApplyIncomplete = "ApplyIncomplete"
	// ReasonApplyError: apply stopped on an error of the state store; the
	// last good revision stays current; retried with backoff.
	ReasonApplyError = "ApplyError"
	// ReasonSpecInvalid: a revision's specs do not load; it is recorded as
	// failed, the last good revision stays current, and it is not retried:
	// the next commit is the fix.
	ReasonSpecInvalid = "SpecInvalid"
	// ReasonPlanFailed: a revision's specs load but cannot be planned (a
	// missing data file); recorded as failed and retried with backoff.
	ReasonPlanFailed = "PlanFailed"
	// ReasonChangeRefused: the plan holds a change apply refuses; recorded
	// as failed and not retried.
	ReasonChangeRefused = "ChangeRefused"
	// ReasonSourceUnavailable: the branch could not be read (an unreachable
	// remote without a cached clone, a deleted branch, a corrupt pack);
	// retried with backoff.
	ReasonSourceUnavailable = "SourceUnavailable"
	// ReasonFetchFailed: a remote could not be fetched and its cached
	// clone was read instead; the next poll or webhook fetches again.
	ReasonFetchFailed = "FetchFailed"
	// ReasonDriftHealed: a re-check of the current revision found work
	// (state that no longer matched it) and applied it.
	ReasonDriftHealed = "DriftHealed"
	// ReasonWebhookRejected: a POST /hooks/git failed verification and
	// was ignored.
	ReasonWebhookRejected = "WebhookRejected"
	// ReasonNotificationFailed: a notice could not be delivered to one of
	// the repository's notification webhooks (after its retries, or
	// because the queue was full); the event itself is in the log.
	ReasonNotificationFailed = "NotificationFailed"
	// ReasonUnverifiedCommit: under --verify-commits, the branch head (or,
	// in strict mode, a commit since the revision in force) is unsigned or
	// signed by a key the keyring lacks; it is recorded as failed, the
	// last good revision stays, and the next commit is the fix.
	ReasonUnverifiedCommit = "UnverifiedCommit"
)
