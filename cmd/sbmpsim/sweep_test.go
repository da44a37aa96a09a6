package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cliSweep is 2 points x 2 seeds of the steady scenario, 200 ms each.
const cliSweep = `scenario = "steady"
seeds = 2
set = ["run.duration_ms=200"]

[[axis]]
key = "kernel.swappiness"
values = [0, 60]
`

// writeSweepFile writes text as a sweep file and returns its path.
func writeSweepFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "grid.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sweepTree returns every file under dir by slash path relative to dir.
func sweepTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameSweepTree fails unless a and b hold the same files, byte for byte.
func sameSweepTree(t *testing.T, a, b string) {
	t.Helper()
	ta, tb := sweepTree(t, a), sweepTree(t, b)
	if len(ta) != len(tb) {
		t.Errorf("%s has %d files, %s has %d", a, len(ta), b, len(tb))
	}
	for name, da := range ta {
		if db, ok := tb[name]; !ok || !bytes.Equal(da, db) {
			t.Errorf("%s differs between %s and %s (present in both: %v)", name, a, b, ok)
		}
	}
}

func TestSweepUsageAndFileErrors(t *testing.T) {
	path := writeSweepFile(t, cliSweep)
	out := filepath.Join(t.TempDir(), "out")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sweep"}, 2, "one SWEEP"},
		{[]string{"sweep", path}, 2, "--out DIR is required"},
		{[]string{"sweep", path, "--out", out, "--shard", "2/2"}, 2, "--shard: shard \"2/2\": I must be 0..1"},
		{[]string{"sweep", path, "--out", out, "--shard", "1"}, 2, "want I/N"},
		{[]string{"sweep", path, "--out", out, "--workers", "0"}, 2, "--workers 0"},
		{[]string{"sweep", "no-such-sweep", "--out", out}, 2, "no such file, and no embedded sweep"},
		{[]string{"sweep", writeSweepFile(t, cliSweep+"valuse = 1\n"), "--out", out}, 2, "grid.toml:8: axis.0.valuse: unknown key"},
		{[]string{"merge", "--out", out}, 2, "merge takes the sweep directories"},
		{[]string{"merge", t.TempDir()}, 2, "--out OUT is required"},
		{[]string{"merge", t.TempDir(), "--out", out}, 1, "is not a sweep directory"},
	} {
		code, _, stderr := sbmpsim(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a failed command wrote its output directory")
	}

	code, stdout, stderr := sbmpsim(t, "sweep", path, "--dry-run", "--shard", "1/3")
	if code != 0 || !strings.Contains(stdout, "2 points x 2 seeds (1..2) = 4 runs; shard 1/3 has 1") ||
		!strings.Contains(stdout, "p001  kernel.swappiness=60") {
		t.Errorf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestSweepShardsMergeLikeOneSweep(t *testing.T) {
	path := writeSweepFile(t, cliSweep)
	base := t.TempDir()
	whole, s0, s1, merged := filepath.Join(base, "whole"), filepath.Join(base, "s0"), filepath.Join(base, "s1"), filepath.Join(base, "merged")
	for _, args := range [][]string{
		{"sweep", path, "--out", whole, "--workers", "2"},
		{"sweep", path, "--out", s0, "--shard", "0/2", "--workers", "1"},
		{"sweep", path, "--out", s1, "--shard", "1/2", "--workers", "1"},
		{"merge", s0, s1, "--out", merged},
	} {
		code, stdout, stderr := sbmpsim(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if stderr != "" || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%v: not one quiet line off a terminal:\nstdout %q\nstderr %q", args, stdout, stderr)
		}
	}
	sameSweepTree(t, whole, merged)

	// The same --out for another sweep is refused, naming both hashes.
	code, _, stderr := sbmpsim(t, "sweep", writeSweepFile(t, strings.Replace(cliSweep, "seeds = 2", "seeds = 3", 1)), "--out", whole)
	if code != 2 || !strings.Contains(stderr, "holds sweep \"grid\" with hash") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestSweepSIGINTResumes sends a real SIGINT to a built sbmpsim once its
// first run file exists, checks that it stops early with a message saying
// how to resume, and that running it again finishes with exactly the
// files of an uninterrupted sweep.
func TestSweepSIGINTResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "sbmpsim")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// 8 runs of about 0.1 s each on one worker: the signal comes long
	// before the last one.
	path := writeSweepFile(t, strings.Replace(strings.Replace(cliSweep, "seeds = 2", "seeds = 4", 1), "200", "1000", 1))
	dir := filepath.Join(tmp, "interrupted")
	cmd := exec.Command(bin, "sweep", path, "--out", dir, "--workers", "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if m, _ := filepath.Glob(filepath.Join(dir, "runs", "p*.json")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("no run file after 2 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("interrupted sweep: %v (want exit status 1)\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "sweep interrupted:") || !strings.Contains(stderr.String(), "run the same command again to resume") {
		t.Errorf("stderr does not say how to resume:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "sweep.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("an interrupted sweep wrote sweep.json")
	}
	done, _ := filepath.Glob(filepath.Join(dir, "runs", "p*.json"))
	t.Logf("%d of 8 runs were done when the interrupted sweep exited", len(done))
	if len(done) == 0 || len(done) >= 8 {
		t.Fatalf("%d of 8 run files after the interrupt", len(done))
	}

	out, err := exec.Command(bin, "sweep", path, "--out", dir, "--workers", "2").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "resumed") {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	// The reference comes from the same binary: run files record the
	// build, and a built binary carries a VCS stamp the test binary lacks.
	ref := filepath.Join(tmp, "uninterrupted")
	if out, err := exec.Command(bin, "sweep", path, "--out", ref).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted sweep: %v\n%s", err, out)
	}
	sameSweepTree(t, ref, dir)
}
