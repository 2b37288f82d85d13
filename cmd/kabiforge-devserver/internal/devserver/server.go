// Package devserver runs a Temporal server for one machine: frontend,
// history, matching and worker services in this process, persistence in
// SQLite (a file, so state survives restarts, or memory), kabiforge's
// namespace and search attributes registered, and the Temporal UI.
//
// Linking this package costs a binary ~0.2 s and ~90 MB at start, so only
// cmd/kabiforge-devserver (a module of its own) imports it; everything else runs that binary
// through package devproc.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	uiserver "github.com/temporalio/ui-server/v2/server"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kabiforge/kabiforge/internal/searchattr"
)

// Options configure a dev server.
type Options struct {
	IP     string // address every service binds to, e.g. 127.0.0.1
	Port   int    // frontend gRPC port
	UIPort int    // Temporal UI port; 0 serves no UI

	// Namespaces to register; the first is the one reported. Empty means
	// just "default".
	Namespaces []string
	// DBFile is the SQLite database; "" keeps everything in memory.
	DBFile string
	// SearchAttributes are registered in every namespace besides
	// SearchAttributes().
	SearchAttributes map[string]enums.IndexedValueType
	// DynamicConfig overrides server dynamic config values by key.
	DynamicConfig map[string]any
	// Log receives the server's logs.
	Log zerolog.Logger
}

// Server is a running dev server.
type Server struct {
	opts     Options
	temporal temporal.Server
	ui       *uiserver.Server
	quiet    *atomic.Bool // silences the server's shutdown warnings
}

// Start checks that the frontend and UI ports are free (a busy port would
// make the server or the UI exit the process), starts the server, registers
// the search attributes and waits until the UI answers or ctx ends.
func Start(ctx context.Context, o Options) (*Server, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	if err := checkPortFree("frontend", o.IP, o.Port); err != nil {
		return nil, err
	}
	if o.UIPort != 0 {
		if err := checkPortFree("UI", o.IP, o.UIPort); err != nil {
			return nil, err
		}
	}
	p, err := pickPorts(&o)
	if err != nil {
		return nil, err
	}
	sql, err := sqlConfig(&o)
	if err != nil {
		return nil, err
	}
	quiet := new(atomic.Bool)
	ts, err := temporal.NewServer(serverOptions(&o, serverConfig(&o, p, sql), p, quiet)...)
	if err != nil {
		return nil, fmt.Errorf("configure temporal server: %w", err)
	}
	if err := ts.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server on %s: %w", hostPort(o.IP, o.Port), err)
	}
	s := &Server{opts: o, temporal: ts, quiet: quiet}
	if err := s.ready(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (o *Options) normalize() error {
	if o.IP == "" {
		return errors.New("dev server: no IP address to listen on")
	}
	if o.Port <= 0 || o.Port > 65535 {
		return fmt.Errorf("dev server: frontend port %d out of range", o.Port)
	}
	if len(o.Namespaces) == 0 {
		o.Namespaces = []string{"default"}
	}
	attrs := SearchAttributes()
	maps.Copy(attrs, o.SearchAttributes)
	o.SearchAttributes = attrs
	return nil
}

func serverOptions(o *Options, c *config.Config, p ports, quiet *atomic.Bool) []temporal.ServerOption {
	dc := dynamicconfig.StaticClient{}
	for k, v := range defaultDynamicConfig() {
		dc[dynamicconfig.MakeKey(k)] = v
	}
	for k, v := range o.DynamicConfig {
		dc[dynamicconfig.MakeKey(k)] = v
	}
	host := func(port int) static.Hosts { return static.SingleLocalHost(hostPort(o.IP, port)) }
	noClaims := authorization.NewNoopClaimMapper()
	return []temporal.ServerOption{
		temporal.WithConfig(c),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: host(p.frontend),
			primitives.HistoryService:  host(p.history),
			primitives.MatchingService: host(p.matching),
			primitives.WorkerService:   host(p.worker),
		}),
		temporal.WithLogger(serverLogger{z: o.Log, quiet: quiet}),
		temporal.WithAuthorizer(authorization.NewNoopAuthorizer()),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return noClaims }),
		temporal.WithDynamicConfigClient(dc),
	}
}

// ready registers the search attributes, then starts the UI and waits for it.
func (s *Server) ready(ctx context.Context) error {
	conn, err := grpc.NewClient(s.Frontend(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dial frontend %s: %w", s.Frontend(), err)
	}
	defer conn.Close()
	op := operatorservice.NewOperatorServiceClient(conn)
	for _, ns := range s.opts.Namespaces {
		if _, err := searchattr.Ensure(ctx, op, ns, s.opts.SearchAttributes); err != nil {
			return fmt.Errorf("register search attributes: %w", err)
		}
	}
	if s.opts.UIPort == 0 {
		return nil
	}
	s.ui = newUI(s.opts.IP, s.opts.UIPort, s.Frontend(), s.opts.Namespaces[0])
	go func() {
		// Start blocks while serving; on any error but a clean close the UI
		// library itself exits the process.
		_ = s.ui.Start()
	}()
	return waitHTTP(ctx, s.UIURL())
}

// Frontend returns the host:port of the frontend gRPC API.
func (s *Server) Frontend() string { return hostPort(s.opts.IP, s.opts.Port) }

// UIURL returns the base URL of the UI, or "" when it serves none.
func (s *Server) UIURL() string {
	if s.opts.UIPort == 0 {
		return ""
	}
	return "http://" + hostPort(s.opts.IP, s.opts.UIPort)
}

// Namespace returns the first registered namespace.
func (s *Server) Namespace() string { return s.opts.Namespaces[0] }

// Stop stops the UI and the server. Warnings the server logs while stopping
// are dropped.
func (s *Server) Stop() {
	s.quiet.Store(true)
	if s.ui != nil {
		s.ui.Stop()
	}
	if err := s.temporal.Stop(); err != nil {
		s.opts.Log.Warn().Err(err).Msg("stop temporal server")
	}
}

// waitHTTP polls url until it answers at all.
func waitHTTP(ctx context.Context, url string) error {
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("wait for UI %s: %w", url, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("UI %s did not answer: %w (last error: %v)", url, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
