package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCheckCommand: two cheap seeds pass, with the summary line, and the
// output is the same for one worker and two (but for the wall time).
func TestCheckCommand(t *testing.T) {
	var lines []string
	for _, workers := range []string{"1", "2"} {
		var out, errb bytes.Buffer
		code := execute([]string{"check", "--seed", "5", "--seeds", "2", "--every", "2", "--workers", workers, "--out", t.TempDir()}, &out, &errb)
		if code != 0 {
			t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
		}
		line, _, _ := strings.Cut(out.String(), ", wall")
		if !strings.HasPrefix(line, "checked 2 seeds, 0 failed: ") {
			t.Fatalf("output %q", out.String())
		}
		lines = append(lines, line)
	}
	if lines[0] != lines[1] {
		t.Fatalf("workers change the result: %q vs %q", lines[0], lines[1])
	}
	var out, errb bytes.Buffer
	if code := execute([]string{"check", "--seeds", "0"}, &out, &errb); code != 2 {
		t.Fatalf("--seeds 0: exit %d, want 2 (usage)", code)
	}
}

func TestCheckMetamorphic(t *testing.T) {
	code, out, stderr := sbmpsim(t, "check", "--metamorphic", "--seeds", "2", "--seed", "11", "--ops", "800", "--workers", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	for _, want := range []string{"seed 11:", "seed 12:", "merge: 4 policies", "refill: 6 policies", "degrade: 5 policies", "metamorphic: 2 seeds of 800 operations, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	one := func(workers string) string {
		_, out, _ := sbmpsim(t, "check", "--metamorphic", "--seeds", "2", "--seed", "11", "--ops", "300", "--workers", workers)
		return out[:strings.LastIndex(out, "(wall")]
	}
	if one("1") != one("2") {
		t.Error("the metamorphic report depends on --workers")
	}
	if code, _, stderr := sbmpsim(t, "check", "--metamorphic", "steady"); code != 2 || !strings.Contains(stderr, "takes no SCENARIO") {
		t.Errorf("--metamorphic SCENARIO: exit %d, %s", code, stderr)
	}
}
