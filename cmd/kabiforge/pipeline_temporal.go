package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/config"
)

// dialTemporal connects to the configured Temporal service.
func (a *app) dialTemporal(ctx context.Context, cfg *config.Config) (client.Client, error) {
	opts := client.Options{HostPort: cfg.Temporal.Address, Namespace: cfg.Temporal.Namespace, Logger: temporalLogger{a.log}}
	if t := cfg.Temporal.TLS; t.Active() {
		tc, err := temporalTLS(t)
		if err != nil {
			return nil, badInput(err)
		}
		opts.ConnectionOptions.TLS = tc
	}
	if cfg.Temporal.APIKey.IsSet() {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.Temporal.APIKey.Reveal())
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w", opts.HostPort, opts.Namespace, err)
	}
	return c, nil
}

func temporalTLS(t config.TLS) (*tls.Config, error) {
	tc := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("temporal.tls.ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("temporal.tls.ca: %s holds no PEM certificate", t.CA)
		}
	}
	if t.Cert != "" {
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("temporal.tls.cert/key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// temporalLogger is the Temporal SDK's logger writing through zerolog.
type temporalLogger struct{ l zerolog.Logger }

func (t temporalLogger) log(e *zerolog.Event, msg string, kv []any) {
	for i := 0; i+1 < len(kv); i += 2 {
		e = e.Interface(fmt.Sprint(kv[i]), kv[i+1])
	}
	e.Msg(msg)
}

func (t temporalLogger) Debug(msg string, kv ...any) { t.log(t.l.Debug(), msg, kv) }
func (t temporalLogger) Info(msg string, kv ...any)  { t.log(t.l.Info(), msg, kv) }
func (t temporalLogger) Warn(msg string, kv ...any)  { t.log(t.l.Warn(), msg, kv) }
func (t temporalLogger) Error(msg string, kv ...any) { t.log(t.l.Error(), msg, kv) }
