package serving

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
)

// FeedbackSink records a ground-truth label for a served request id.
type FeedbackSink interface {
	Feedback(ctx context.Context, endpoint, requestID string, label float64) error
}

// ErrUnknownRequest is what a FeedbackSink wraps when it holds no request
// of that id (never captured, sampled out, or pruned): the caller gets 404.
var ErrUnknownRequest = errors.New("unknown request id")

// SetFeedback gives POST /v1/feedback its sink. Until one is set the route
// answers 503.
func (s *Server) SetFeedback(sink FeedbackSink) { s.feedback.Store(&sink) }

// feedbackRequest is POST /v1/feedback's body.
type feedbackRequest struct {
	Endpoint  string   `json:"endpoint"`
	RequestID string   `json:"request_id"`
	Label     *float64 `json:"label"`
}

// postFeedback records the label of a request an endpoint served, named
// by the request id its response carried: {"endpoint": "fraud",
// "request_id": "…", "label": 1}. It answers 204 when recorded, 404 for an
// unknown endpoint or request id, 400 for a body it cannot read.
func (s *Server) postFeedback(w http.ResponseWriter, r *http.Request) {
	sink := s.feedback.Load()
	if sink == nil {
		discard(r)
		writeError(w, errorf(http.StatusServiceUnavailable, "this data plane records no feedback"))
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	defer putBody(body)
	var req feedbackRequest
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	switch err := dec.Decode(&req); {
	case err != nil:
		writeError(w, badInput("feedback: %v: want {\"endpoint\": ..., \"request_id\": ..., \"label\": number}", err))
		return
	case req.Endpoint == "" || req.RequestID == "" || req.Label == nil:
		writeError(w, badInput(`feedback: "endpoint", "request_id" and "label" are all required`))
		return
	case math.IsNaN(*req.Label) || math.IsInf(*req.Label, 0):
		writeError(w, badInput("feedback: label %v is not a finite number", *req.Label))
		return
	}
	if s.lookup(req.Endpoint) == nil {
		writeError(w, errorf(http.StatusNotFound, "feedback: no endpoint %q", req.Endpoint))
		return
	}
	err = (*sink).Feedback(r.Context(), req.Endpoint, req.RequestID, *req.Label)
	switch {
	case errors.Is(err, ErrUnknownRequest):
		writeError(w, errorf(http.StatusNotFound, "feedback: %v", err))
	case err != nil:
		writeError(w, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
