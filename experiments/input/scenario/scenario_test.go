package scenario

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
)

// exported returns s without its unexported bookkeeping and Source, for
// comparisons of the values a scenario holds. The policy parameters are
// filled in with their defaults, as Encode writes them.
func exported(s *Scenario) Scenario {
	c := *s.Clone()
	c.Source = ""
	c.origins = nil
	c.Policy = c.Policy.filled()
	return c
}

func TestDefault(t *testing.T) {
	d := Default()
	want := Scenario{
		Run:     Run{Name: "scenario", Seed: 1, DurationMs: 30000, MaxEvents: 1e9},
		Machine: Machine{Preset: "intel-2s", NodeMemoryMB: 4096},
		Kernel: Kernel{Swappiness: 60, WatermarkScaleFactor: 10, THPEnabled: "madvise", THPDefrag: "madvise",
			CompactionProactiveness: 20, ExtfragThreshold: 500, CgroupVersion: 2},
		SBMP: SBMP{SlotSizes: []int64{64, 256, 1024}, Tier0CapacitySlots: 512, Tier1BlockKiB: 2048,
			Placement: "user", MadviseHugepage: true, Tier1GFP: "GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN", Tier2GFP: "GFP_KERNEL",
			SlabSelect: "fullest", RemoteFreeBatch: 12,
			FSMDriftWindowMs: 1000, FSMDriftRemoteShare: 0.5, FSMDriftMinSlots: 64, FSMSyncTimeoutFactor: 4},
		Policy: Policy{Merge: "lazy-threshold", Refill: "fixed-batch", Degrade: "immediate-tier2"},
		Output: Output{SampleIntervalMs: 100},
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("Default() = %+v, want %+v", d, want)
	}
	// Default has no workload, which Validate requires; with one it is valid.
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "workload: at least one") {
		t.Fatalf("Default().Validate() = %v, want the missing-workload error", err)
	}
	d.Workloads = []Workload{DefaultWorkload(0)}
	if err := d.Validate(); err != nil {
		t.Fatalf("Default() with DefaultWorkload(0): %v", err)
	}
}

func TestParseDefaults(t *testing.T) {
	s, err := Parse("dir/my-run.toml", []byte("[[workload]]\n[[workload]]\nname = \"b\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Run.Name = "my-run"
	want.Workloads = []Workload{DefaultWorkload(0), DefaultWorkload(1)}
	want.Workloads[1].Name = "b"
	if got, want := exported(s), exported(&want); !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse = %+v\nwant %+v", got, want)
	}
	if s.Source != "dir/my-run.toml" {
		t.Errorf("Source = %q", s.Source)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	w := DefaultWorkload(3)
	if w.Name != "w3" || w.Kind != "synthetic" || w.CPUs != "0" || w.Arrival != "poisson" || w.RatePerS != 100000 ||
		w.Size != "fixed" || w.SizeBytes != 64 || w.Lifetime != "exponential" || w.LifetimeMeanMs != 10 ||
		w.Process != DefaultProcess || w.LoadFactor != 1 || w.Count != 1 || w.Cgroup != "/" {
		t.Errorf("DefaultWorkload(3) = %+v", w)
	}
}

func TestParseOverridesDefaults(t *testing.T) {
	in := `
[run]
name = "n"
seed = 7
[sbmp]
slot_sizes = [8, 16]
[[workload]]
rate_per_s = 5      # an integer is accepted for a float key
lifetime = "forever"
`
	s, err := Parse("x.toml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.Run.Name != "n" || s.Run.Seed != 7 || s.Run.DurationMs != 30000 {
		t.Errorf("run = %+v", s.Run)
	}
	if !reflect.DeepEqual(s.SBMP.SlotSizes, []int64{8, 16}) {
		t.Errorf("slot_sizes = %v (arrays replace the default)", s.SBMP.SlotSizes)
	}
	if w := s.Workloads[0]; w.RatePerS != 5 || w.Lifetime != "forever" || w.SizeBytes != 64 {
		t.Errorf("workload = %+v", w)
	}
}

func TestEmbeddedScenarios(t *testing.T) {
	names := scenarios.Names()
	if len(names) < 2 || !contains(names, scenarios.Default) || !contains(names, "steady") {
		t.Fatalf("Names() = %v", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Source != "embedded:"+name || s.Run.Name != name {
				t.Errorf("Source %q, Run.Name %q", s.Source, s.Run.Name)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			roundTrip(t, s)
		})
	}
}

func TestOOMCrisisContents(t *testing.T) {
	s, err := Load(scenarios.Default)
	if err != nil {
		t.Fatal(err)
	}
	k := s.Kernel
	// SPEC 1.3's settings: swappiness 0, oom_kill_allocating_task 0, no
	// swap, on the two-socket preset.
	if s.Machine.Preset != "intel-2s" || s.Machine.NodeMemoryMB != 512 || k.Swappiness != 0 || k.OOMKillAllocatingTask != 0 || k.SwapMB != 0 {
		t.Errorf("machine/kernel: %+v %+v", s.Machine, k)
	}
	if s.Run.DurationMs != 60000 || len(s.Workloads) != 7 || s.SBMP.Placement != PlacementKernel {
		t.Fatalf("run %+v, %d workloads, placement %q", s.Run, len(s.Workloads), s.SBMP.Placement)
	}
	a, b := s.Workloads[0], s.Workloads[1]
	if a.CPUs != "0-15" || a.RatePerS != 50000 || a.SizeBytes != 64 || a.LifetimeMeanMs != 5 {
		t.Errorf("churn workload: %+v", a)
	}
	if b.CPUs != "16-31" || b.Arrival != ArrivalMMPP || b.SizeBytes != 256 || b.Lifetime != LifetimeForever {
		t.Errorf("long-lived workload: %+v", b)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// roundTrip checks Parse(Encode(s)) == s and that encoding is stable.
func roundTrip(t *testing.T, s *Scenario) {
	t.Helper()
	enc, err := s.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	back, err := Parse(s.Source, enc)
	if err != nil {
		t.Fatalf("Parse(Encode(s)): %v\n%s", err, enc)
	}
	if got, want := exported(back), exported(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip changed the scenario:\n got %+v\nwant %+v\n%s", got, want, enc)
	}
	again, err := back.Encode()
	if err != nil || string(again) != string(enc) {
		t.Fatalf("Encode not stable (err %v):\n%s\n---\n%s", err, enc, again)
	}
}

func TestRoundTripNonDefault(t *testing.T) {
	s, err := Load(scenarios.Default)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{
		"run.seed=9223372036854775807", "run.name=quote\" and \\ and ünïcode",
		"sbmp.slot_sizes=[8,65536]", "kernel.min_free_kbytes=128",
		"workload.0.rate_per_s=0.1", "workload.1.lifetime=forever", "workload.1.lifetime_mean_ms=0",
		"workload.0.lifetime_mean_ms=1e-300",
	} {
		if err := s.Set(set); err != nil {
			t.Fatalf("Set(%q): %v", set, err)
		}
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s)
}

func TestEncodeDeterministic(t *testing.T) {
	s, _ := Load("steady")
	first, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		c := s.Clone()
		got, _ := c.Encode()
		if string(got) != string(first) {
			t.Fatal("Encode output differs between calls")
		}
	}
	s.Run.Seed = math.MaxUint64
	if _, err := s.Encode(); err == nil || !strings.Contains(err.Error(), "run.seed") {
		t.Errorf("Encode with an unrepresentable seed: %v", err)
	}
}

// TestParseErrors covers every class of error Parse reports, with the exact
// message, so that the file:line:col: key: format is pinned.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown key", "[kernel]\nswappiness = 0\nswapiness = 0\n",
			"x.toml:3:1: kernel.swapiness: unknown key (did you mean kernel.swappiness?)"},
		{"unknown key, wrong case", "[kernel]\nSwappiness = 0\n",
			"x.toml:2:1: kernel.Swappiness: unknown key (did you mean kernel.swappiness?)"},
		{"unknown key, no suggestion", "[kernel]\n  bogus_thing = 0\n",
			"x.toml:2:3: kernel.bogus_thing: unknown key"},
		{"unknown section", "[kernal]\nswappiness = 0\n",
			"x.toml:1:2: kernal: unknown key (did you mean kernel?)"},
		{"section key at top level", "seed = 3\n",
			"x.toml:1:1: seed: unknown key (did you mean run.seed?)"},
		{"unknown workload key", "[[workload]]\n[[workload]]\nrate = 1\n",
			"x.toml:3:1: workload.1.rate: unknown key"},
		{"unknown key in inline table", "kernel = { swappiness = 1, bad = 2 }\n",
			"x.toml:1:28: kernel.bad: unknown key"},
		{"unknown key in inline array of tables", "workload = [{}, {cpus = \"1\", x = 2}]\n",
			"x.toml:1:30: workload.1.x: unknown key"},
		{"dotted unknown key", "[sbmp]\ntier0.capacity = 1\n",
			"x.toml:2:1: sbmp.tier0: unknown key"},
		{"quoted unknown key", "[policy]\n\"re fill\" = \"x\"\n",
			"x.toml:2:1: policy.\"re fill\": unknown key"},
		{"empty quoted key", "[run]\n\"\" = 1\n",
			"x.toml:2:1: run.\"\": unknown key"},
		{"wrong type string for int", "[kernel]\nswappiness = \"zero\"\n",
			"x.toml:2:1: kernel.swappiness: expected an integer, found string \"zero\""},
		{"wrong type float for int", "[run]\nduration_ms = 1.5\n",
			"x.toml:2:1: run.duration_ms: expected an integer, found float 1.5"},
		{"wrong type for float", "[[workload]]\nrate_per_s = \"fast\"\n",
			"x.toml:2:1: workload.0.rate_per_s: expected a number, found string \"fast\""},
		{"wrong type for string", "[policy]\nmerge = 1\n",
			"x.toml:2:1: policy.merge: expected a string, found integer 1"},
		{"wrong type for table", "kernel = 1\n",
			"x.toml:1:1: kernel: expected a table, found integer 1"},
		{"wrong type for array", "[sbmp]\nslot_sizes = 64\n",
			"x.toml:2:1: sbmp.slot_sizes: expected an array, found integer 64"},
		{"wrong element type", "[sbmp]\nslot_sizes = [64, \"x\"]\n",
			"x.toml:2:1: sbmp.slot_sizes.1: expected an integer, found string \"x\""},
		{"negative seed", "[run]\nseed = -1\n",
			"x.toml:2:1: run.seed: expected a non-negative integer, found -1"},
		{"int overflow of int field", "[kernel]\nswappiness = 9223372036854775807\n", ""}, // int is 64-bit: fits, Validate rejects
		{"datetime", "[run]\nname = 1979-05-27\n",
			"x.toml:2:1: run.name: expected a string, found a datetime"},
		{"syntax error", "[run\nseed = 1\n",
			"x.toml:1:5: run: invalid TOML: expected '.' or ']' to end table name, but got '\\n' instead"},
		{"syntax error in a workload", "[[workload]]\n[[workload]]\nrate_per_s = 1x\n",
			"x.toml:3:15: workload.1.rate_per_s: invalid TOML: expected a top-level item to end"},
		{"control character", "[run]\nname = \"\x01\"\n", "x.toml:2:8: run.name: invalid TOML: TOML files cannot contain control characters"},
		{"integer overflow", "[run]\nseed = 99999999999999999999\n", "x.toml:2:8: run.seed: invalid TOML: 99999999999999999999 is out of range for int64"},
		{"syntax error names key", "[kernel]\nswappiness = 0x\n",
			"x.toml:2:14: kernel.swappiness: invalid TOML: not a hexadecimal number"},
		{"duplicate key", "[kernel]\nswappiness = 1\nswappiness = 2\n",
			"x.toml:3:1: kernel.swappiness: invalid TOML: Key 'kernel.swappiness' has already been defined."},
		{"too large", strings.Repeat("#", MaxFileBytes+1), "x.toml: scenario is larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.toml", []byte(tt.in))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error\n got %q\nwant %q", err.Error(), tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "x.toml" {
				t.Fatalf("error %#v is not an *Error for x.toml", err)
			}
		})
	}
}

func TestParseErrorsAllReportedInOrder(t *testing.T) {
	in := "[kernel]\nzz = 1\nswappiness = \"a\"\naa = 2\n[run]\nseed = \"s\"\n"
	_, err := Parse("x.toml", []byte(in))
	want := "x.toml:2:1: kernel.zz: unknown key\n" +
		"x.toml:3:1: kernel.swappiness: expected an integer, found string \"a\"\n" +
		"x.toml:4:1: kernel.aa: unknown key\n" +
		"x.toml:6:1: run.seed: expected an integer, found string \"s\""
	for range 20 { // map order must not leak into the message
		if _, err2 := Parse("x.toml", []byte(in)); err2 == nil || err2.Error() != want {
			t.Fatalf("got\n%v\nwant\n%s", err2, want)
		}
	}
	var e *Error
	if !errors.As(err, &e) || e.Key != "kernel.zz" {
		t.Fatalf("errors.As gives %+v", e)
	}
	many := strings.Repeat("[[workload]]\nbad = 1\n", 30)
	_, err = Parse("x.toml", []byte(many))
	if err == nil || strings.Count(err.Error(), "\n") != maxErrors || !strings.HasSuffix(err.Error(), "... and 10 more errors") {
		t.Fatalf("capped errors: %v", err)
	}
}

// TestValidateErrors covers every range and name check, with positions
// from the file.
func TestValidateErrors(t *testing.T) {
	const w = "[[workload]]\n"
	tests := []struct {
		name, in, want string
	}{
		{"swappiness range", "[kernel]\nswappiness = 300\n" + w,
			"x.toml:2:1: kernel.swappiness: must be in 0..200, got 300"},
		{"oom_kill_allocating_task", "[kernel]\noom_kill_allocating_task = 2\n" + w,
			"x.toml:2:1: kernel.oom_kill_allocating_task: must be 0 or 1, got 2"},
		{"swap_mb", "[kernel]\nswap_mb = -1\n" + w, "x.toml:2:1: kernel.swap_mb: must be in 0..1073741824, got -1"},
		{"min_free_kbytes", "[kernel]\nmin_free_kbytes = 64\n" + w,
			"x.toml:2:1: kernel.min_free_kbytes: must be 0 (computed by the kernel model) or in 128..2147483647, got 64"},
		{"watermark_scale_factor", "[kernel]\nwatermark_scale_factor = 0\n" + w,
			"x.toml:2:1: kernel.watermark_scale_factor: must be in 1..3000, got 0"},
		{"duration", "[run]\nduration_ms = 0\n" + w, "x.toml:2:1: run.duration_ms: must be in 1..1000000000, got 0"},
		{"max_events", "[run]\nmax_events = 0\n" + w, "x.toml:2:1: run.max_events: must be in 1..9223372036854775807, got 0"},
		{"empty name", "[run]\nname = \"\"\n" + w, "x.toml:2:1: run.name: must not be empty"},
		{"control char name", "[run]\nname = \"a\\nb\"\n" + w, "x.toml:2:1: run.name: must be valid UTF-8 without control characters"},
		{"preset", "[machine]\npreset = \"Intel 2S\"\n" + w, "x.toml:2:1: machine.preset: must be a preset name"},
		{"slot sizes empty", "[sbmp]\nslot_sizes = []\n" + w, "x.toml:2:1: sbmp.slot_sizes: must list at least one slot size"},
		{"slot size not power of two", "[sbmp]\nslot_sizes = [64, 100]\n" + w,
			"x.toml:2:1: sbmp.slot_sizes: element 1: must be a power of two in 8..65536, got 100"},
		{"slot size too small", "[sbmp]\nslot_sizes = [4]\n" + w, "x.toml:2:1: sbmp.slot_sizes: element 0: must be a power of two in 8..65536, got 4"},
		{"slot sizes not increasing", "[sbmp]\nslot_sizes = [256, 64]\n" + w,
			"x.toml:2:1: sbmp.slot_sizes: element 1: must be larger than the one before (256), got 64"},
		{"tier0 capacity", "[sbmp]\ntier0_capacity_slots = 0\n" + w, "x.toml:2:1: sbmp.tier0_capacity_slots: must be in 2..1048576, got 0"},
		{"tier1 block", "[sbmp]\ntier1_block_kib = 1024\n" + w, "x.toml:2:1: sbmp.tier1_block_kib: must be 2048 or 4096"},
		{"merge policy", "[policy]\nmerge = \"lazy\"\n" + w,
			"x.toml:2:1: policy.merge: must be one of delayed, eager, lazy-threshold, watermark; got \"lazy\""},
		{"refill policy", "[policy]\nrefill = \"x\"\n" + w, "x.toml:2:1: policy.refill: must be one of adaptive-batch, fixed-batch"},
		{"degrade policy", "[policy]\ndegrade = \"x\"\n" + w, "x.toml:2:1: policy.degrade: must be one of fail-fast, immediate-tier2"},
		{"sample interval", "[output]\nsample_interval_ms = 0\n" + w, "x.toml:2:1: output.sample_interval_ms: must be in 1..1000000000, got 0"},
		{"thp enabled", "[kernel]\nthp_enabled = \"sometimes\"\n" + w, `x.toml:2:1: kernel.thp_enabled: must be one of always, madvise, never; got "sometimes"`},
		{"thp defrag", "[kernel]\nthp_defrag = \"defer-madvise\"\n" + w, `x.toml:2:1: kernel.thp_defrag: must be one of always, defer, defer+madvise, madvise, never; got "defer-madvise"`},
		{"proactiveness", "[kernel]\ncompaction_proactiveness = 101\n" + w, "x.toml:2:1: kernel.compaction_proactiveness: must be in 0..100, got 101"},
		{"extfrag", "[kernel]\nextfrag_threshold = -1\n" + w, "x.toml:2:1: kernel.extfrag_threshold: must be in 0..1000, got -1"},
		{"cgroup version", "[kernel]\ncgroup_version = 3\n" + w, "x.toml:2:1: kernel.cgroup_version: must be in 1..2, got 3"},
		{"v1 high", "[kernel]\ncgroup_version = 1\n[[kernel.cgroup]]\npath = \"/a\"\nhigh_mb = 10\n" + w,
			"x.toml:5:1: kernel.cgroup.0.high_mb: cgroup v1 (kernel.cgroup_version = 1) has no memory.high; remove it or use version 2"},
		{"placement", "[sbmp]\nplacement = \"firmware\"\n" + w, `x.toml:2:1: sbmp.placement: must be one of user, kernel; got "firmware"`},
		{"slab select", "[sbmp]\nslab_select = \"emptiest\"\n" + w, `x.toml:2:1: sbmp.slab_select: must be one of fullest, address, newest; got "emptiest"`},
		{"remote free batch", "[sbmp]\nremote_free_batch = 0\n" + w, "x.toml:2:1: sbmp.remote_free_batch: must be in 1..1048576"},
		{"gfp", "[sbmp]\ntier1_gfp = \"GFP_KERNEL | __GFP_NOFAIL\"\n" + w, `x.toml:2:1: sbmp.tier1_gfp: unknown flag "__GFP_NOFAIL"`},
		{"loop", "[[workload]]\nloop = \"open\"\n", `x.toml:2:1: workload.0.loop: must be one of closed, queued, ignore; got "open"`},
		{"no workload", "[run]\nseed = 1\n", "x.toml: workload: at least one [[workload]] is needed"},
		{"rate", w + w + "rate_per_s = -5\n", "x.toml:3:1: workload.1.rate_per_s: must be > 0 and at most 1e+09, got -5"},
		{"rate nan", w + "rate_per_s = nan\n", "x.toml:2:1: workload.0.rate_per_s: must be a finite number, got NaN"},
		{"rate inf", w + "rate_per_s = inf\n", "x.toml:2:1: workload.0.rate_per_s: must be a finite number, got +Inf"},
		{"size", w + "size_bytes = 0\n", "x.toml:2:1: workload.0.size_bytes: must be in 1..1073741824, got 0"},
		{"cpus syntax", w + "cpus = \"3-1\"\n", "x.toml:2:1: workload.0.cpus: cpulist \"3-1\": range \"3-1\" ends before it starts"},
		{"cpus empty", w + "cpus = \"\"\n", "x.toml:2:1: workload.0.cpus: empty cpulist"},
		{"cpus letters", w + "cpus = \"a\"\n", "x.toml:2:1: workload.0.cpus: cpulist \"a\": \"a\" is not a CPU number"},
		{"arrival", w + "arrival = \"uniform\"\n", "x.toml:2:1: workload.0.arrival: must be one of poisson, mmpp, diurnal, phases; got \"uniform\""},
		{"lifetime", w + "lifetime = \"weibull\"\n", "x.toml:2:1: workload.0.lifetime: must be one of exponential, lognormal, pareto, forever; got \"weibull\""},
		{"lifetime mean", w + "lifetime_mean_ms = 0\n",
			"x.toml:2:1: workload.0.lifetime_mean_ms: must be > 0 and at most 1e+09, got 0"},
		{"kind", w + "kind = \"replay\"\n", "x.toml:2:1: workload.0.kind: must be one of synthetic, go-runtime, heaptrack, task, mlock, page-cache, kmalloc-leak; got \"replay\""},
		{"mmpp order", w + "arrival = \"mmpp\"\nrate_low_per_s = 50\nrate_high_per_s = 10\n", "x.toml:4:1: workload.0.rate_high_per_s: must be at least rate_low_per_s (50), got 10"},
		{"mmpp rate", w + "arrival = \"mmpp\"\nrate_high_per_s = -3\n", "x.toml:3:1: workload.0.rate_high_per_s: must be > 0 and at most 1e+09, got -3"},
		{"diurnal amplitude", w + "arrival = \"diurnal\"\ndiurnal_amplitude = 1.5\n", "x.toml:3:1: workload.0.diurnal_amplitude: must be in 0..1, got 1.5"},
		{"phases lengths", w + "arrival = \"phases\"\nphase_start_ms = [0, 10]\nphase_rate_per_s = [5]\n",
			"x.toml:4:1: workload.0.phase_rate_per_s: must have one rate per phase start (2), got 1"},
		{"phases first", w + "arrival = \"phases\"\nphase_start_ms = [5]\nphase_rate_per_s = [5]\n",
			"x.toml:3:1: workload.0.phase_start_ms: the first phase must start at 0, got 5"},
		{"phases order", w + "arrival = \"phases\"\nphase_start_ms = [0, 9, 9]\nphase_rate_per_s = [5, 1, 2]\n",
			"x.toml:3:1: workload.0.phase_start_ms: element 2: must be after the one before (9), got 9"},
		{"phases silent", w + "arrival = \"phases\"\nphase_start_ms = [0]\nphase_rate_per_s = [0]\n",
			"x.toml:4:1: workload.0.phase_rate_per_s: every phase has rate 0"},
		{"discrete weights", w + "size = \"discrete\"\nsizes_bytes = [64, 128]\nsize_weights = [1]\n",
			"x.toml:4:1: workload.0.size_weights: discrete sizes need sizes_bytes and size_weights of the same, non-zero length (got 2 and 1)"},
		{"lognormal clamp", w + "size = \"lognormal\"\nsize_median_bytes = 100\nsize_min_bytes = 50\nsize_max_bytes = 10\n",
			"x.toml:5:1: workload.0.size_max_bytes: must be 0 (no clamp) or at least size_min_bytes (50), got 10"},
		{"histogram file", "\n" + w + "size = \"histogram\"\n", "x.toml:2:1: workload.0.size_file: a histogram size distribution needs size_file"},
		{"pareto alpha", w + "lifetime = \"pareto\"\nlifetime_alpha = 0\n", "x.toml:3:1: workload.0.lifetime_alpha: must be > 0 and at most 100, got 0"},
		{"leak fraction", w + "leak_fraction = 2\n", "x.toml:2:1: workload.0.leak_fraction: must be in 0..1, got 2"},
		{"stop before start", w + "start_ms = 10\nstop_ms = 5\n", "x.toml:3:1: workload.0.stop_ms: must be 0 (the end of the run) or after start_ms (10), got 5"},
		{"unknown process", w + "process = \"db\"\n", "x.toml:2:1: workload.0.process: no process \"db\"; declare it in [[process]]"},
		{"gogc off without limit", w + "kind = \"go-runtime\"\ngogc = -1\n", "x.toml:3:1: workload.0.gogc: gogc = -1 (off) needs a gomemlimit_mb"},
		{"page-cache size", "\n" + w + "kind = \"page-cache\"\n", "x.toml:2:1: workload.0.page_cache_mb: a page-cache workload needs the size of the file set"},
		{"kmalloc size", w + "kind = \"kmalloc-leak\"\nsize_bytes = 4\n", "x.toml:3:1: workload.0.size_bytes: must be in 8..4194304, got 4"},
		{"process cgroup", w + "[[process]]\nname = \"db\"\ncgroup = \"/x\"\n", "x.toml:4:1: process.0.cgroup: no cgroup \"/x\""},
		{"process twice", w + "[[process]]\nname = \"db\"\n[[process]]\nname = \"db\"\n", "x.toml:5:1: process.1.name: \"db\" is declared twice"},
		{"fault kind", w + "[[fault]]\nkind = \"meteor\"\n", "x.toml:3:1: fault.0.kind: must be one of numa-latency, node-offline, leak, policy-swap; got \"meteor\""},
		{"swap duration", w + "[[fault]]\nkind = \"policy-swap\"\ndegrade = \"fail-fast\"\nduration_ms = 5\n", "x.toml:5:1: fault.0.duration_ms: a policy swap happens at at_ms and stays"},
		{"swap policy", w + "[[fault]]\nkind = \"policy-swap\"\nrefill = \"nope\"\n", "x.toml:4:1: fault.0.refill: must be one of"},
		{"fault factor", w + "[[fault]]\nkind = \"numa-latency\"\nlatency_factor = 0.5\n", "x.toml:4:1: fault.0.latency_factor: must be in 1..1e6, got 0.5"},
		{"leak target", w + "[[fault]]\nkind = \"leak\"\nworkload = \"nope\"\n", "x.toml:4:1: fault.0.workload: no workload named \"nope\""},
		{"leak into task", w + "kind = \"task\"\n[[fault]]\nkind = \"leak\"\nworkload = \"w0\"\n",
			"x.toml:5:1: fault.0.workload: workload \"w0\" is task; a leak goes into a synthetic or go-runtime workload"},
		{"heaptrack without file", "\n" + w + "kind = \"heaptrack\"\n",
			"x.toml:2:1: workload.0.file: a heaptrack workload needs the trace file to replay"},
		{"file on synthetic", w + "file = \"t.zst\"\n", "x.toml:2:1: workload.0.file: only heaptrack workloads read a file"},
		{"duplicate names", w + "name = \"a\"\n" + w + "name = \"a\"\n",
			"x.toml:4:1: workload.1.name: \"a\" is already the name of workload.0"},
		{"too many workloads", strings.Repeat(w, MaxWorkloads+1), "x.toml:1:3: workload: at most 256 workloads are allowed, got 257"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("x.toml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = s.Validate()
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error\n got %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	s, err := Parse("x.toml", []byte("[kernel]\nswappiness = -1\nwatermark_scale_factor = 0\n[[workload]]\nsize_bytes = 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	s.Output.SampleIntervalMs = 0 // not from the file: no position
	want := "x.toml:2:1: kernel.swappiness: must be in 0..200, got -1\n" +
		"x.toml:3:1: kernel.watermark_scale_factor: must be in 1..3000, got 0\n" +
		"x.toml:5:1: workload.0.size_bytes: must be in 1..1073741824, got 0\n" +
		"x.toml: output.sample_interval_ms: must be in 1..1000000000, got 0"
	if err := s.Validate(); err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.toml")
	if err := os.WriteFile(path, []byte("[kernel]\nswapiness = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || err.Error() != path+":2:1: kernel.swapiness: unknown key (did you mean kernel.swappiness?)" {
		t.Fatalf("Load(bad file) = %v", err)
	}
	if err := os.WriteFile(path, []byte("[[workload]]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil || s.Run.Name != "mine" || s.Source != path {
		t.Fatalf("Load(good file) = %+v, %v", s, err)
	}
	for _, name := range []string{"oom-crisis", "oom-crisis.toml", "embedded:oom-crisis", "embedded:steady"} {
		s, err := Load(name)
		if err != nil || !strings.HasPrefix(s.Source, "embedded:") {
			t.Errorf("Load(%q) = %v, %v", name, s, err)
		}
	}
	_, err = Load(filepath.Join(dir, "missing.toml"))
	if err == nil || !strings.Contains(err.Error(), "no such file, and no embedded scenario of that name (embedded: "+strings.Join(scenarios.Names(), ", ")+")") {
		t.Errorf("Load(missing) = %v", err)
	}
	if _, err := Load("embedded:nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Load(embedded:nope) = %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "load scenario "+dir) {
		t.Errorf("Load(dir) = %v", err)
	}
}

func TestLoadPrefersFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("steady", []byte("[run]\nseed = 42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load("steady")
	if err != nil || s.Run.Seed != 42 || s.Source != "steady" {
		t.Fatalf("Load(steady) with a file of that name: %+v, %v", s, err)
	}
}

func TestProbeValidation(t *testing.T) {
	base := "[[workload]]\nname = \"app\"\n[[workload]]\nname = \"reader\"\nkind = \"page-cache\"\npage_cache_mb = 64\n"
	for _, tc := range []struct{ probe, want string }{
		{"[[probe]]\nkind = \"alloc\"\n", ""},
		{"[[probe]]\nkind = \"span\"\nsample_rate = 0.5\nworkload = \"app\"\n", ""},
		{"[[probe]]\nkind = \"stack\"\n", "probe.0.kind"},
		{"[[probe]]\nkind = \"alloc\"\nsample_rate = 1.5\n", "probe.0.sample_rate: must be in 0..1"},
		{"[[probe]]\nkind = \"alloc\"\nworkload = \"nope\"\n", `probe.0.workload: no workload "nope"`},
		{"[[probe]]\nkind = \"alloc\"\nworkload = \"reader\"\n", "outside SBMP"},
		{"[[probe]]\nkind = \"alloc\"\nname = \"x\"\n[[probe]]\nkind = \"span\"\nname = \"x\"\n", "probe.1.name: must be a unique"},
	} {
		sc, err := Parse("p.toml", []byte(base+tc.probe))
		if err == nil {
			err = sc.Validate()
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.probe, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: got %v, want %q", tc.probe, err, tc.want)
		}
	}
	sc, _ := Parse("p.toml", []byte(base+"[[probe]]\nkind = \"span\"\n[[probe]]\nkind = \"alloc\"\n"))
	if got := sc.Probes[0].EffectiveSampleRate(); got != 0.01 || sc.Probes[1].EffectiveSampleRate() != 1 || sc.Probes[1].Name != "probe1" {
		t.Errorf("defaults: %+v", sc.Probes)
	}
}
