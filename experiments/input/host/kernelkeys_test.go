package host

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestKernelKeys: the [kernel] keys come in import host's order, with
// strings quoted as TOML and swap in MiB.
func TestKernelKeys(t *testing.T) {
	r := Report{
		Settings: Settings{Swappiness: 0, MinFreeKbytes: 67584, WatermarkScaleFactor: 10, THPEnabled: "always", THPDefrag: "defer+madvise", CompactionProactiveness: 20, ExtfragThreshold: 500},
		Meminfo:  Meminfo{SwapTotalKB: 2 << 20},
	}
	var got []string
	for _, kv := range r.KernelKeys() {
		got = append(got, kv.Key+"="+kv.Value)
	}
	want := []string{"swappiness=0", "oom_kill_allocating_task=0", "min_free_kbytes=67584", "watermark_scale_factor=10", "swap_mb=2048",
		`thp_enabled="always"`, `thp_defrag="defer+madvise"`, "compaction_proactiveness=20", "extfrag_threshold=500"}
	if !slices.Equal(got, want) {
		t.Errorf("KernelKeys:\n got %q\nwant %q", got, want)
	}
	r.CgroupVersion = 1
	if keys := r.KernelKeys(); keys[len(keys)-1] != (KernelKey{"cgroup_version", "1"}) {
		t.Errorf("KernelKeys with a cgroup v1 host end in %v, want cgroup_version = 1", keys[len(keys)-1])
	}
}

// TestReadCgroupVersion: the unified hierarchy with the memory
// controller is version 2 (also on a hybrid host), a v1 memory mount is
// version 1, and neither is 0.
func TestReadCgroupVersion(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  int
	}{
		{"v2", map[string]string{"sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n"}, 2},
		{"v2 without memory", map[string]string{"sys/fs/cgroup/cgroup.controllers": "cpu io pids\n"}, 0},
		{"hybrid", map[string]string{"sys/fs/cgroup/unified/cgroup.controllers": "memory\n", "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 2},
		{"v1", map[string]string{"sys/fs/cgroup/unified/cgroup.controllers": "\n", "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 1},
		{"none", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, text := range tt.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := ReadCgroupVersion(root); got != tt.want {
				t.Errorf("ReadCgroupVersion = %d, want %d", got, tt.want)
			}
		})
	}
}
