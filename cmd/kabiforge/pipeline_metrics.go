package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// promMetrics records the activities' measurements for Prometheus.
type promMetrics struct {
	builds    *prometheus.CounterVec
	buildTime *prometheus.HistogramVec
	publishes *prometheus.HistogramVec
	breaks    *prometheus.CounterVec
	boots     *prometheus.HistogramVec
	registry  *prometheus.Registry
}

func newPromMetrics() *promMetrics {
	m := &promMetrics{
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kabiforge_builds_total",
			Help: "Package builds by arch and outcome (ok, PackageBuild, Dependency, Infra, Cancelled, error)."}, []string{"arch", "outcome"}),
		buildTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kabiforge_build_duration_seconds",
			Help: "How long package builds take.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}, []string{"arch"}),
		publishes: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kabiforge_publish_duration_seconds",
			Help: "How long publishes take, by repository and outcome.", Buckets: prometheus.ExponentialBuckets(0.05, 3, 9)}, []string{"repository", "outcome"}),
		breaks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kabiforge_kabi_breaks_total",
			Help: "Published kmods a new kernel's kABI broke."}, []string{"arch"}),
		boots: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kabiforge_boot_test_duration_seconds",
			Help:    "Boot tests (a kernel loading its kmods in a VM) by arch and outcome (ok, refused, no-boot, error).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 8)}, []string{"arch", "outcome"}),
		registry: prometheus.NewRegistry(),
	}
	m.registry.MustRegister(m.builds, m.buildTime, m.publishes, m.breaks, m.boots,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *promMetrics) BuildDone(arch, outcome string, d time.Duration) {
	m.builds.WithLabelValues(arch, outcome).Inc()
	m.buildTime.WithLabelValues(arch).Observe(d.Seconds())
}

func (m *promMetrics) PublishDone(repo string, ok bool, d time.Duration) {
	outcome := "ok"
	if !ok {
		outcome = "error"
	}
	m.publishes.WithLabelValues(repo, outcome).Observe(d.Seconds())
}

func (m *promMetrics) KabiBreaks(arch string, n int) { m.breaks.WithLabelValues(arch).Add(float64(n)) }

func (m *promMetrics) BootDone(arch, outcome string, d time.Duration) {
	m.boots.WithLabelValues(arch, outcome).Observe(d.Seconds())
}

// serveMetrics serves /metrics on addr until ctx ends.
func (a *app) serveMetrics(ctx context.Context, addr string, m *promMetrics) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	go func() {
		if err := a.serveHTTP(ctx, ln, mux); err != nil {
			a.log.Error().Err(err).Msg("metrics server")
		}
	}()
	a.log.Info().Str("addr", ln.Addr().String()).Msg("serving Prometheus metrics on /metrics")
	return nil
}
