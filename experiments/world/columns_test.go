package world

import (
	"slices"
	"testing"
)

func TestColumnMatch(t *testing.T) {
	col := func(pattern string) Column {
		i := slices.IndexFunc(TimeseriesColumns(), func(c Column) bool { return c.Pattern == pattern })
		if i < 0 {
			t.Fatalf("no column %q", pattern)
		}
		return TimeseriesColumns()[i]
	}
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"time_ns", "time_ns", true},
		{"time_ns", "time_ns2", false},
		{"cpu{N}_tier0_free", "cpu0_tier0_free", true},
		{"cpu{N}_tier0_free", "cpu17_tier0_free", true},
		{"cpu{N}_tier0_free", "cpu_tier0_free", false},
		{"cpu{N}_tier0_free", "cpu01_tier0_free", false},
		{"cpu{N}_tier0_free", "cpux_tier0_free", false},
		{"{workload}.heap_alloc", "api.heap_alloc", true},
		{"{workload}.heap_alloc", ".heap_alloc", false},
		{"{workload}.heap_alloc", "api.heap_allocs", false},
		{"{vmstat}", "pgfault", true},
		{"{vmstat}", "oom_kill", true},
		{"{vmstat}", "pgfaults", false},
	} {
		if got := col(c.pattern).Match(c.name); got != c.want {
			t.Errorf("%s.Match(%q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

// TestColumnsDocumented: every column of a run with SBMP, per-CPU
// columns and a Go program is documented once, in the row's order (one
// memory node: with more, the node group repeats per node), and
// every column has a unit and a description.
func TestColumnsDocumented(t *testing.T) {
	names := slices.Concat(timeseriesColumns, kernelColumns, columnNames(nodeColumnDocs, "0"), psiColumns, vmstatColumns(), sbmpColumns, []string{"cpu1_tier0_free"}, goColumns("api"))
	docs := TimeseriesColumns()
	at := 0
	for _, name := range names {
		var matches []int
		for i, c := range docs {
			if c.Match(name) {
				matches = append(matches, i)
			}
		}
		if len(matches) != 1 {
			t.Errorf("column %q matches %d documented patterns, want 1", name, len(matches))
			continue
		}
		if matches[0] < at {
			t.Errorf("column %q comes after pattern %q", name, docs[at].Pattern)
		}
		at = matches[0]
	}
	for _, c := range docs {
		if c.Unit == "" || c.When == "" || c.Doc == "" {
			t.Errorf("column %q lacks a unit, a when or a description", c.Pattern)
		}
	}
}

// TestNodeMemoryColumns: the per-node columns the metrics and the figure
// read by kind are the documented ones, in order.
func TestNodeMemoryColumns(t *testing.T) {
	got := columnNames(nodeColumnDocs, "3")
	for i, k := range NodeMemoryKinds() {
		if i >= len(got) || got[i] != NodeMemoryColumn(3, k) {
			t.Fatalf("columns %v, kinds %v", got, NodeMemoryKinds())
		}
	}
}
