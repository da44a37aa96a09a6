package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunBarOnlyOnATerminal: a buffer or a file gets no bar (CI logs and
// scripts see only the final line), and a nil bar takes every call.
func TestRunBarOnlyOnATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, w := range map[string]io.Writer{"buffer": &bytes.Buffer{}, "file": f} {
		bar := newRunBar(w, "x")
		if bar != nil {
			t.Errorf("%s: a bar, want none", name)
		}
		bar.update(1, 2)
		bar.finish()
		if p := newCheckProgress(bar, 2); p != nil {
			t.Errorf("%s: check progress without a bar", name)
		}
	}
}

// TestRunBarDraws: on a terminal (here a buffer standing in for one),
// the bar counts runs; check's bar shows how much of the seeds'
// simulated time is checked, ignores a seed going back, and ends at
// 100%.
func TestRunBarDraws(t *testing.T) {
	var term bytes.Buffer
	bar := &runBar{w: &term, desc: "run steady", its: "runs"}
	for done := 1; done <= 4; done++ {
		bar.update(done, 4)
	}
	bar.finish()
	if out := term.String(); !strings.Contains(out, "run steady") || !strings.Contains(out, "4/4") || !strings.Contains(out, "100%") {
		t.Errorf("run bar drew %q", out)
	}

	term.Reset()
	p := newCheckProgress(&runBar{w: &term, desc: "check anon-fill", its: "runs"}, 2)
	p.seed(0, 500, 1000)
	p.seed(1, 250, 1000)
	p.seed(0, 100, 1000) // earlier than already seen: ignored
	if p.sum != 750 {
		t.Fatalf("progress %d of %d, want 750", p.sum, 2*checkUnits)
	}
	p.seed(0, 1000, 1000)
	p.seed(1, 2000, 1000) // past the end counts as the end
	p.bar.finish()
	out := term.String()
	if p.sum != 2*checkUnits || !strings.Contains(out, "check anon-fill") || !strings.Contains(out, "100%") {
		t.Errorf("check bar at %d, drew %q", p.sum, out)
	}
	if strings.Contains(out, "runs") || strings.Contains(out, "/2000") {
		t.Errorf("check bar shows a count of its thousandths: %q", out)
	}
}
