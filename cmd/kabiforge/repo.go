package main

import "github.com/spf13/cobra"

// repoCommand groups the repository commands: index, sign, publish, serve.
func (a *app) repoCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Index, sign, publish and serve rpm-md repositories",
	}
	cmd.AddCommand(
		// each subcommand is defined in its own file: repo_<name>.go
		a.repoSignCommand(),
		a.repoServeCommand(),
		a.repoIndexCommand(),
		a.repoPublishCommand(),
	)
	return cmd
}
