package tomlfile

import (
	"strings"
	"testing"
)

func TestDescribeText(t *testing.T) {
	long := "# Steady state: one moderate workload of small short-lived objects on eight\n# CPUs of socket 0, with ordinary kernel settings (swappiness 60, 4 GiB of\n# swap). Tier-0 absorbs nearly everything.\n"
	tests := []struct{ name, text, want string }{
		{"one line", "# Anonymous memory fills a small machine.\n#\n# More.\n[run]\n", "Anonymous memory fills a small machine."},
		{"sentence over two lines", "# A real program's allocations, replayed\n# through SBMP. Then more.\n", "A real program's allocations, replayed through SBMP."},
		{"paragraph without a full stop", "# A title\n\n# Another comment.\n", "A title"},
		{"no comment", "[run]\nseed = 1\n", ""},
		{"long, cut at its colon", "# OOM crisis with SBMP as a process's allocator (placement = \"user\"): the\n# load of `oom-crisis` (the default scenario, where SBMP sits in the kernel) on\n# the same machine.\n",
			"OOM crisis with SBMP as a process's allocator (placement = \"user\")"},
		{"long, colon too early: cut at a word", long, "Steady state: one moderate workload of small short-lived objects on eight CPUs of socket 0..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeText(tt.text)
			if got != tt.want {
				t.Errorf("describeText = %q, want %q", got, tt.want)
			}
			if len([]rune(got)) > maxDescriptionRunes || strings.Contains(got, "\n") {
				t.Errorf("%q is not one line of at most %d characters", got, maxDescriptionRunes)
			}
		})
	}
}
