package scenario

import "testing"

func TestKeyErrorLocatesKeys(t *testing.T) {
	src := "[[kernel.cgroup]]\npath = \"/box\"\nmax_mb = 96\n\n[[workload]]\nkind = \"task\"\ncgroup = \"/box\"\n"
	s, err := Parse("x.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("workload.0.oom_score_adj=-5"); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ key, want string }{
		// A key written in the file: its own position.
		{"workload.0.cgroup", "x.toml:7:1: workload.0.cgroup: m"},
		// A key left at its default: its enclosing table.
		{"workload.0.rss_mb", "x.toml:5:1: workload.0.rss_mb: m"},
		{"kernel.cgroup.0.high_mb", "x.toml:1:1: kernel.cgroup.0.high_mb: m"},
		// A value from --set.
		{"workload.0.oom_score_adj", "--set: workload.0.oom_score_adj: m"},
		// A key of a section the file never wrote.
		{"run.duration_ms", "x.toml: run.duration_ms: m"},
	}
	for _, tt := range tests {
		if got := s.KeyError(tt.key, "m").Error(); got != tt.want {
			t.Errorf("KeyError(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}
