package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/devserver/devproc"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/serve"
	"github.com/kabiforge/kabiforge/repo/store"
)

// devCommand runs everything on one machine: the dev server (Temporal and
// its UI, a child process), a worker, and the repositories over HTTP.
func (a *app) devCommand() *cobra.Command {
	var file, demoKernels string
	var withDemo bool
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run kabiforge on this machine: Temporal dev server and UI, worker, repository server",
		Long: "Run the whole pipeline on this machine: the kabiforge-devserver child process\n" +
			"(Temporal on SQLite under the data directory, and its UI), a worker on every\n" +
			"queue, and the repositories over HTTP. New kernel SRPMs dropped into the upstream\n" +
			"folder are picked up by the watch. --demo seeds the upstream with demo kernels\n" +
			"and kmods: the real kernel family (6.1.0-47, its z-stream rebuild, 6.1.0-57, three\n" +
			"kmods compiled from C) when it can be fetched, else synthetic kernels; each next\n" +
			"kernel is dropped once the one before is published.",
		Args: cobra.NoArgs,
		// A second signal stops it at once.
		Annotations: map[string]string{annotationGrace: "30s"},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig(file)
			if err != nil {
				return err
			}
			var run *demoRun
			var tune []func(*activities.Activities)
			if withDemo {
				if !slices.Contains([]string{demoAuto, demoReal, demoSynthetic}, demoKernels) {
					return badInput(fmt.Errorf("--demo-kernels %q: want auto, real or synthetic", demoKernels))
				}
				if run, err = planDemo(ctx, cmd.OutOrStdout(), demoKernels); err != nil {
					return err
				}
				run.configure(cfg)
				tune = append(tune, run.tuneWorker)
			}
			for _, s := range cfg.Sources {
				if d := sourceDir(s); d != "" {
					if err := os.MkdirAll(d, 0o755); err != nil {
						return err
					}
				}
			}
			proc, err := a.startDevServer(ctx, cfg)
			if err != nil {
				return err
			}
			defer proc.Stop(30 * time.Second)
			c, err := a.dialTemporal(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			stop, err := a.startWorkers(ctx, cfg, c, configuredQueues(cfg), tune...)
			if err != nil {
				return err
			}
			defer stop()
			served := make(chan error, 1)
			ln, err := net.Listen("tcp", cfg.HTTP.Repo)
			if err != nil {
				return fmt.Errorf("repository server: %w", err)
			}
			h, err := a.repoHandler(ctx, cfg)
			if err != nil {
				return err
			}
			go func() { served <- a.serveHTTP(ctx, ln, h) }()
			a.printDevBanner(cmd.OutOrStdout(), cfg, proc.UI)
			if run != nil {
				go run.seed(ctx, a, cfg, c)
			}
			select {
			case <-ctx.Done():
			case <-proc.Exited():
				return fmt.Errorf("dev server exited: %v", proc.Err())
			case err := <-served:
				return err
			}
			a.log.Info().Msg("stopping")
			return nil
		},
	}
	addConfigFlag(cmd, &file)
	cmd.Flags().BoolVar(&withDemo, "demo", false, "seed the upstream with the demo kernels and kmods")
	cmd.Flags().StringVar(&demoKernels, "demo-kernels", demoAuto,
		"the demo's kernels: real (the real kernel family, fetched with the host's package manager), synthetic, or auto (real when it can be fetched)")
	return cmd
}

// startDevServer starts kabiforge-devserver at the configured address with
// its UI, keeping its state in the data directory.
func (a *app) startDevServer(ctx context.Context, cfg *config.Config) (*devproc.Process, error) {
	bin, err := devproc.FindBinary()
	if err != nil {
		return nil, fmt.Errorf("%w (make demo builds it beside kabiforge)", err)
	}
	host, port, err := splitPort(cfg.Temporal.Address)
	if err != nil {
		return nil, badInput(fmt.Errorf("temporal.address: %w", err))
	}
	_, uiPort, err := splitPort(cfg.HTTP.UI)
	if err != nil {
		return nil, badInput(fmt.Errorf("http.ui: %w", err))
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	o := devproc.Options{IP: host, Port: port, UIPort: uiPort, DBFile: filepath.Join(cfg.DataDir, "temporal.db"),
		Namespaces: []string{cfg.Temporal.Namespace}}
	start, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	p, err := devproc.Start(start, bin, o, devLog{a})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return p, nil
}

func splitPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	return host, port, err
}

// devLog passes the dev server's output to the debug log.
type devLog struct{ a *app }

func (l devLog) Write(b []byte) (int, error) {
	l.a.log.Debug().Str("from", "devserver").Msg(strings.TrimSpace(string(b)))
	return len(b), nil
}

// repoHandler serves each repository under /<name>/.
func (a *app) repoHandler(ctx context.Context, cfg *config.Config) (http.Handler, error) {
	mux := http.NewServeMux()
	for _, r := range cfg.Stores.Repositories {
		st, err := store.Open(ctx, cfg.S3.URL(r.URL))
		if err != nil {
			return nil, fmt.Errorf("repository %s: %w", r.Name, err)
		}
		mux.Handle("/"+r.Name+"/", http.StripPrefix("/"+r.Name, serve.Handler(st, a.log)))
	}
	return mux, nil
}

func (a *app) printDevBanner(w io.Writer, cfg *config.Config, ui string) {
	fmt.Fprintf(w, "Temporal UI:  %s\n", ui)
	for _, r := range cfg.Stores.Repositories {
		fmt.Fprintf(w, "repository:   %s\n", r.BaseURL)
		fmt.Fprintf(w, "install with: %s\n", installLine(cfg, r))
	}
	for _, s := range cfg.Sources {
		if d := sourceDir(s); d != "" {
			fmt.Fprintf(w, "upstream:     drop kernel SRPMs into %s\n", d)
		}
	}
}

// installLine is the shell line that installs the kernel and every
// configured kmod from a repository on a dnf machine.
func installLine(cfg *config.Config, r config.Repository) string {
	pkgs := []string{"kernel-core"}
	for _, k := range cfg.Kmods {
		pkgs = append(pkgs, k.Package)
	}
	return fmt.Sprintf("sudo curl -o /etc/yum.repos.d/%s.repo %s%s && sudo dnf install %s",
		r.Name, r.BaseURL, publish.RepoFileKey(r.Name), strings.Join(pkgs, " "))
}

// sourceDir is the local folder of a dir source, "" for other kinds.
func sourceDir(s config.Source) string {
	if d, ok := config.DirPath(s.URL); ok {
		return d
	}
	if strings.Contains(s.URL, "://") && !strings.HasPrefix(s.URL, "file://") {
		return ""
	}
	return strings.TrimPrefix(s.URL, "file://")
}
