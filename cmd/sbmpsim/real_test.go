package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealRefusesWithExit2 checks the refusals that need no privileges:
// they come before anything starts, name the file, line and key, and
// exit 2.
func TestRealRefusesWithExit2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loose.toml")
	if err := os.WriteFile(path, []byte("[[workload]]\nkind = \"task\"\n\n[[workload]]\nkind = \"kmalloc-leak\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"real", path}, []string{path + ":1:1: workload.0.cgroup: a real run confines", path + ":5:1: workload.1.kind: a kmalloc-leak"}},
		{[]string{"real", "oom-crisis"}, []string{"workload.0.process: runs in the implicit process \"sbmp-app\" in \"/\"; declare a [[process]]"}},
		{[]string{"real", "real-two-tasks", "--set", "kernel.cgroup.0.high_mb=64"}, []string{"--set: kernel.cgroup.0.high_mb"}},
		{[]string{"real", "real-two-tasks", "--set", "kernel.nope=1"}, []string{"kernel.nope"}},
		{[]string{"real", filepath.Join(t.TempDir(), "missing.toml")}, []string{"missing.toml"}},
		{[]string{"real", "a", "b"}, []string{"name one scenario"}},
		{[]string{"real", "--set", "workload.0.kind=go-runtime"}, []string{"--set: workload.0.kind: a go-runtime"}},
	}
	for _, tt := range tests {
		code, _, stderr := sbmpsim(t, tt.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr %q", tt.args, code, stderr)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q does not contain %q", tt.args, stderr, w)
			}
		}
	}
}
