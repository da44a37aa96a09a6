package host

import (
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
}
