package real

import (
	"fmt"
	"strconv"
	"strings"
)

// This file parses the kernel's memory reports that a real run samples:
// the "name value" files (cgroup v1 memory.stat and memory.oom_control,
// cgroup v2 memory.stat and memory.events, /proc/vmstat) and the PSI
// lines of /proc/pressure/memory. /proc/PID/status is read by
// experiments/input/host (ReadTask). The parsers are strict: a line they
// do not understand is an error, so that a kernel that changes a format
// is noticed rather than read as zeros.

// maxReportBytes bounds what a parser accepts: the largest of these files
// (/proc/vmstat, about 180 lines) is a few KiB.
const maxReportBytes = 1 << 20

// parseFlat parses lines of "name value" (one space or tab between them,
// the value a decimal integer) into a map. Empty lines are skipped; a
// repeated name, a line of another shape or a value that does not fit an
// int64 is an error naming the line.
func parseFlat(text string) (map[string]int64, error) {
	if len(text) > maxReportBytes {
		return nil, fmt.Errorf("%d bytes: more than the %d a kernel report has", len(text), maxReportBytes)
	}
	out := map[string]int64{}
	for i, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want \"name value\", got %q", i+1, line)
		}
		if !validName(f[0]) {
			return nil, fmt.Errorf("line %d: %q is not a counter name", i+1, f[0])
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: value %q is not an integer", i+1, f[0], f[1])
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("line %d: %s appears twice", i+1, f[0])
		}
		out[f[0]] = v
	}
	return out, nil
}

// validName reports whether s looks like a kernel counter name: letters,
// digits and underscores.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// parseMemoryStat parses a cgroup's memory.stat (v1: cache, rss,
// mapped_file, swap, pgfault, ..., total_*; v2: anon, file, ...), in
// bytes for the sizes and counts for the events, as the kernel prints
// them.
func parseMemoryStat(text string) (map[string]int64, error) {
	m, err := parseFlat(text)
	if err != nil {
		return nil, fmt.Errorf("memory.stat: %w", err)
	}
	return m, nil
}

// parseVmstat parses /proc/vmstat.
func parseVmstat(text string) (map[string]int64, error) {
	m, err := parseFlat(text)
	if err != nil {
		return nil, fmt.Errorf("vmstat: %w", err)
	}
	return m, nil
}

// OOMControl is a cgroup v1 memory.oom_control.
type OOMControl struct {
	// KillDisable is oom_kill_disable: 1 when the OOM killer is off for
	// the group (tasks then wait in the charge instead).
	KillDisable int64 `json:"oom_kill_disable"`
	// UnderOOM is under_oom: 1 while the group is in an OOM.
	UnderOOM int64 `json:"under_oom"`
	// Kill is oom_kill: how many tasks the OOM killer killed in the group.
	Kill int64 `json:"oom_kill"`
}

// parseOOMControl parses memory.oom_control. Every one of its three
// lines must be there (oom_kill since Linux 4.13).
func parseOOMControl(text string) (OOMControl, error) {
	m, err := parseFlat(text)
	if err != nil {
		return OOMControl{}, fmt.Errorf("memory.oom_control: %w", err)
	}
	var c OOMControl
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"oom_kill_disable", &c.KillDisable}, {"under_oom", &c.UnderOOM}, {"oom_kill", &c.Kill}} {
		v, ok := m[f.name]
		if !ok {
			return OOMControl{}, fmt.Errorf("memory.oom_control: no %s line", f.name)
		}
		*f.dst = v
	}
	return c, nil
}

// PSILine is one line of a PSI file: the share of time some (or all)
// tasks stalled on memory over 10, 60 and 300 s, in percent, and the
// total stall time in microseconds since boot.
type PSILine struct {
	Avg10   float64 `json:"avg10"`
	Avg60   float64 `json:"avg60"`
	Avg300  float64 `json:"avg300"`
	TotalUs int64   `json:"total_us"`
}

// PSI is /proc/pressure/memory (or a cgroup v2 memory.pressure).
type PSI struct {
	Some PSILine `json:"some"`
	Full PSILine `json:"full"`
}

// parsePSI parses the "some" and "full" lines of a memory PSI file, each
// "KIND avg10=A avg60=B avg300=C total=N". Both lines are required.
func parsePSI(text string) (PSI, error) {
	if len(text) > maxReportBytes {
		return PSI{}, fmt.Errorf("pressure: %d bytes: more than a PSI file has", len(text))
	}
	var p PSI
	seen := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		var dst *PSILine
		switch {
		case len(f) != 5:
			return PSI{}, fmt.Errorf("pressure: line %d: want \"some|full avg10=.. avg60=.. avg300=.. total=..\", got %q", i+1, line)
		case f[0] == "some":
			dst = &p.Some
		case f[0] == "full":
			dst = &p.Full
		default:
			return PSI{}, fmt.Errorf("pressure: line %d: %q is neither some nor full", i+1, f[0])
		}
		if seen[f[0]] {
			return PSI{}, fmt.Errorf("pressure: line %d: %s appears twice", i+1, f[0])
		}
		seen[f[0]] = true
		l, err := parsePSIFields(f[1:])
		if err != nil {
			return PSI{}, fmt.Errorf("pressure: line %d: %w", i+1, err)
		}
		*dst = l
	}
	if !seen["some"] || !seen["full"] {
		return PSI{}, fmt.Errorf("pressure: want a some and a full line")
	}
	return p, nil
}

// parsePSIFields parses "avg10=A avg60=B avg300=C total=N", in that order.
func parsePSIFields(f []string) (PSILine, error) {
	var l PSILine
	avgs := []*float64{&l.Avg10, &l.Avg60, &l.Avg300}
	for i, name := range []string{"avg10", "avg60", "avg300", "total"} {
		v, ok := strings.CutPrefix(f[i], name+"=")
		if !ok {
			return PSILine{}, fmt.Errorf("field %d: want %s=, got %q", i+1, name, f[i])
		}
		if i == 3 {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return PSILine{}, fmt.Errorf("total %q is not a count of microseconds", v)
			}
			l.TotalUs = n
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || !(x >= 0 && x <= 100) {
			return PSILine{}, fmt.Errorf("%s %q is not a percentage", name, v)
		}
		*avgs[i] = x
	}
	return l, nil
}

// parseCount parses a file holding one decimal integer, or "max" (cgroup
// v2 limits; returned as -1).
func parseCount(text string) (int64, error) {
	s := strings.TrimSpace(text)
	if s == "max" {
		return -1, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want one integer, got %q", truncate(s, 40))
	}
	return v, nil
}

// truncate cuts s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
