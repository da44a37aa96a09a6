package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sbmpsim/sbmpsim/cmd/sbmpsim/internal/tui"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
	"github.com/sbmpsim/sbmpsim/experiments/output"
)

func newTUICmd() *cobra.Command {
	var workers int
	var sets []string
	cmd := &cobra.Command{
		Use:   "tui [SCENARIO] [--set KEY=VALUE]...",
		Short: "Edit a scenario, run it and watch the machine, in the terminal",
		Long: `Open a full-screen view of a scenario file, or of an embedded scenario by name
(default: the embedded ` + scenarios.Default + `). The editor validates the TOML as you
type and shows errors with their line and key, as the CLI reports them.
--set overrides apply to what is validated and run, not to the text: the
editor, and what Ctrl-S saves, hold the scenario as written.

Keys: F1 help; F2/F3/F4 editor, run and seeds views; Ctrl-S save (asks for a
path for an embedded scenario); Ctrl-R run in the background (again: restart);
Ctrl-T run over seeds, optionally A/B against one --set; Ctrl-G first error;
Ctrl-C stop what runs in the view shown, or quit; F10 quit.`,
		Example: `  sbmpsim tui                      # the embedded default scenario
  sbmpsim tui my-scenario.toml     # edit a file; Ctrl-S writes it back
  sbmpsim tui steady --set run.duration_ms=2000`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeScenario,
		RunE: func(cmd *cobra.Command, args []string) error {
			name := scenarios.Default
			if len(args) == 1 {
				name = args[0]
			}
			source, data, err := scenarios.Format().Read(name)
			if err != nil {
				return usageError{err}
			}
			if err := checkTUISets(source, data, sets); err != nil {
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
			u, err := tui.New(tui.Options{Path: path, Source: source, Text: string(data), Workers: workers, Sets: sets})
			if err != nil {
				return err
			}
			// A hang-up (an SSH session that drops) or a termination
			// signal stops the UI, which restores the terminal; unsaved
			// text then goes to a recovery file instead of being lost.
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM)
			defer signal.Stop(sigs)
			var got atomic.Value
			go func() {
				if s, ok := <-sigs; ok {
					got.Store(s)
					u.Stop()
				}
			}()
			if err := u.Run(); err != nil {
				return err
			}
			s, stopped := got.Load().(os.Signal)
			if !stopped {
				return nil
			}
			if text, modified := u.Unsaved(); modified {
				rec := recoveryPath(path, source)
				if err := output.WriteFileAtomic(rec, []byte(text)); err != nil {
					return fmt.Errorf("tui stopped by %v; the unsaved scenario could not be kept: %w", s, err)
				}
				return fmt.Errorf("tui stopped by %v; the unsaved scenario is in %s", s, rec)
			}
			return fmt.Errorf("tui stopped by %v", s)
		},
	}
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "goroutines of a seeds run")
	setFlag(cmd, &sets, "override a scenario key in what is validated and run, not in the text (repeatable)")
	return cmd
}

// checkTUISets refuses, before the screen opens, --set overrides that
// the scenario text (or, when the text does not parse yet, the defaults)
// does not take: an unknown key, a value of the wrong type.
func checkTUISets(source string, data []byte, sets []string) error {
	sc, err := scenario.Parse(source, data)
	if err != nil {
		d := scenario.Default()
		sc = &d
	}
	for _, s := range sets {
		if err := sc.Set(s); err != nil {
			return usageError{err}
		}
	}
	return nil
}

// recoveryPath is where a signal's unsaved text goes: beside the file, or
// for an embedded scenario in the working directory, never over an
// existing file.
func recoveryPath(path, source string) string {
	base := path
	if base == "" {
		base = strings.TrimPrefix(source, tomlfile.EmbeddedPrefix) + ".toml"
	}
	base = strings.TrimSuffix(base, ".toml") + ".recovered"
	p := base + ".toml"
	for i := 2; ; i++ {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			return p
		}
		p = fmt.Sprintf("%s-%d.toml", base, i)
	}
}
