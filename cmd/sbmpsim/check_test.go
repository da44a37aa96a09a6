package main

import (
	"bytes"
	"regexp"
	"strconv"
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
		line, rest, _ := strings.Cut(out.String(), ", wall")
		if !strings.HasPrefix(line, "checked 2 seeds, 0 failed: ") || !strings.Contains(rest, " µs per checked event; ") || !strings.Contains(rest, " full walks)") {
			t.Fatalf("output %q", out.String())
		}
		if errb.Len() != 0 {
			t.Errorf("stderr %q: progress must stay quiet when stderr is not a terminal", errb.String())
		}
		lines = append(lines, line)
	}
	if lines[0] != lines[1] {
		t.Fatalf("workers change the result: %q vs %q", lines[0], lines[1])
	}
	for _, bad := range [][]string{{"--seeds", "0"}, {"--full-every", "0"}, {"--every", "0"}} {
		var out, errb bytes.Buffer
		if code := execute(append([]string{"check"}, bad...), &out, &errb); code != 2 {
			t.Fatalf("%v: exit %d, want 2 (usage)", bad, code)
		}
	}
}

// TestCheckFullEvery: --full-every 1 walks everything at every check, a
// larger one at every N-th and the last; the verdict and the checks made
// are the same.
func TestCheckFullEvery(t *testing.T) {
	re := regexp.MustCompile(`: (\d+) events, (\d+) invariant checks, wall .*; (\d+) checked events, (\d+) full walks\)`)
	counts := map[string][]string{}
	for _, full := range []string{"1", "7"} {
		code, out, stderr := sbmpsim(t, "check", "--seed", "5", "--out", t.TempDir(), "--full-every", full)
		if code != 0 {
			t.Fatalf("--full-every %s: exit %d: %s%s", full, code, out, stderr)
		}
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("--full-every %s: output %q", full, out)
		}
		counts[full] = m[1:]
	}
	one, seven := counts["1"], counts["7"]
	if one[0] != seven[0] {
		t.Errorf("events differ: %v and %v", one, seven)
	}
	// The 0th, 7th, 14th... checks walk whole, and the last (one more
	// check unless the last after an event was whole already).
	passes, _ := strconv.Atoi(seven[2])
	if full := []string{strconv.Itoa((passes + 6) / 7), strconv.Itoa((passes+5)/7 + 1)}; one[3] != one[2] || seven[3] != full[0] && seven[3] != full[1] {
		t.Errorf("full walks: %s of %s checks with --full-every 1, %s of %s with 7", one[3], one[2], seven[3], seven[2])
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
