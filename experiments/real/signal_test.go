package real

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sbmpsim/sbmpsim/internal/syncbuf"
)

// TestInterruptLeavesNothing builds sbmpsim, starts `sbmpsim real` with
// swap, interrupts it twice mid-run, and checks that no cgroup, process,
// file or swap of its remains.
func TestInterruptLeavesNothing(t *testing.T) {
	h := needHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildSbmpsim(ctx, t)
	tmp, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	cmd := exec.CommandContext(ctx, bin, "real", "real-two-tasks", "--set", "run.duration_ms=60000", "--set", "kernel.swap_mb=16", "--out", out)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	pids := waitRunning(t, h, cmd.Process.Pid, &stderr)
	if swaps, _ := os.ReadFile("/proc/swaps"); !strings.Contains(string(swaps), tmp) {
		t.Errorf("the run's swap file is not on:\n%s", swaps)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	_ = cmd.Process.Signal(os.Interrupt) // a second Ctrl-C must not cut the clean-up short
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("exit %v, want 1; stderr:\n%s", err, stderr.String())
	}
	assertNothingLeft(t, h, tmp, cmd.Process.Pid)
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("worker %d is still there (%v)", pid, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "real.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an interrupted run wrote real.json (%v)", err)
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say it was interrupted:\n%s", stderr.String())
	}
	t.Logf("stderr:\n%s", stderr.String())
}

// TestKilledRunIsSweptNext kills `sbmpsim real` with SIGKILL, which it
// cannot handle: its workers must die with it (Pdeathsig), and the next
// run must remove the cgroups, directory and swap file it left.
func TestKilledRunIsSweptNext(t *testing.T) {
	h := needHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildSbmpsim(ctx, t)
	tmp := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, "real", "real-two-tasks", "--set", "run.duration_ms=60000", "--set", "kernel.swap_mb=16")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pids := waitRunning(t, h, cmd.Process.Pid, &stderr)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			if time.Now().After(deadline) {
				t.Fatalf("worker %d outlived its run", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	res, err := Run(ctx, load(t, "real-two-tasks", "run.duration_ms=200"), Options{TempDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Summary.StaleRemoved) != 2 {
		t.Errorf("stale_removed %v, want the killed run's cgroup and directory", res.Summary.StaleRemoved)
	}
	assertNothingLeft(t, h, tmp, cmd.Process.Pid)
	assertNothingLeft(t, h, tmp, os.Getpid())
}

// buildSbmpsim builds the command into a temporary directory.
func buildSbmpsim(ctx context.Context, t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sbmpsim")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/sbmpsim/sbmpsim/cmd/sbmpsim")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// waitRunning waits until run pid has both workers of real-two-tasks
// in its cgroup and has started the run, and returns their pids.
func waitRunning(t *testing.T, h *Host, pid int, stderr *syncbuf.Buffer) []int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		procs, _ := filepath.Glob(filepath.Join(h.Cgroup.Mount, fmt.Sprintf("sbmpsim-%d-*", pid), "box", "cgroup.procs"))
		if len(procs) == 1 && strings.Contains(stderr.String(), "real: running") {
			b, _ := os.ReadFile(procs[0])
			var pids []int
			for _, f := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(f); err == nil {
					pids = append(pids, n)
				}
			}
			if len(pids) == 2 {
				return pids
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the run did not start; stderr:\n%s", stderr.String())
	return nil
}
