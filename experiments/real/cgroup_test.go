package real

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name -> content into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return "(absent)"
	}
	return string(b)
}

// TestConfigure checks what each controller version gets written, in a
// directory standing in for the cgroup.
func TestConfigure(t *testing.T) {
	plan := &cgroupPlan{path: "/box", maxBytes: 96 << 20, highBytes: 80 << 20, swapMaxBytes: 16 << 20}
	tests := []struct {
		name   string
		host   CgroupHost
		swapOn bool
		want   map[string]string
	}{
		{"v1 without swap: memory+swap capped at memory", CgroupHost{Version: 1, Memsw: true}, false,
			map[string]string{"memory.limit_in_bytes": "100663296", "memory.memsw.limit_in_bytes": "100663296", "memory.swappiness": "30"}},
		{"v1 with swap: memory+swap is memory plus swap_max", CgroupHost{Version: 1, Memsw: true}, true,
			map[string]string{"memory.limit_in_bytes": "100663296", "memory.memsw.limit_in_bytes": "117440512"}},
		{"v1 without swap accounting", CgroupHost{Version: 1}, true,
			map[string]string{"memory.limit_in_bytes": "100663296", "memory.memsw.limit_in_bytes": "(absent)"}},
		{"v2 without swap", CgroupHost{Version: 2}, false,
			map[string]string{"memory.max": "100663296", "memory.high": "83886080", "memory.swap.max": "0", "memory.swappiness": "(absent)"}},
		{"v2 with swap", CgroupHost{Version: 2}, true,
			map[string]string{"memory.swap.max": "16777216"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := (cgroupFS{host: tt.host}).configure(&group{path: "/box", dir: dir, plan: plan}, tt.swapOn, 30); err != nil {
				t.Fatal(err)
			}
			for f, want := range tt.want {
				if got := readFile(t, filepath.Join(dir, f)); got != want {
					t.Errorf("%s = %q, want %q", f, got, want)
				}
			}
		})
	}
}

// TestSampleFiles reads a cgroup's counters from files in the kernel's
// formats.
func TestSampleFiles(t *testing.T) {
	v1 := t.TempDir()
	writeFiles(t, v1, map[string]string{
		"memory.stat":               readTestdata(t, "v1-memory.stat"),
		"memory.usage_in_bytes":     "100659200\n",
		"memory.max_usage_in_bytes": "100663296\n",
		"memory.failcnt":            "3\n",
		"memory.memsw.failcnt":      "40\n",
		"memory.oom_control":        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
	})
	s, err := (cgroupFS{host: CgroupHost{Version: 1, Memsw: true}}).sample(v1)
	if err != nil {
		t.Fatal(err)
	}
	if s.usageBytes != 100659200 || s.maxUsageBytes != 100663296 || s.failcnt != 43 || s.oomKill != 2 || s.anonBytes != 2068480 || s.oom == nil {
		t.Errorf("v1 sample %+v", s)
	}
	v2 := t.TempDir()
	writeFiles(t, v2, map[string]string{
		"memory.stat":         readTestdata(t, "v2-memory.stat"),
		"memory.current":      "157286400\n",
		"memory.peak":         "160000000\n",
		"memory.swap.current": "4096\n",
		"memory.events":       readTestdata(t, "v2-memory.events"),
	})
	s, err = (cgroupFS{host: CgroupHost{Version: 2}}).sample(v2)
	if err != nil {
		t.Fatal(err)
	}
	if s.usageBytes != 157286400 || s.maxUsageBytes != 160000000 || s.swapBytes != 4096 || s.failcnt != 12 || s.oomKill != 2 || s.anonBytes != 52056064 || s.fileBytes != 104857600 {
		t.Errorf("v2 sample %+v", s)
	}
	sum := (&group{path: "/box", dir: v2, plan: &cgroupPlan{maxBytes: 1 << 30}}).summary(s)
	if sum.CurrentPages != 38400 || sum.EventsOOM != 2 || sum.EventsMax != 12 || sum.MaxBytes != 1<<30 {
		t.Errorf("summary %+v", sum)
	}
	writeFiles(t, v2, map[string]string{"memory.events": "max x\n"})
	if _, err := (cgroupFS{host: CgroupHost{Version: 2}}).sample(v2); err == nil || !strings.Contains(err.Error(), "memory.events") {
		t.Errorf("a bad memory.events: %v", err)
	}
}

func TestScenarioPathOfKernelMemcg(t *testing.T) {
	s := &sampler{r: &runner{parent: &group{dir: "/sys/fs/cgroup/memory/sbmpsim-1-00ff00ff"}}}
	for in, want := range map[string]string{
		"/sbmpsim-1-00ff00ff/box":    "/box",
		"/sbmpsim-1-00ff00ff/a/b":    "/a/b",
		"/sbmpsim-1-00ff00ff":        "/",
		"/sbmpsim-1-00ff00ffx/box":   "/sbmpsim-1-00ff00ffx/box",
		"/process_api/elsewhere/box": "/process_api/elsewhere/box",
	} {
		if got := s.scenarioPath(in); got != want {
			t.Errorf("scenarioPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestV2Stat: a cgroup v1 memory.stat in cgroup v2's names is its
// hierarchical lines, renamed where v2 names them otherwise.
func TestV2Stat(t *testing.T) {
	v1, err := parseMemoryStat(readTestdata(t, "v1-memory.stat"))
	if err != nil {
		t.Fatal(err)
	}
	got := v2Stat(v1)
	want := map[string]int64{
		"anon": v1["total_rss"], "file": v1["total_cache"], "file_mapped": v1["total_mapped_file"],
		"unevictable": v1["total_unevictable"], "workingset_refault_file": v1["total_workingset_refault_file"],
		"pgmajfault": v1["total_pgmajfault"], "inactive_file": v1["total_inactive_file"],
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	for _, k := range []string{"swap", "rss", "cache", "hierarchical_memory_limit", "total_rss"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s is not a cgroup v2 memory.stat line", k)
		}
	}
}
