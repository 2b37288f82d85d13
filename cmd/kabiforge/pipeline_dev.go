package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/devserver/devproc"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/serve"
	"github.com/kabiforge/kabiforge/repo/store"
	"github.com/kabiforge/kabiforge/workflows"
)

// devCommand runs everything on one machine: the dev server (Temporal and
// its UI, a child process), a worker, and the repositories over HTTP.
func (a *app) devCommand() *cobra.Command {
	var file string
	var withDemo bool
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run kabiforge on this machine: Temporal dev server and UI, worker, repository server",
		Long: "Run the whole pipeline on this machine: the kabiforge-devserver child process\n" +
			"(Temporal on SQLite under the data directory, and its UI), a worker on every\n" +
			"queue, and the repositories over HTTP. New kernel SRPMs dropped into the upstream\n" +
			"folder are picked up by the watch. --demo seeds the upstream with the demo kernel\n" +
			"and kmods, then, once that kernel is published, a next kernel that breaks one kmod.",
		Args: cobra.NoArgs,
		// A second signal stops it at once.
		Annotations: map[string]string{annotationGrace: "30s"},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig(file)
			if err != nil {
				return err
			}
			if withDemo && len(cfg.Kmods) == 0 {
				for _, k := range demo.Kmods(demo.BaseKernel().NVR) {
					cfg.Kmods = append(cfg.Kmods, config.Kmod{Name: k.Name, Package: "kmod-" + k.Name,
						Source: cfg.Sources[0].Name, Rebuild: config.RebuildOnBreak})
				}
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
			stop, err := a.startWorkers(ctx, cfg, c, configuredQueues(cfg))
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
			if withDemo {
				go a.seedDemo(ctx, cfg, c)
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
		st, err := store.Open(ctx, r.URL)
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

// seedDemo writes the demo kernel and kmods into the upstream folder, runs
// the watch, and once that kernel is published writes the next kernel,
// which breaks one kmod, and runs the watch again.
func (a *app) seedDemo(ctx context.Context, cfg *config.Config, c client.Client) {
	dir := sourceDir(cfg.Sources[0])
	if dir == "" {
		a.log.Error().Msg("--demo needs a folder source")
		return
	}
	base := demo.BaseKernel()
	next := demo.NextKernel(base, "4.18.0-80.1.2.el8_0")
	write := func(k demo.Kernel, kmods bool) bool {
		if _, err := demo.KernelSRPM(dir, k); err != nil {
			a.log.Error().Err(err).Msg("demo kernel")
			return false
		}
		for _, m := range demo.Kmods(base.NVR) {
			if !kmods {
				break
			}
			if _, err := demo.KmodSRPM(dir, m); err != nil {
				a.log.Error().Err(err).Msg("demo kmod")
				return false
			}
		}
		for _, s := range cfg.Sources {
			id := workflows.WatchScheduleID(s.Name)
			if err := c.ScheduleClient().GetHandle(ctx, id).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
				a.log.Warn().Err(err).Str("schedule", id).Msg("trigger watch")
			}
		}
		a.log.Info().Str("kernel", k.NVR).Msg("demo kernel is upstream")
		return true
	}
	if !write(base, true) {
		return
	}
	for ctx.Err() == nil {
		s, err := workflows.GetStatus(ctx, c, base.NVR)
		if err == nil && s.Stage == pipeline.StagePublished {
			write(next, false)
			return
		}
		time.Sleep(time.Second)
	}
}
