package serving

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Outcomes label sluice_serving_requests_total.
const (
	OutcomeOK         = "ok"
	OutcomeBadRequest = "bad_request"
	OutcomeNotFound   = "not_found"
	OutcomeRejected   = "rejected" // queue full (429)
	OutcomeTimeout    = "timeout"  // timed out in the queue (503)
	OutcomeCanceled   = "canceled" // the client went away
	OutcomeError      = "error"
)

// metrics are a Server's Prometheus collectors, in a registry of its own.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	queue    *prometheus.HistogramVec
	compute  *prometheus.HistogramVec
	batch    *prometheus.HistogramVec
	depth    *prometheus.GaugeVec
	busy     *prometheus.CounterVec
	loaded   *prometheus.GaugeVec
}

// timeBuckets run from 50µs to about 1.6s.
var timeBuckets = prometheus.ExponentialBuckets(0.00005, 2, 16)

func newMetrics() *metrics {
	ev := []string{"endpoint", "version"}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_serving_requests_total",
			Help: "Inference requests by endpoint, model version and outcome.",
		}, []string{"endpoint", "version", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sluice_serving_request_duration_seconds", Buckets: timeBuckets,
			Help: "Time from a request's decoded body to its outputs: queue plus compute.",
		}, ev),
		queue: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sluice_serving_queue_duration_seconds", Buckets: timeBuckets,
			Help: "Time a request waited in the batcher's queue before its first rows ran.",
		}, ev),
		compute: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sluice_serving_compute_duration_seconds", Buckets: timeBuckets,
			Help: "Time ONNX Runtime took to run one batch.",
		}, ev),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sluice_serving_batch_rows", Buckets: prometheus.ExponentialBuckets(1, 2, 11),
			Help: "Rows in each batch run.",
		}, ev),
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_serving_queue_rows",
			Help: "Rows waiting in the batcher's queue.",
		}, ev),
		busy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_serving_instance_busy_seconds_total",
			Help: "Time each instance spent running batches.",
		}, []string{"endpoint", "version", "instance"}),
		loaded: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_serving_endpoint_loaded",
			Help: "1 when the endpoint has a loaded model serving, else 0.",
		}, []string{"endpoint"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.queue, m.compute, m.batch, m.depth, m.busy, m.loaded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// versionMetrics are the series of one endpoint version, resolved once so
// that the request path does no label lookups.
type versionMetrics struct {
	m                               *metrics
	endpoint, version               string
	latency, queue, compute, batch  prometheus.Observer
	depth                           prometheus.Gauge
	ok, rejected, timeout, canceled prometheus.Counter
}

func (m *metrics) forVersion(endpoint, version string) *versionMetrics {
	return &versionMetrics{
		m: m, endpoint: endpoint, version: version,
		latency:  m.latency.WithLabelValues(endpoint, version),
		queue:    m.queue.WithLabelValues(endpoint, version),
		compute:  m.compute.WithLabelValues(endpoint, version),
		batch:    m.batch.WithLabelValues(endpoint, version),
		depth:    m.depth.WithLabelValues(endpoint, version),
		ok:       m.requests.WithLabelValues(endpoint, version, OutcomeOK),
		rejected: m.requests.WithLabelValues(endpoint, version, OutcomeRejected),
		timeout:  m.requests.WithLabelValues(endpoint, version, OutcomeTimeout),
		canceled: m.requests.WithLabelValues(endpoint, version, OutcomeCanceled),
	}
}

// count records one request's outcome.
func (v *versionMetrics) count(outcome string) {
	switch outcome {
	case OutcomeOK:
		v.ok.Inc()
	case OutcomeRejected:
		v.rejected.Inc()
	case OutcomeTimeout:
		v.timeout.Inc()
	case OutcomeCanceled:
		v.canceled.Inc()
	default:
		v.m.requests.WithLabelValues(v.endpoint, v.version, outcome).Inc()
	}
}

func (v *versionMetrics) busy(instance string) prometheus.Counter {
	return v.m.busy.WithLabelValues(v.endpoint, v.version, instance)
}

// forget drops the version's series once no deployment serves it.
func (v *versionMetrics) forget() {
	l := prometheus.Labels{"endpoint": v.endpoint, "version": v.version}
	for _, vec := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{v.m.requests, v.m.latency, v.m.queue, v.m.compute, v.m.batch, v.m.depth, v.m.busy} {
		vec.DeletePartialMatch(l)
	}
}

// RegisterMetrics adds collectors of other parts of the process (drift's
// gauges) to the data plane's /metrics, so one scrape sees them all.
func (s *Server) RegisterMetrics(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := s.metrics.reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}
