package daemon

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"sluice/runtime/store"
	"sluice/schema"
)

// Notice types: the events a repository's notifications subscribe to,
// as schema/sluice.cue names them.
const (
	NoticeApplied  = "applied"
	NoticeFailed   = "failed"
	NoticePromoted = "promoted"
	NoticeDrift    = "drift"
	NoticeRollback = "rollback"
)

// Defaults of notification delivery.
const (
	// DefaultNotifyAttempts is how often a notice is tried per webhook.
	DefaultNotifyAttempts = 5
	// DefaultNotifyRetryMin is the first wait between attempts; it doubles.
	DefaultNotifyRetryMin = time.Second
	notifyRetryMax        = time.Minute
	notifyTimeout         = 10 * time.Second
	notifyQueue           = 1024
	notifyWorkers         = 4
)

// Notice is one event as the notification webhooks receive it, POSTed as
// JSON. It carries no secret: the repository URL loses its credentials,
// and so does any URL in the message.
type Notice struct {
	Type     string    `json:"type"`
	Reason   string    `json:"reason"`
	Message  string    `json:"message"`
	Resource string    `json:"resource,omitempty"` // kind.name, when about one resource
	Commit   string    `json:"commit,omitempty"`
	Ref      string    `json:"ref,omitempty"`
	Repo     string    `json:"repo,omitempty"`
	At       time.Time `json:"at"`
	// Notification is the name of the repository's notification it was
	// sent to.
	Notification string `json:"notification"`
}

// NotifyStats count deliveries, as status shows them.
type NotifyStats struct {
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Dropped int `json:"dropped"`
}

// notifier delivers notices to the webhooks of the revision in force,
// off the reconcile loop: a full queue drops a notice rather than wait.
type notifier struct {
	db       *store.DB
	log      *slog.Logger
	hc       *http.Client
	attempts int
	retryMin time.Duration

	targets atomic.Pointer[map[string]*schema.Notification]

	mu     sync.Mutex
	closed bool
	stats  NotifyStats
	queue  chan delivery
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type delivery struct {
	name, url string
	notice    Notice
}

func newNotifier(db *store.DB, log *slog.Logger, attempts int, retryMin, timeout time.Duration) *notifier {
	if attempts <= 0 {
		attempts = DefaultNotifyAttempts
	}
	if retryMin <= 0 {
		retryMin = DefaultNotifyRetryMin
	}
	if timeout <= 0 {
		timeout = notifyTimeout
	}
	n := &notifier{db: db, log: log, attempts: attempts, retryMin: retryMin,
		hc: &http.Client{Timeout: timeout}, queue: make(chan delivery, notifyQueue)}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	for range notifyWorkers {
		n.wg.Add(1)
		go n.work()
	}
	return n
}

// setTargets makes a revision's notifications the ones notices go to.
func (n *notifier) setTargets(spec *schema.Spec) {
	t := spec.Notifications
	if t == nil {
		t = map[string]*schema.Notification{}
	}
	n.targets.Store(&t)
}

// Notify sends an event to every notification of the revision in force
// that subscribes to its type (n.Type: NoticeApplied, NoticeFailed,
// NoticePromoted, NoticeDrift, NoticeRollback). It never blocks: delivery,
// with retries and backoff, happens on the daemon's own goroutines, and a
// notice that cannot be delivered is recorded in the event log.
func (d *Daemon) Notify(ctx context.Context, n Notice) {
	if n.At.IsZero() {
		n.At = time.Now()
	}
	if n.Repo == "" {
		n.Repo = d.cfg.Repo
	}
	d.notify.send(ctx, n)
}

func (n *notifier) send(ctx context.Context, nt Notice) {
	t := n.targets.Load()
	if t == nil {
		return
	}
	nt.Repo, nt.Message = redactText(nt.Repo), redactText(nt.Message)
	names := make([]string, 0, len(*t))
	for name := range *t {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		target := (*t)[name]
		if !slices.Contains(target.Events, nt.Type) {
			continue
		}
		dl := delivery{name: name, url: target.URL, notice: nt}
		dl.notice.Notification = name
		n.mu.Lock()
		queued, closed := false, n.closed
		if !closed {
			select {
			case n.queue <- dl:
				queued = true
			default:
			}
		}
		if !queued {
			n.stats.Dropped++
		}
		n.mu.Unlock()
		switch {
		case closed:
			// The daemon is stopping, its state file perhaps closed.
			n.log.Warn("notification dropped: the daemon is stopping", keyDetail, dl.name+": "+nt.Type)
		case !queued:
			n.record(ctx, dl, 0, fmt.Errorf("the delivery queue is full (%d notices)", notifyQueue))
		}
	}
}

func (n *notifier) work() {
	defer n.wg.Done()
	for dl := range n.queue {
		n.deliver(dl)
	}
}

// deliver POSTs one notice, retrying with doubling waits; a notice that
// never got a 2xx answer is recorded in the event log.
func (n *notifier) deliver(dl delivery) {
	body, err := json.Marshal(dl.notice)
	if err != nil {
		n.record(n.ctx, dl, 0, err)
		return
	}
	wait := n.retryMin
	for attempt := 1; ; attempt++ {
		err = n.post(dl.url, body)
		if err == nil {
			n.mu.Lock()
			n.stats.Sent++
			n.mu.Unlock()
			return
		}
		if attempt == n.attempts || n.ctx.Err() != nil {
			n.mu.Lock()
			n.stats.Failed++
			n.mu.Unlock()
			n.record(n.ctx, dl, attempt, err)
			return
		}
		select {
		case <-n.ctx.Done():
		case <-time.After(jitter(wait, 0.2)):
		}
		wait = min(2*wait, notifyRetryMax)
	}
}

func (n *notifier) post(u string, body []byte) error {
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sluice-daemon")
	resp, err := n.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, which may hold a secret
		}
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// record writes an undelivered notice to the event log.
func (n *notifier) record(ctx context.Context, dl delivery, attempts int, why error) {
	msg := fmt.Sprintf("notifications.%s: %s notice (%s) not delivered to %s", dl.name, dl.notice.Type, dl.notice.Reason, redactURL(dl.url))
	if attempts > 0 {
		msg += fmt.Sprintf(" after %d attempt(s)", attempts)
	}
	msg += ": " + redactText(why.Error())
	n.log.Warn("notification failed", keyDetail, msg)
	ctx = context.WithoutCancel(ctx)
	err := n.db.Tx(ctx, func(tx *sql.Tx) error {
		return store.AddEvent(ctx, tx, store.Event{At: time.Now(), Kind: "notifications", Name: dl.name, Type: "Warning",
			Reason: ReasonNotificationFailed, Message: msg})
	})
	if err != nil {
		n.log.Error("record event", keyErr, err)
	}
}

// close stops taking notices and delivers those queued until ctx ends;
// then attempts in progress are abandoned (and recorded as failed).
func (n *notifier) close(ctx context.Context) {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		n.cancel()
		<-done
	}
	n.cancel()
}

func (n *notifier) snapshot() NotifyStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// redactURL keeps a URL's scheme and host: its user info, path and query
// may carry a secret (a token, a chat webhook's key).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return redactText(s)
	}
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		out += "/…"
	}
	return out
}

// userInfo is the credentials part of a URL inside free text.
var userInfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@`)

// redactText removes credentials from URLs in a message.
func redactText(s string) string {
	return userInfo.ReplaceAllString(s, "${1}***@")
}
