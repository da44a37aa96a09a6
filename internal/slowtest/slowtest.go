// Package slowtest names the switch that turns on the slow checks:
// regenerating every committed notebook, running the validation suite
// on this host's kernel, driving the tui in tmux, a sweep as a Slurm job
// array, every scenario's metrics through promtool and the dashboards'
// queries through a Prometheus server, and comparing the outputs of
// sbmpsim built for arm64 (under qemu-user) with amd64's. Each takes half
// a minute or more, so `go test ./...` (the README's command, kept under
// three minutes) skips them and .ci/run sets the switch, one step each
// (see .ci/run for the list):
//
//	SBMPSIM_SLOW=1 go test -timeout 25m -run 'TestQuickOutputsRegenerate|TestSuiteOnThisHost|TestTUIInTmux|TestSameBytesOnArm64' ./...
package slowtest

import (
	"os"
	"os/exec"
	"testing"
)

// Env is the environment variable that turns the slow checks on.
const Env = "SBMPSIM_SLOW"

// Require skips t unless the slow checks are on; why says what the test
// does, for the skip message.
func Require(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(Env) != "1" {
		t.Skipf("slow check (%s): runs with %s=1, as .ci/run sets it", why, Env)
	}
}

// Tool returns the path of the program name for a test that needs it
// (promtool, prometheus). When it is not installed the test is skipped
// with a message saying which Debian package brings it, unless the slow
// checks are on: CI installs it, so there its absence fails the test.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	switch {
	case err == nil:
		return path
	case os.Getenv(Env) == "1":
		t.Fatalf("%s is not installed (apt-get install %s); %s=1 requires it", name, pkg, Env)
	default:
		t.Skipf("%s is not installed (apt-get install %s): skipped; with %s=1 this fails", name, pkg, Env)
	}
	return ""
}
