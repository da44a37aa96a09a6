package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sbmpsim/sbmpsim/cmd/sbmpsim/internal/tui"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
)

func newTUICmd() *cobra.Command {
	var workers int
	cmd := &cobra.Command{
		Use:   "tui [SCENARIO.toml | NAME]",
		Short: "Edit a scenario, run it and watch the machine, in the terminal",
		Long: `Open a full-screen view of a scenario file, or of an embedded scenario by name
(default: the embedded ` + scenarios.Default + `). The editor validates the TOML as you
type and shows errors with their line and key, as the CLI reports them.

Keys: F1 help; F2/F3/F4 editor, run and seeds views; Ctrl-S save (asks for a
path for an embedded scenario); Ctrl-R run in the background (again: restart);
Ctrl-T run over seeds, optionally A/B against one --set; Ctrl-G first error;
Ctrl-C stop what runs in the view shown, or quit; F10 quit.`,
		Example: `  sbmpsim tui                      # the embedded default scenario
  sbmpsim tui my-scenario.toml     # edit a file; Ctrl-S writes it back`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := scenarios.Default
			if len(args) == 1 {
				name = args[0]
			}
			source, data, err := scenarios.Format().Read(name)
			if err != nil {
				return err
			}
			if workers < 1 {
				return usageError{fmt.Errorf("--workers %d: need at least 1", workers)}
			}
			if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
				return usageError{fmt.Errorf("tui needs a terminal on standard input and output")}
			}
			path := source
			if strings.HasPrefix(source, tomlfile.EmbeddedPrefix) {
				path = ""
			}
			u, err := tui.New(tui.Options{Path: path, Source: source, Text: string(data), Workers: workers})
			if err != nil {
				return err
			}
			return u.Run()
		},
	}
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "goroutines of a seeds run")
	return cmd
}
