//go:build !linux

package serving

import (
	"context"
	"time"
)

// hangups is Linux's epoll watch of waiting requests' connections (see
// hangup_linux.go); elsewhere a request on a fasthttp connection whose
// client hangs up waits for its batch like the rest, and its answer is
// dropped.
type hangups struct{}

func (h *hangups) stop()               {}
func (h *hangups) forget(hc *httpConn) {}

// hangupState is empty here.
type hangupState struct{}

// hangupCtx never ends here.
type hangupCtx struct{}

func newHangupCtx(*hangups, *httpConn) *hangupCtx { return &hangupCtx{} }

func (c *hangupCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *hangupCtx) Value(any) any               { return nil }
func (c *hangupCtx) Done() <-chan struct{}       { return nil }
func (c *hangupCtx) Err() error                  { return nil }
func (c *hangupCtx) end()                        {}

var _ context.Context = (*hangupCtx)(nil)
