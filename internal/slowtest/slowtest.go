// Package slowtest names the switch that turns on the slow checks:
// regenerating every committed notebook, running the validation suite
// on this host's kernel, driving the tui in tmux, and comparing the
// outputs of sbmpsim built for arm64 (under qemu-user) with amd64's. Each
// takes a minute or more, so `go test ./...` (the README's command, kept
// under three minutes) skips them and .ci/run sets the switch:
//
//	SBMPSIM_SLOW=1 go test -timeout 25m -run 'TestQuickOutputsRegenerate|TestSuiteOnThisHost|TestTUIInTmux|TestSameBytesOnArm64' ./...
package slowtest

import (
	"os"
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
