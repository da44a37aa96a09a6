package transfer

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
)

// flat returns sc's resolved keys ("workload.3.rss_mb") and their values
// as its canonical TOML writes them.
func flat(t *testing.T, sc *scenario.Scenario) map[string]string {
	t.Helper()
	b, err := sc.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if _, err := toml.Decode(string(b), &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(prefix+k+".", x)
			}
		case []map[string]any:
			for i, x := range v {
				walk(prefix+strconv.Itoa(i)+".", x)
			}
		default:
			out[strings.TrimSuffix(prefix, ".")] = fmt.Sprint(v)
		}
	}
	walk("", m)
	return out
}

// TestScaleDefaultScenario: at k = 4, every memory- or rate-valued key of
// the default scenario is multiplied by 4, Scale returns exactly the
// overrides that do it, and no other key changes.
func TestScaleDefaultScenario(t *testing.T) {
	want := []struct {
		key      string
		from, to string
	}{
		{"machine.node_memory_mb", "512", "2048"},
		{"workload.0.rate_per_s", "50000", "200000"},    // churn
		{"workload.1.rate_low_per_s", "20000", "80000"}, // long-lived-small, mmpp
		{"workload.1.rate_high_per_s", "120000", "480000"},
		{"workload.2.rate_per_s", "500", "2000"},    // large-buffers
		{"workload.3.page_cache_mb", "400", "1600"}, // reader0
		{"workload.3.grow_mb_per_s", "150", "600"},
		{"workload.4.page_cache_mb", "400", "1600"}, // reader1
		{"workload.4.grow_mb_per_s", "150", "600"},
		{"workload.5.rss_mb", "260", "1040"}, // db0
		{"workload.5.grow_mb_per_s", "40", "160"},
		{"workload.6.rss_mb", "260", "1040"}, // db1
		{"workload.6.grow_mb_per_s", "40", "160"},
	}
	sc, err := canon.Load(baseScenario)
	if err != nil {
		t.Fatal(err)
	}
	before := flat(t, sc)
	sets, err := Scale(sc, 4)
	if err != nil {
		t.Fatal(err)
	}
	after := flat(t, sc)
	var wantSets []string
	for _, w := range want {
		if before[w.key] != w.from || after[w.key] != w.to {
			t.Errorf("%s: %s -> %s, want %s -> %s", w.key, before[w.key], after[w.key], w.from, w.to)
		}
		wantSets = append(wantSets, w.key+"="+w.to)
	}
	got, wantSorted := slices.Sorted(slices.Values(sets)), slices.Sorted(slices.Values(wantSets))
	if !slices.Equal(got, wantSorted) {
		t.Errorf("overrides\n%v\nwant\n%v", got, wantSorted)
	}
	scaled := map[string]bool{}
	for _, w := range want {
		scaled[w.key] = true
	}
	keys := make([]string, 0, len(before))
	for k := range before {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !scaled[k] && before[k] != after[k] {
			t.Errorf("%s changed: %s -> %s", k, before[k], after[k])
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d keys before, %d after", len(before), len(after))
	}
}

// TestScaleKeysClassified: every scenario key whose name says it holds
// memory or a rate is either scaled by Scale or named here as left
// alone on purpose, so that a key added later is not forgotten.
func TestScaleKeysClassified(t *testing.T) {
	scaled := []string{"node_memory_mb", "memory_mb", "swap_mb", "max_mb", "high_mb", "swap_max_mb",
		"rate_per_s", "rate_low_per_s", "rate_high_per_s", "phase_rate_per_s",
		"alloc_mb_per_s", "live_mb", "gomemlimit_mb", "leak_mb_per_s",
		"grow_mb_per_s", "rss_mb", "page_cache_mb", "hot_mb", "rate_mb_per_s"}
	// Not memory of the machine: a sysctl the user pins, thread
	// migrations, and the DRAM channels' bandwidth.
	kept := []string{"min_free_kbytes", "migrate_per_s", "media_bandwidth_mbps", "local_bandwidth_mbps", "remote_bandwidth_mbps"}
	var walk func(t reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Slice || ty.Kind() == reflect.Pointer {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] {
			return
		}
		seen[ty] = true
		for i := range ty.NumField() {
			f := ty.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			walk(f.Type)
			memOrRate := strings.HasSuffix(tag, "_mb") || strings.HasSuffix(tag, "_per_s") || strings.HasSuffix(tag, "_kbytes") || strings.HasSuffix(tag, "_mbps")
			if memOrRate && !slices.Contains(scaled, tag) && !slices.Contains(kept, tag) {
				t.Errorf("%s.%s (%s): neither scaled nor kept on purpose", ty.Name(), f.Name, tag)
			}
		}
	}
	walk(reflect.TypeFor[scenario.Scenario]())
}

// TestScaleEmbeddedScenarios: every embedded scenario scales (k = 1 is
// the identity and returns overrides that change nothing), except one
// that replays a trace, which is refused by name.
func TestScaleEmbeddedScenarios(t *testing.T) {
	for _, name := range scenarios.Names() {
		sc, err := canon.Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		trace := slices.ContainsFunc(sc.Workloads, func(w scenario.Workload) bool { return w.Kind == scenario.KindHeaptrack })
		before := flat(t, sc)
		sets, err := Scale(sc, 1)
		switch {
		case trace && (err == nil || !strings.Contains(err.Error(), "heaptrack")):
			t.Errorf("%s replays a trace: Scale gave %v, want an error naming it", name, err)
		case !trace && err != nil:
			t.Errorf("%s: %v", name, err)
		case !trace && len(sets) == 0:
			t.Errorf("%s: no overrides", name)
		case !trace && !reflect.DeepEqual(before, flat(t, sc)):
			t.Errorf("%s: k = 1 changed the scenario", name)
		}
		if _, err := Scale(sc, 0); err == nil {
			t.Errorf("%s: k = 0 accepted", name)
		}
	}
}

// TestScaleRoundsMiB: sizes in whole MiB round to the nearest, and a
// size that was not 0 stays at least 1 MiB.
func TestScaleRoundsMiB(t *testing.T) {
	for _, c := range []struct {
		v    int64
		k    float64
		want string
	}{{0, 8, "0"}, {260, 0.5, "130"}, {3, 0.5, "2"}, {1, 0.01, "1"}, {512, 64, "32768"}} {
		if got := mib(c.v, c.k); got != c.want {
			t.Errorf("mib(%d, %v) = %s, want %s", c.v, c.k, got, c.want)
		}
	}
}
