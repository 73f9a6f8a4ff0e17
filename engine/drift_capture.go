package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sluice/runtime/drift"
	"sluice/runtime/serving"
	"sluice/runtime/store"
)

// CapturingServer is the inference server with every endpoint it deploys
// capturing into Capture (at the endpoint's capture.rate). It embeds the
// real server and only fills in the Capturer the engine owns.
type CapturingServer struct {
	*serving.Server
	Capture serving.Capturer
}

var _ Swapper = CapturingServer{}

// Deploy implements Swapper.
func (s CapturingServer) Deploy(ctx context.Context, cfg serving.Config) error {
	if s.Capture != nil && cfg.CaptureRate > 0 {
		cfg.Capture = s.Capture
	}
	return s.Server.Deploy(ctx, cfg)
}

// DriftCapture hands serving's captured rows to drift's capture buffer:
// runtime/drift does not import runtime/serving, so the rows are copied
// into drift's own type here (the slices are shared, not copied).
type DriftCapture struct {
	Buffer *drift.Capture
}

var _ serving.Capturer = DriftCapture{}

// Capture implements serving.Capturer; like the buffer, it never blocks.
func (c DriftCapture) Capture(r serving.CaptureRows) {
	c.Buffer.CaptureBatch(drift.Batch{Endpoint: r.Endpoint, RequestID: r.RequestID, Version: r.Version, Time: r.Time, Rows: r.Rows,
		NumericNames: r.NumericNames, Numbers: r.Numeric, CategoryNames: r.CategoryNames, Categories: r.Category,
		Width: r.PredictionWidth, Predictions: r.Prediction})
}

// DriftFeedback records POST /v1/feedback's labels in the state file.
type DriftFeedback struct {
	DB     *store.DB
	Buffer *drift.Capture
	Now    func() time.Time
}

var _ serving.FeedbackSink = DriftFeedback{}

// Feedback implements serving.FeedbackSink. A label may arrive before its
// request's capture is written, so an unknown id waits for the buffer to
// be flushed once before it is refused.
func (f DriftFeedback) Feedback(ctx context.Context, endpoint, requestID string, label float64) error {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	err := drift.AddFeedback(ctx, f.DB, endpoint, requestID, label, now())
	if errors.Is(err, drift.ErrUnknownRequest) && f.Buffer != nil {
		if ferr := f.Buffer.Flush(ctx); ferr != nil {
			return ferr
		}
		err = drift.AddFeedback(ctx, f.DB, endpoint, requestID, label, now())
	}
	if errors.Is(err, drift.ErrUnknownRequest) {
		return fmt.Errorf("%w %s on endpoint %s (not captured, sampled out or pruned)", serving.ErrUnknownRequest, requestID, endpoint)
	}
	return err
}
