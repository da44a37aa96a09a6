package real

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseMemoryStatV1(t *testing.T) {
	m, err := parseMemoryStat(readTestdata(t, "v1-memory.stat"))
	if err != nil {
		t.Fatal(err)
	}
	// Captured from a Linux 6.18 cgroup v1 group: the local counters,
	// the hierarchical total_* ones and the limits.
	want := map[string]int64{
		"cache": 7278592, "rss": 2068480, "mapped_file": 28672, "swap": 0,
		"pgfault": 247186, "pgmajfault": 30, "workingset_refault_file": 316,
		"unevictable": 0, "hierarchical_memory_limit": 9223372036854771712,
		"total_rss": 2068480, "total_pgmajfault": 30,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %d, want %d", k, m[k], v)
		}
	}
	if len(m) != 42 {
		t.Errorf("%d counters, want the file's 42", len(m))
	}
}

func TestParseMemoryStatV2(t *testing.T) {
	m, err := parseMemoryStat(readTestdata(t, "v2-memory.stat"))
	if err != nil {
		t.Fatal(err)
	}
	if m["anon"] != 52056064 || m["file"] != 104857600 || m["oom_kill"] != 0 {
		t.Errorf("anon %d file %d oom_kill %d", m["anon"], m["file"], m["oom_kill"])
	}
}

func TestParseVmstat(t *testing.T) {
	m, err := parseVmstat(readTestdata(t, "vmstat"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nr_free_pages", "pgscan_kswapd", "pgscan_direct", "allocstall_normal", "workingset_refault_file", "oom_kill", "pgmajfault", "thp_fault_alloc", "pswpin", "compact_stall"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
	if m["nr_free_pages"] != 5556157 {
		t.Errorf("nr_free_pages = %d", m["nr_free_pages"])
	}
}

func TestParseOOMControl(t *testing.T) {
	c, err := parseOOMControl(readTestdata(t, "v1-oom_control"))
	if err != nil || c != (OOMControl{}) {
		t.Fatalf("%+v, %v", c, err)
	}
	c, err = parseOOMControl("oom_kill_disable 0\nunder_oom 1\noom_kill 3\n")
	if err != nil || c != (OOMControl{UnderOOM: 1, Kill: 3}) {
		t.Fatalf("%+v, %v", c, err)
	}
}

func TestParsePSI(t *testing.T) {
	p, err := parsePSI(readTestdata(t, "pressure-memory"))
	if err != nil || p.Some.TotalUs != 692574 || p.Full.TotalUs != 644002 {
		t.Fatalf("%+v, %v", p, err)
	}
	p, err = parsePSI("some avg10=1.50 avg60=0.25 avg300=0.00 total=10\nfull avg10=0.75 avg60=0.00 avg300=0.00 total=5\n")
	want := PSI{Some: PSILine{1.5, 0.25, 0, 10}, Full: PSILine{0.75, 0, 0, 5}}
	if err != nil || p != want {
		t.Fatalf("%+v, %v", p, err)
	}
}

func TestParseErrors(t *testing.T) {
	flat := []struct{ name, text, want string }{
		{"three fields", "cache 1 2\n", "line 1"},
		{"not a number", "rss 1\ncache x\n", "line 2: cache"},
		{"overflow", "rss 9223372036854775808\n", "rss"},
		{"repeated", "rss 1\nrss 2\n", "twice"},
		{"bad name", "r-s 1\n", "counter name"},
	}
	for _, tt := range flat {
		if _, err := parseMemoryStat(tt.text); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := parseOOMControl("oom_kill_disable 0\nunder_oom 0\n"); err == nil || !strings.Contains(err.Error(), "oom_kill") {
		t.Errorf("missing oom_kill: %v", err)
	}
	psi := []struct{ name, text, want string }{
		{"no full", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", "full"},
		{"order", "some avg60=0.00 avg10=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", "avg10"},
		{"kind", "most avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", "neither"},
		{"negative", "some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", "microseconds"},
		{"nan", "some avg10=NaN avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", "percentage"},
	}
	for _, tt := range psi {
		if _, err := parsePSI(tt.text); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestParseCount(t *testing.T) {
	for text, want := range map[string]int64{"100663296\n": 100663296, "max\n": -1, "0": 0} {
		if got, err := parseCount(text); err != nil || got != want {
			t.Errorf("parseCount(%q) = %d, %v", text, got, err)
		}
	}
	if _, err := parseCount("12 kB"); err == nil {
		t.Error("parseCount took 12 kB")
	}
}

// formatFlat writes m back in the kernel's "name value" shape, in the
// order of names.
func formatFlat(names []string, m map[string]int64) string {
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k + " " + strconv.FormatInt(m[k], 10) + "\n")
	}
	return b.String()
}

// flatNames returns the names of text's lines in order.
func flatNames(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

// fuzzFlat checks a "name value" parser: it never panics, and what it
// accepts reads back the same after formatting.
func fuzzFlat(t *testing.T, parse func(string) (map[string]int64, error), text string) {
	m, err := parse(text)
	if err != nil {
		return
	}
	again, err := parse(formatFlat(flatNames(text), m))
	if err != nil || !reflect.DeepEqual(m, again) {
		t.Fatalf("round trip: %v, %v != %v", err, again, m)
	}
}

func FuzzParseMemoryStat(f *testing.F) {
	f.Add(readTestdataF(f, "v1-memory.stat"))
	f.Add(readTestdataF(f, "v2-memory.stat"))
	f.Add("cache 1\n\nrss -2\n")
	f.Fuzz(func(t *testing.T, text string) { fuzzFlat(t, parseMemoryStat, text) })
}

func FuzzParseVmstat(f *testing.F) {
	f.Add(readTestdataF(f, "vmstat"))
	f.Fuzz(func(t *testing.T, text string) { fuzzFlat(t, parseVmstat, text) })
}

func FuzzParseOOMControl(f *testing.F) {
	f.Add(readTestdataF(f, "v1-oom_control"))
	f.Add("oom_kill_disable 1\nunder_oom 1\noom_kill 9\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := parseOOMControl(text)
		if err != nil {
			return
		}
		text = "oom_kill_disable " + strconv.FormatInt(c.KillDisable, 10) + "\nunder_oom " + strconv.FormatInt(c.UnderOOM, 10) + "\noom_kill " + strconv.FormatInt(c.Kill, 10) + "\n"
		if again, err := parseOOMControl(text); err != nil || again != c {
			t.Fatalf("round trip: %+v, %v != %+v", again, err, c)
		}
	})
}

func FuzzParsePSI(f *testing.F) {
	f.Add(readTestdataF(f, "pressure-memory"))
	f.Add("full avg10=100.00 avg60=0.5 avg300=0 total=0\nsome avg10=0 avg60=0 avg300=0 total=1\n")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := parsePSI(text)
		if err != nil {
			return
		}
		line := func(kind string, l PSILine) string {
			return kind + " avg10=" + strconv.FormatFloat(l.Avg10, 'g', -1, 64) + " avg60=" + strconv.FormatFloat(l.Avg60, 'g', -1, 64) +
				" avg300=" + strconv.FormatFloat(l.Avg300, 'g', -1, 64) + " total=" + strconv.FormatInt(l.TotalUs, 10) + "\n"
		}
		if again, err := parsePSI(line("some", p.Some) + line("full", p.Full)); err != nil || again != p {
			t.Fatalf("round trip: %+v, %v != %+v", again, err, p)
		}
	})
}

func readTestdataF(f *testing.F, name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return string(b)
}
