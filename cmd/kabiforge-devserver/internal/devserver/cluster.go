package devserver

import (
	"fmt"
	"sync/atomic"

	"github.com/rs/zerolog"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" // the production SQL store
	"go.temporal.io/server/temporal"
)

// Configured is a full Temporal server run from an operator's configuration
// file, the format of the Temporal server's own `temporal-server start
// --config-file` (persistence in PostgreSQL, membership through it, TLS,
// authorization): what a cluster node runs, as opposed to Start's
// single-process SQLite server.
type Configured struct {
	temporal temporal.Server
	frontend string
	quiet    *atomic.Bool
	log      zerolog.Logger
}

// StartConfigured loads the server configuration file and starts every
// service it configures. The database must hold the schema already (apply it
// with `kabiforge-devserver sql-tool`, the server's own schema tool).
func StartConfigured(file string, log zerolog.Logger) (*Configured, error) {
	cfg, err := config.Load(config.WithConfigFile(file))
	if err != nil {
		return nil, fmt.Errorf("load server config %s: %w", file, err)
	}
	fe, ok := cfg.Services["frontend"]
	if !ok {
		return nil, fmt.Errorf("server config %s: no frontend service", file)
	}
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("server config %s: authorizer: %w", file, err)
	}
	quiet := new(atomic.Bool)
	logger := serverLogger{z: log, quiet: quiet}
	claims, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("server config %s: claim mapper: %w", file, err)
	}
	var services []string
	for name := range cfg.Services {
		services = append(services, name)
	}
	ts, err := temporal.NewServer(
		temporal.ForServices(services),
		temporal.WithConfig(cfg),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claims }),
	)
	if err != nil {
		return nil, fmt.Errorf("configure temporal server from %s: %w", file, err)
	}
	if err := ts.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server from %s: %w", file, err)
	}
	return &Configured{temporal: ts, frontend: hostPort(fe.RPC.BindOnIP, fe.RPC.GRPCPort), quiet: quiet, log: log}, nil
}

// Frontend returns the host:port the frontend gRPC API binds to.
func (c *Configured) Frontend() string { return c.frontend }

// Stop stops every service; warnings logged while stopping are dropped.
func (c *Configured) Stop() {
	c.quiet.Store(true)
	if err := c.temporal.Stop(); err != nil {
		c.log.Warn().Err(err).Msg("stop temporal server")
	}
}
