package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/repo/serve"
	"github.com/kabiforge/kabiforge/repo/store"
)

// repoServeCommand serves a published repository read-only over HTTP.
func (a *app) repoServeCommand() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve DIR|URL",
		Short: "Serve a published repository read-only over HTTP",
		Long: `Serve a repository folder or store URL (dir:///srv/repo, s3://bucket/prefix?endpoint=...)
read-only over HTTP for dnf: correct content types, Range, ETag and Last-Modified
revalidation, HEAD; one access log line per request. S3 credentials come from the
AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ~/.aws).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openServedStore(cmd.Context(), args[0])
			if err != nil {
				return badInput(err)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return badInput(fmt.Errorf("--listen %s: %w", listen, err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "serving %s on http://%s/\n", args[0], ln.Addr())
			return a.serveHTTP(cmd.Context(), ln, serve.Handler(st, a.log))
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on (host:port)")
	return cmd
}

// openServedStore opens the store to serve; unlike store.Open it refuses
// to create a missing folder.
func openServedStore(ctx context.Context, arg string) (store.Store, error) {
	dir, isDir := strings.CutPrefix(arg, "dir://")
	if !strings.Contains(arg, "://") || isDir {
		if !isDir {
			dir = arg
		}
		fi, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("repository %s: %w", arg, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("repository %s: not a folder", arg)
		}
	}
	return store.Open(ctx, arg)
}

// serveHTTP serves until ctx ends, then lets requests in flight finish.
func (a *app) serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.log.Info().Msg("server stopped")
	return nil
}
