package validate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/real"
	"github.com/sbmpsim/sbmpsim/internal/syncbuf"
)

// TestInterruptStopsTheSuite builds sbmpsim, starts `sbmpsim validate
// real` on a case with a swap file, interrupts it twice while its first
// real run runs, and checks that it exits 1 saying so, wrote nothing, and
// left no cgroup, file or swap behind.
func TestInterruptStopsTheSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: it builds sbmpsim and starts a real run")
	}
	h, err := ReadHost(real.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h.NotRunnable != "" {
		t.Skipf("skipped: this host cannot run real runs: %s", h.NotRunnable)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "sbmpsim")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/sbmpsim/sbmpsim/cmd/sbmpsim").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tmp, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	cmd := exec.CommandContext(ctx, bin, "validate", "real", "--case", "cache-anon-swappiness60", "--runs", "1", "--out", out)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitForProcs(t, h, cmd.Process.Pid, &stderr)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	_ = cmd.Process.Signal(os.Interrupt) // a second Ctrl-C must not cut the clean-up short
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %v, want 1 and a word that it was interrupted; stderr:\n%s", err, stderr.String())
	}
	if left, _ := filepath.Glob(filepath.Join(h.Cgroup.Mount, fmt.Sprintf("sbmpsim-%d-*", cmd.Process.Pid))); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
		t.Errorf("files left in the temporary directory: %v", ents)
	}
	if swaps, _ := os.ReadFile("/proc/swaps"); strings.Contains(string(swaps), tmp) {
		t.Errorf("swap left on:\n%s", swaps)
	}
	if _, err := os.Stat(filepath.Join(out, "validation", "validation.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an interrupted suite wrote validation.json (%v)", err)
	}
}

// waitForProcs waits until the suite's first real run (whose cgroups
// are named after the suite's pid) has its workers running.
func waitForProcs(t *testing.T, h *Host, pid int, stderr *syncbuf.Buffer) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		procs, _ := filepath.Glob(filepath.Join(h.Cgroup.Mount, fmt.Sprintf("sbmpsim-%d-*", pid), "box", "cgroup.procs"))
		if len(procs) == 1 {
			if b, _ := os.ReadFile(procs[0]); len(strings.Fields(string(b))) == 2 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the suite's first run did not start; stderr:\n%s", stderr.String())
}
