package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/canon/catalog"
	"github.com/spf13/cobra"
)

// defaultNotebooks is where experiments write unless --out says otherwise.
const defaultNotebooks = "notebooks-out"

func newExperimentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "experiment list | run NAME|all [--quick] [--workers W] [--out DIR] [--estimate] | manifest [--out DIR] [--check]",
		Short: "The canonical experiments: figures, CSV and an HTML report under notebooks-out/, with MANIFEST.json",
		Example: `  sbmpsim experiment list
  sbmpsim experiment run all               # what notebooks-out/ holds: the full runs
  sbmpsim experiment manifest --check      # do the files match notebooks-out/MANIFEST.json?`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "list",
		Short:   "List the canonical experiments",
		Example: "  sbmpsim experiment list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, e := range catalog.All() {
				fmt.Fprintf(cmd.OutOrStdout(), "%-16s %s (%s)\n", e.Name, e.Title, e.Spec)
			}
			return nil
		},
	})
	cmd.AddCommand(newExperimentRunCmd(), newExperimentManifestCmd())
	return cmd
}

// experimentFlags are experiment run's flags.
type experimentFlags struct {
	quick    bool
	workers  int
	out      string
	estimate bool
}

func newExperimentRunCmd() *cobra.Command {
	var f experimentFlags
	run := &cobra.Command{
		Use:   "run NAME|all",
		Short: "Run experiments and write notebooks-out/NAME/ (and index.html, MANIFEST.json)",
		Long: `Run one canonical experiment, or all of them, and write its figures (PNG and
SVG), the CSV of every plotted number, README.md and an HTML section to
DIR/NAME/; then rebuild DIR/index.html from every experiment's section.
Without --quick it runs the full versions (100 seeds per point for the OOM
probability curves); --quick runs the small ones, which CI regenerates
byte for byte.

Before it starts it prints the runs and how long it expects them to take,
and on what that rests: each experiment's last run on this machine
(DIR/timing.json), scaled to the runs planned, or for an experiment never
run here a timed run of the default scenario. At the end it prints how
long it took and records it in DIR/timing.json.

DIR/MANIFEST.json records, per experiment, the mode (quick or full), the
scenarios (SHA-256 of their canonical TOML) and seeds it ran, and the
SHA-256 and size of every file it wrote; running one experiment updates
its entry and keeps the others. 'sbmpsim experiment manifest --check'
compares the manifest with the files. A full run then runs the quick
version as well (a few per cent more time) and records only the hashes
of what it wrote: CI reruns the quick version and compares, so a model
change that would alter a committed full run fails CI until it is rerun.`,
		Example: `  sbmpsim experiment run all               # the committed notebooks: full runs
  sbmpsim experiment run all --quick       # the small versions CI checks
  sbmpsim experiment run all --estimate    # what it would run, and how long; runs nothing
  sbmpsim experiment run oom-probability --workers 2 --out /tmp/nb`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeExperiment,
		RunE: func(cmd *cobra.Command, args []string) error {
			var list []canon.Experiment
			if args[0] == "all" {
				list = catalog.All()
			} else {
				e, ok := catalog.Lookup(args[0])
				if !ok {
					return usageError{fmt.Errorf("no experiment %q (known: all, %s)", args[0], strings.Join(catalog.Names(), ", "))}
				}
				list = []canon.Experiment{e}
			}
			if f.workers < 1 {
				return usageError{fmt.Errorf("--workers must be at least 1, got %d", f.workers)}
			}
			return runExperiments(cmd, args[0], list, reportSections(), f)
		},
	}
	fl := run.Flags()
	fl.BoolVar(&f.quick, "quick", false, "the small versions (fewer seeds, shorter runs), which CI checks byte for byte")
	fl.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "simulations run at once")
	fl.StringVar(&f.out, "out", defaultNotebooks, "output directory")
	fl.BoolVar(&f.estimate, "estimate", false, "print the runs and the time estimate, and run nothing")
	return run
}

// runExperiments runs list as 'experiment run NAME' does: the estimate,
// then each experiment with its outputs, manifest entry and timing, then
// the report of sections.
func runExperiments(cmd *cobra.Command, name string, list, sections []canon.Experiment, f experimentFlags) error {
	if _, err := canon.ReadManifest(f.out); err != nil && !errors.Is(err, os.ErrNotExist) {
		return usageError{fmt.Errorf("%w (fix or remove it: 'sbmpsim experiment manifest' rebuilds it from the files)", err)}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	plans := map[string][]canon.Input{}
	for _, x := range list {
		p, err := x.Plan(canon.NewEnv(ctx, f.quick, f.workers))
		if err != nil {
			return fmt.Errorf("experiment %s: %w", x.Name, err)
		}
		plans[x.Name] = p
	}
	timing := readTiming(f.out, stderr)
	est, err := estimateRun(list, plans, timing, f.quick, f.workers, func() (calibration, error) { return calibrate(ctx) })
	if err != nil {
		return err
	}
	what := fmt.Sprintf("sbmpsim experiment run %s (%s)", name, canon.Mode(f.quick))
	est.print(stderr, what)
	if f.estimate {
		return nil
	}
	start := time.Now()
	env := canon.NewEnv(ctx, f.quick, f.workers)
	// A full run also runs the quick version, in its own environment, to
	// record its hashes (canon.ExperimentEntry.Quick).
	var quickEnv *canon.Env
	if !f.quick {
		quickEnv = canon.NewEnv(ctx, true, f.workers)
	}
	seen := map[string]bool{}
	var strays []string
	for _, x := range list {
		t0 := time.Now()
		diff, w, err := runOne(env, quickEnv, x, plans[x.Name], f, seen)
		if err != nil {
			return fmt.Errorf("experiment %s: %w", x.Name, err)
		}
		wall := time.Since(t0)
		timing.record(x.Name, f.quick, wall, f.workers, w, time.Now())
		if err := timing.write(f.out); err != nil {
			return err
		}
		if diff != "" {
			strays = append(strays, fmt.Sprintf("experiment %s did not run what its Plan lists (the manifest records what it ran):\n%s", x.Name, diff))
		}
		fmt.Fprintf(stdout, "%s: wrote %s/%s/\n", x.Name, f.out, x.Name)
		fmt.Fprintf(stderr, "%s: %s\n", x.Name, roughDuration(wall))
	}
	missing, err := canon.Report(f.out, sections)
	if err != nil {
		return err
	}
	if err := canon.UpdateManifest(f.out, func(*canon.Manifest) error { return nil }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s/index.html", f.out)
	if len(missing) > 0 {
		fmt.Fprintf(stdout, " (not yet run: %s)", strings.Join(missing, ", "))
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stderr, "%s: took %s (estimated %s); wall times in %s\n", what, roughDuration(time.Since(start)), roughDuration(est.total), filepath.Join(f.out, canon.TimingName))
	if len(strays) > 0 {
		return errors.New(strings.Join(strays, "\n"))
	}
	return nil
}

// runOne runs x, writes its files and its manifest entry, and returns
// how its runs differ from its plan ("" when they agree) and the work it
// simulated. For a full run (quickEnv not nil) it then runs the quick
// version too, writing nothing but its hashes into the entry.
func runOne(env, quickEnv *canon.Env, x canon.Experiment, planned []canon.Input, f experimentFlags, seen map[string]bool) (string, work, error) {
	o, err := canon.RunExperiment(env, x)
	if err != nil {
		return "", work{}, err
	}
	entry, err := canon.NewExperimentEntry(o, f.quick)
	if err != nil {
		return "", work{}, err
	}
	if quickEnv != nil {
		q, err := canon.RunExperiment(quickEnv, x)
		if err != nil {
			return "", work{}, fmt.Errorf("its quick version, for the manifest: %w", err)
		}
		entry.Quick = canon.NewQuickEntry(q)
	}
	if err := o.Write(f.out); err != nil {
		return "", work{}, err
	}
	err = canon.UpdateManifest(f.out, func(m *canon.Manifest) error {
		m.Experiments[x.Name] = entry
		return nil
	})
	if err != nil {
		return "", work{}, err
	}
	diff, err := canon.InputsDiff(planned, o.Inputs())
	if err != nil {
		return "", work{}, err
	}
	w, err := workOf(o.Inputs(), seen)
	return diff, w, err
}

func newExperimentManifestCmd() *cobra.Command {
	var out string
	var check bool
	cmd := &cobra.Command{
		Use:   "manifest [--out DIR] [--check]",
		Short: "Rebuild DIR/MANIFEST.json from the files on disk, or --check that it matches them",
		Long: `Without --check, rebuild DIR/MANIFEST.json from what is on disk, running
nothing: each experiment directory with its files' hashes, the mode its
README's "Regenerate" command names and the inputs the experiment's plan
lists for that mode; the validation directory with the command its README
names; index.html. A full run's quick hashes (recorded by the run, see
'experiment run --help') are kept from the old manifest if its entry
lists the same files; otherwise they are lost and --check says so. Then
check it as --check does.

With --check, compare DIR/MANIFEST.json with the files under DIR: every
file must be listed with its SHA-256 and size, every listed file must be
there (timing.json, the wall times of the last runs, is not checked), and
every full run must carry its quick version's hashes.
It prints each difference and exits 1 if there is one.`,
		Example: `  sbmpsim experiment manifest --check
  sbmpsim experiment manifest --out /tmp/nb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if st, err := os.Stat(out); err != nil || !st.IsDir() {
				return usageError{fmt.Errorf("--out %s: not a directory of notebooks", out)}
			}
			if !check {
				if err := rebuildManifest(out, catalog.All()); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(out, canon.ManifestName))
			}
			problems, err := canon.CheckManifest(out)
			if errors.Is(err, os.ErrNotExist) {
				return usageError{fmt.Errorf("%s: no manifest; 'sbmpsim experiment manifest --out %s' builds one from the files", filepath.Join(out, canon.ManifestName), out)}
			}
			if err != nil {
				return err
			}
			for _, p := range problems {
				fmt.Fprintln(cmd.OutOrStdout(), p)
			}
			if len(problems) > 0 {
				return fmt.Errorf("%s does not match the files under %s: %d difference(s)", filepath.Join(out, canon.ManifestName), out, len(problems))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s matches the files under %s\n", filepath.Join(out, canon.ManifestName), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", defaultNotebooks, "the notebooks directory")
	cmd.Flags().BoolVar(&check, "check", false, "only compare the manifest with the files; write nothing")
	return cmd
}

// rebuildManifest writes dir/MANIFEST.json anew from the directories on
// disk of the experiments in list (see experiment manifest --help).
func rebuildManifest(dir string, list []canon.Experiment) error {
	// The quick hashes of a full run cannot be rebuilt without running;
	// they are kept from the old manifest where its entry records the
	// same full run (the same files).
	old, err := canon.ReadManifest(dir)
	if err != nil {
		old = &canon.Manifest{}
	}
	m := &canon.Manifest{Experiments: map[string]*canon.ExperimentEntry{}}
	for _, x := range list {
		if _, err := os.Stat(filepath.Join(dir, x.Name)); errors.Is(err, os.ErrNotExist) {
			continue
		}
		e, err := canon.ExperimentEntryFromDisk(dir, x)
		if err != nil {
			return err
		}
		if was := old.Experiments[x.Name]; was != nil && e.Mode == canon.ModeFull && was.Mode == canon.ModeFull && maps.Equal(was.Files, e.Files) {
			e.Quick = was.Quick
		}
		m.Experiments[x.Name] = e
	}
	if _, err := os.Stat(filepath.Join(dir, canon.ValidationSection().Name)); err == nil {
		v, err := canon.ValidationEntryFromDisk(dir)
		if err != nil {
			return err
		}
		m.Validation = v
	}
	return canon.WriteManifest(dir, m)
}

func newReportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report [--out DIR]",
		Short: "Assemble DIR/index.html from the experiments' outputs (no rerun), and record it in DIR/MANIFEST.json",
		Example: `  sbmpsim report
  sbmpsim report --out /tmp/nb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			missing, err := canon.Report(out, reportSections())
			if err != nil {
				return err
			}
			if err := canon.UpdateManifest(out, func(*canon.Manifest) error { return nil }); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s/index.html", out)
			if len(missing) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), " (not yet run: %s)", strings.Join(missing, ", "))
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", defaultNotebooks, "directory holding the experiments' outputs")
	return cmd
}
