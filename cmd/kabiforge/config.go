package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/config"
)

// configCommand groups config check and config example.
func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check kabiforge.yaml or print an example of it",
	}
	cmd.AddCommand(a.configCheckCommand(), a.configExampleCommand())
	return cmd
}

func (a *app) configCheckCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Check a configuration file and print every problem in it",
		Long: "Check a configuration file (FILE, else --config, else $KABIFORGE_CONFIG, else\n" +
			"./kabiforge.yaml if present, else the built-in defaults). Prints \"ok\", or every\n" +
			"problem with its line and field path and exits 2.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				file = args[0]
			}
			if _, err := a.loadConfig(file); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return nil
		},
	}
	addConfigFlag(cmd, &file)
	return cmd
}

func (a *app) configExampleCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "example",
		Short: "Print a commented example configuration naming every setting",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := cmd.OutOrStdout().Write(config.Example())
			return err
		},
	}
}

// addConfigFlag adds --config to a command that reads the configuration.
func addConfigFlag(cmd *cobra.Command, file *string) {
	cmd.Flags().StringVar(file, "config", "", "configuration file (default $"+config.EnvConfig+", else ./"+config.DefaultFile+" if present, else built-in defaults)")
}

// loadConfig locates, loads and validates the configuration: file (from
// --config) if set, else $KABIFORGE_CONFIG, else ./kabiforge.yaml, else the
// defaults. Problems come back as exit code 2, one a line.
func (a *app) loadConfig(file string) (*config.Config, error) {
	path := config.Locate(file, os.LookupEnv)
	cfg, err := config.Load(path, os.LookupEnv)
	var ps config.Problems
	if errors.As(err, &ps) {
		where := path
		if where == "" {
			where = "the default configuration"
		}
		return nil, badInput(fmt.Errorf("%d problem(s) in %s:\n%w", len(ps), where, ps))
	}
	if err != nil {
		return nil, badInput(err)
	}
	a.useConfigLevel(cfg.LogLevel)
	a.log.Debug().Object("config", cfg).Msg("configuration loaded")
	return cfg, nil
}
