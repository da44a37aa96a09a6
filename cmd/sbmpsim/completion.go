package main

// Shell completion (`sbmpsim completion SHELL`, which runs the hidden
// `__complete` command): the names commands take as arguments, and the
// keys and named values of --set.

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/canon/catalog"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/input/sweeps"
	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
	"github.com/sbmpsim/sbmpsim/model/numa"
	"github.com/sbmpsim/sbmpsim/policies"
)

// defaultScenarioKey is the annotation that names the scenario a command
// runs when none is given, when it is not scenarios.Default; completion
// of --set offers that scenario's keys.
const defaultScenarioKey = "sbmpsim/default-scenario"

// completeScenario completes a command's SCENARIO argument (its first):
// the embedded scenarios, with their descriptions, and the *.toml files
// and the directories under what is typed.
func completeScenario(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return completeInput(scenarios.Format(), toComplete)
}

// completeSweep completes sweep's SWEEP argument: the embedded sweeps and
// *.toml files.
func completeSweep(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return completeInput(sweeps.Format(), toComplete)
}

// completeExperiment completes experiment run's NAME: all, and every
// canonical experiment with its title.
func completeExperiment(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out := []cobra.Completion{}
	if strings.HasPrefix("all", toComplete) {
		out = append(out, cobra.CompletionWithDesc("all", "every canonical experiment"))
	}
	for _, e := range catalog.All() {
		if strings.HasPrefix(e.Name, toComplete) {
			out = append(out, cobra.CompletionWithDesc(e.Name, e.Title))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeInput offers the embedded files of f whose names start with
// prefix, then the *.toml files and directories whose paths do.
func completeInput(f tomlfile.Format, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	out := []cobra.Completion{}
	for _, n := range f.Names() {
		if strings.HasPrefix(n, prefix) {
			out = append(out, cobra.CompletionWithDesc(n, f.Description(n)))
		}
	}
	directive := cobra.ShellCompDirectiveNoFileComp
	matches, _ := filepath.Glob(globEscape(prefix) + "*")
	for _, m := range matches {
		st, err := os.Stat(m)
		switch {
		case err != nil:
		case st.IsDir():
			out = append(out, m+string(filepath.Separator))
			directive |= cobra.ShellCompDirectiveNoSpace // to go on into it
		case strings.HasSuffix(m, ".toml"):
			out = append(out, m)
		}
	}
	return out, directive
}

// globEscape quotes the metacharacters of filepath.Match in s.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// completeSet completes a --set value (and ab's --a and --b): before the
// "=", every key of the scenario the command line names (its workloads
// and other tables by index), followed by "="; after it, the values of a
// key whose values are names: policies, machine presets, workload kinds.
func completeSet(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	// ab's --a and --b take comma-separated lists: complete the last.
	done, last := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 && cmd.Name() == "ab" {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	out := []cobra.Completion{}
	if key, _, ok := strings.Cut(last, "="); ok {
		for _, v := range keyValues(key) {
			if c := done + key + "=" + v; strings.HasPrefix(c, toComplete) {
				out = append(out, c)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	for _, k := range completionScenario(cmd, args).Keys() {
		if strings.HasPrefix(k, last) {
			out = append(out, done+k+"=")
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// keyValues returns the values key takes when they are names, or nil.
func keyValues(key string) []string {
	path := strings.Split(key, ".")
	last := path[len(path)-1]
	for _, k := range policies.Kinds() {
		// [policy] and a policy-swap [[fault]] name policies alike.
		if last == string(k) && (path[0] == "policy" || path[0] == "fault") {
			return policies.Names(k)
		}
	}
	switch {
	case key == "machine.preset":
		return numa.PresetNames()
	case path[0] == "workload" && last == "kind":
		return scenario.WorkloadKinds()
	}
	return nil
}

// completionScenario is the scenario whose keys --set completion offers:
// the one the command line names (a sweep's base scenario for sweep),
// else the command's default; the bare defaults when it does not load.
func completionScenario(cmd *cobra.Command, args []string) *scenario.Scenario {
	name := scenarios.Default
	if d, ok := cmd.Annotations[defaultScenarioKey]; ok {
		name = d
	}
	switch {
	case cmd.Name() == "sweep" && len(args) > 0:
		if f, err := sweep.Load(args[0]); err == nil {
			name = f.Scenario
		}
	case len(args) > 0:
		name = args[0]
	}
	if sc, err := scenario.Load(name); err == nil {
		return sc
	}
	d := scenario.Default()
	return &d
}

// setFlag defines --set on cmd, with completion of its keys.
func setFlag(cmd *cobra.Command, p *[]string, usage string) {
	cmd.Flags().StringArrayVar(p, "set", nil, usage)
	mustComplete(cmd, "set", completeSet)
}

// mustComplete registers a flag's completion; it fails only for a flag
// that does not exist or already has one, a mistake in this file.
func mustComplete(cmd *cobra.Command, flag string, f cobra.CompletionFunc) {
	if err := cmd.RegisterFlagCompletionFunc(flag, f); err != nil {
		panic(err)
	}
}

// addBuiltinExamples adds cobra's own commands (help, completion and its
// shells) now rather than when the command line runs, and gives them
// examples like every other command.
func addBuiltinExamples(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = "  sbmpsim help run\n  sbmpsim help scenarios show"
		case "completion":
			c.Example = "  source <(sbmpsim completion bash)\n  sbmpsim completion zsh > \"${fpath[1]}/_sbmpsim\""
			load := map[string]string{
				"bash":       "source <(sbmpsim completion bash)",
				"zsh":        "sbmpsim completion zsh > \"${fpath[1]}/_sbmpsim\"",
				"fish":       "sbmpsim completion fish > ~/.config/fish/completions/sbmpsim.fish",
				"powershell": "sbmpsim completion powershell | Out-String | Invoke-Expression",
			}
			for _, sh := range c.Commands() {
				sh.Example = "  " + load[sh.Name()]
			}
		}
	}
}
