package kernel

import (
	"math"
	"testing"
)

const kb = 1024

// liveTotalPages is MemTotal 24,684,084 kB of the REFERENCE.md host, no swap.
const liveTotalPages = 24684084 / 4

// TestOOMBadnessLiveHost pins oom_badness and proc_oom_score to the
// values a live Linux 6.18 host showed (REFERENCE.md).
func TestOOMBadnessLiveHost(t *testing.T) {
	big := Task{PID: 100, RSSAnonPages: 935292 / 4, PgtablesBytes: 1880 * kb, OOMScoreAdj: 300}
	if got, ok := OOMBadness(&big, liveTotalPages); !ok || got != 2085593 {
		t.Errorf("badness = %d, %v; want 2085593", got, ok)
	}
	if got := ProcOOMScore(&big, liveTotalPages); got != 891 {
		t.Errorf("oom_score = %d, want 891", got)
	}
	small := Task{PID: 101, RSSAnonPages: 300, PgtablesBytes: 12 * kb}
	if got := ProcOOMScore(&small, liveTotalPages); got != 666 {
		t.Errorf("small task oom_score = %d, want 666", got)
	}
}

func TestProcOOMScore(t *testing.T) {
	const total = liveTotalPages
	cases := []struct {
		name string
		task Task
		want int64
		ok   bool
	}{
		{"adj -1000 is never chosen", Task{RSSAnonPages: 1 << 20, OOMScoreAdj: -1000}, 0, false},
		{"kernel thread", Task{Unkillable: true, RSSAnonPages: 5}, 0, false},
		{"zombie without mm", Task{NoMM: true}, 0, false},
		{"vfork child", Task{InVfork: true, RSSAnonPages: 5}, 0, false},
		{"already reaped", Task{OOMSkip: true, RSSAnonPages: 5}, 0, false},
		{"adj 1000, empty", Task{OOMScoreAdj: 1000}, 1332, true},
		// -3084500 * 1000 / total = -499.8: C truncates to -499 (floor
		// would give -500 and 333).
		{"negative badness truncates toward zero", Task{RSSAnonPages: 1000, OOMScoreAdj: -500}, 334, true},
		{"whole memory", Task{RSSAnonPages: total}, 1333, true},
		{"swap and shmem count", Task{RSSShmemPages: total / 4, SwapEntries: total / 4}, 999, true},
	}
	for _, c := range cases {
		_, ok := OOMBadness(&c.task, total)
		if got := ProcOOMScore(&c.task, total); got != c.want || ok != c.ok {
			t.Errorf("%s: oom_score %d ok %v, want %d %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func oomTasks() []Task {
	return []Task{
		{PID: 1, Comm: "init", Unkillable: true, RSSAnonPages: 1 << 30, Cgroup: "/"},
		{PID: 2, Comm: "kthreadd", Unkillable: true, Cgroup: "/"},
		{PID: 10, Comm: "db", RSSAnonPages: 5000, Cgroup: "/db"},
		{PID: 11, Comm: "web", RSSAnonPages: 3000, Cgroup: "/work"},
		{PID: 12, Comm: "batch", RSSAnonPages: 2000, Cgroup: "/work/batch"},
		{PID: 13, Comm: "sshd", RSSAnonPages: 9000, OOMScoreAdj: -1000, Cgroup: "/system"},
		{PID: 14, Comm: "worker", RSSAnonPages: 1000, Cgroup: "/workers"},
	}
}

func TestSelectVictim(t *testing.T) {
	global := OOMControl{TotalPages: 1 << 20, Allocating: 6}
	cases := []struct {
		name   string
		tasks  func([]Task)
		c      OOMControl
		action OOMAction
		pid    int64
		reason string
	}{
		{"largest badness", nil, global, OOMKill, 10, "Out of memory"},
		{"tie: later task wins", func(ts []Task) { ts[3].RSSAnonPages = 5000 }, global, OOMKill, 11, "Out of memory"},
		{"adj raises a small task", func(ts []Task) { ts[4].OOMScoreAdj = 100 }, global, OOMKill, 12, "Out of memory"},
		{"exiting victim: wait", func(ts []Task) { ts[3].OOMVictim = true }, global, OOMWait, 0, "Out of memory"},
		{"reaped victim is skipped", func(ts []Task) { ts[2].OOMVictim, ts[2].OOMSkip = true, true }, global, OOMKill, 11, "Out of memory"},
		{"oom origin first", func(ts []Task) { ts[6].OOMOrigin = true }, global, OOMKill, 14, "Out of memory"},
		{"allocating task exiting", func(ts []Task) { ts[6].Exiting = true }, global, OOMKill, 14, "exiting"},
		{"oom_kill_allocating_task=1", nil, OOMControl{TotalPages: 1 << 20, Allocating: 6, KillAllocatingTask: true},
			OOMKill, 14, "Out of memory (oom_kill_allocating_task)"},
		{"oom_kill_allocating_task=1, allocator adj -1000", func(ts []Task) { ts[6].OOMScoreAdj = -1000 },
			OOMControl{TotalPages: 1 << 20, Allocating: 6, KillAllocatingTask: true}, OOMKill, 10, "Out of memory"},
		{"oom_kill_allocating_task=1 ignored for memcg", nil,
			OOMControl{Scope: OOMMemcg, Memcg: "/work", TotalPages: 8192, Allocating: 4, KillAllocatingTask: true},
			OOMKill, 11, "Memory cgroup out of memory"},
		{"memcg scope includes descendants", func(ts []Task) { ts[4].RSSAnonPages = 4000 },
			OOMControl{Scope: OOMMemcg, Memcg: "/work", TotalPages: 8192, Allocating: -1}, OOMKill, 12, "Memory cgroup out of memory"},
		{"memcg with nothing killable", nil,
			OOMControl{Scope: OOMMemcg, Memcg: "/system", TotalPages: 8192, Allocating: -1}, OOMNoVictim, 0, "Memory cgroup out of memory"},
		{"memcg: victim outside is not scanned", func(ts []Task) { ts[3].OOMVictim = true },
			OOMControl{Scope: OOMMemcg, Memcg: "/workers", TotalPages: 8192, Allocating: -1}, OOMKill, 14, "Memory cgroup out of memory"},
	}
	for _, c := range cases {
		ts := oomTasks()
		if c.tasks != nil {
			c.tasks(ts)
		}
		d := SelectVictim(ts, c.c)
		if d.Action != c.action || d.Reason != c.reason || (d.Action == OOMKill && ts[d.Victim].PID != c.pid) {
			t.Errorf("%s: got %+v, want action %d pid %d reason %q", c.name, d, c.action, c.pid, c.reason)
		}
	}
}

// TestSelectVictimMemcgTotalPages: within a memcg the adj is scaled by the
// limit, not the machine: adj 500 in a 8192-page group is worth 4096
// pages, enough to beat a task 3000 pages larger.
func TestSelectVictimMemcgTotalPages(t *testing.T) {
	ts := []Task{
		{PID: 1, RSSAnonPages: 1000, OOMScoreAdj: 500, Cgroup: "/g"},
		{PID: 2, RSSAnonPages: 4000, Cgroup: "/g"},
	}
	total := MemcgTotalPages(8192, math.MaxInt64, 0, 60)
	d := SelectVictim(ts, OOMControl{Scope: OOMMemcg, Memcg: "/g", TotalPages: total, Allocating: -1})
	if d.Action != OOMKill || ts[d.Victim].PID != 1 || d.Points != 1000+500*8 {
		t.Fatalf("got %+v, want pid 1 with %d points", d, 1000+500*8)
	}
	if got := MemcgTotalPages(8192, 1000, 4000, 60); got != 9192 {
		t.Errorf("with swap: %d, want 9192", got)
	}
	if got := MemcgTotalPages(8192, 1000, 4000, 0); got != 8192 {
		t.Errorf("swappiness 0: %d, want 8192", got)
	}
	if got := MemcgTotalPages(0, 0, 0, 0); got != 1 {
		t.Errorf("zero limit: %d, want 1", got)
	}
}

func TestInCgroup(t *testing.T) {
	cases := []struct {
		p, memcg string
		want     bool
	}{
		{"/a/b", "/a", true}, {"/a", "/a", true}, {"/ab", "/a", false}, {"/x", "/", true}, {"/a", "/a/b", false}, {"/a/b", "/a/", true},
	}
	for _, c := range cases {
		if got := InCgroup(c.p, c.memcg); got != c.want {
			t.Errorf("InCgroup(%q, %q) = %v", c.p, c.memcg, got)
		}
	}
}
