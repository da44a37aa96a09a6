package host

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInferVforkNeedsAWaitingParent: a child of a plain fork() starts with
// its parent's counters too (copy_page_range copies them), so equal
// status lines alone are not a vfork: only a parent in the killable wait
// of wait_for_vfork_done ("D") makes it one.
func TestInferVforkNeedsAWaitingParent(t *testing.T) {
	for _, tt := range []struct {
		parentState string
		want        bool
	}{{"S (sleeping)", false}, {"R (running)", false}, {"D (disk sleep)", true}} {
		root := t.TempDir()
		lines := "VmRSS:\t 2168 kB\nRssAnon:\t 400 kB\nRssFile:\t 1768 kB\nVmPTE:\t 52 kB\n"
		for pid, state := range map[string]string{"10": tt.parentState, "11": "S (sleeping)"} {
			dir := filepath.Join(root, "proc", pid)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			status := "Name:\tbash\nState:\t" + state + "\nPPid:\t1\n" + lines
			if err := os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var child Task
		if err := readStatus(filepath.Join(root, "proc", "11"), &child); err != nil {
			t.Fatal(err)
		}
		child.PID, child.PPID, child.Flags = 11, 10, pfForkNoExec
		InferVfork(root, &child)
		if child.VforkChild != tt.want {
			t.Errorf("parent %q: VforkChild = %v, want %v", tt.parentState, child.VforkChild, tt.want)
		}
	}
}
