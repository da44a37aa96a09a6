package real

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// This file creates, limits, samples and removes the run's cgroups. All
// of them live under one private parent (sbmpsim-PID-RANDOM) at the
// hierarchy's root; nothing outside it is written.

// group is one cgroup of a run: the private parent (plan nil) or a
// scenario cgroup below it.
type group struct {
	path string // the scenario's path; "" for the private parent
	dir  string // its directory on the host
	plan *cgroupPlan
}

// cgroupSample is what one reading of a cgroup gives, in the units the
// kernel prints (bytes and counts). Sizes are hierarchical: the group
// and everything below it.
type cgroupSample struct {
	usageBytes, maxUsageBytes int64
	// failcnt counts the charges that hit the limit: cgroup v1's
	// memory.failcnt plus memory.memsw.failcnt (with swap off the run
	// sets the memory+swap limit to the memory limit, and a charge then
	// fails on that counter first), cgroup v2's memory.events max.
	failcnt                         int64
	anonBytes, fileBytes, swapBytes int64
	// oomKill is the OOM killer's kills in the group.
	oomKill int64
	stat    map[string]int64
	oom     *OOMControl      // cgroup v1
	events  map[string]int64 // cgroup v2
	psi     PSI              // cgroup v2's memory.pressure
}

// cgroupFS is the host's memory controller.
type cgroupFS struct{ host CgroupHost }

// write writes one value to a control file of dir.
func (c cgroupFS) write(dir, file, value string) error {
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("cgroup: write %q to %s: %w", value, filepath.Join(dir, file), err)
	}
	return nil
}

// read reads one control file of dir.
func (c cgroupFS) read(dir, file string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return "", fmt.Errorf("cgroup: %w", err)
	}
	return string(b), nil
}

// count reads a control file holding one number.
func (c cgroupFS) count(dir, file string) (int64, error) {
	s, err := c.read(dir, file)
	if err != nil {
		return 0, err
	}
	v, err := parseCount(s)
	if err != nil {
		return 0, fmt.Errorf("cgroup: %s: %w", filepath.Join(dir, file), err)
	}
	return v, nil
}

// create makes dir; with cgroup v2 it also lets dir's children use the
// memory controller when they will need it.
func (c cgroupFS) create(dir string, withChildren bool) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	if c.host.Version == 2 && withChildren {
		return c.write(dir, "cgroup.subtree_control", "+memory")
	}
	return nil
}

// configure writes a scenario cgroup's limits and swappiness. Without
// swap (kernel.swap_mb = 0) the group may not swap either, whatever swap
// the host has: cgroup v1's memory+swap limit is set to the memory
// limit, cgroup v2's swap.max to 0.
func (c cgroupFS) configure(g *group, swapOn bool, swappiness int) error {
	p := g.plan
	bytes := func(v int64) string { return strconv.FormatInt(v, 10) }
	var steps [][2]string
	if c.host.Version == 1 {
		if p != nil && p.maxBytes > 0 {
			steps = append(steps, [2]string{"memory.limit_in_bytes", bytes(p.maxBytes)})
			switch {
			case c.host.Memsw && !swapOn:
				steps = append(steps, [2]string{"memory.memsw.limit_in_bytes", bytes(p.maxBytes)})
			case c.host.Memsw && p.swapMaxBytes > 0:
				steps = append(steps, [2]string{"memory.memsw.limit_in_bytes", bytes(p.maxBytes + p.swapMaxBytes)})
			}
		}
		steps = append(steps, [2]string{"memory.swappiness", strconv.Itoa(swappiness)})
	} else if p != nil {
		if p.maxBytes > 0 {
			steps = append(steps, [2]string{"memory.max", bytes(p.maxBytes)})
		}
		if p.highBytes > 0 {
			steps = append(steps, [2]string{"memory.high", bytes(p.highBytes)})
		}
		switch {
		case !swapOn:
			steps = append(steps, [2]string{"memory.swap.max", "0"})
		case p.swapMaxBytes > 0:
			steps = append(steps, [2]string{"memory.swap.max", bytes(p.swapMaxBytes)})
		}
	}
	for _, s := range steps {
		if err := c.write(g.dir, s[0], s[1]); err != nil {
			return err
		}
	}
	return nil
}

// attach moves process pid into dir.
func (c cgroupFS) attach(dir string, pid int) error {
	return c.write(dir, "cgroup.procs", strconv.Itoa(pid))
}

// resetPeaks starts cgroup v1's max_usage_in_bytes and failcnt afresh,
// so that they cover the run and not its set-up. cgroup v2 has no reset
// that outlives the writer's file descriptor.
func (c cgroupFS) resetPeaks(dir string) error {
	if c.host.Version != 1 {
		return nil
	}
	files := []string{"memory.max_usage_in_bytes", "memory.failcnt"}
	if c.host.Memsw {
		files = append(files, "memory.memsw.max_usage_in_bytes", "memory.memsw.failcnt")
	}
	for _, f := range files {
		if err := c.write(dir, f, "0"); err != nil {
			return err
		}
	}
	return nil
}

// sample reads dir's counters.
func (c cgroupFS) sample(dir string) (cgroupSample, error) {
	var s cgroupSample
	text, err := c.read(dir, "memory.stat")
	if err != nil {
		return s, err
	}
	if s.stat, err = parseMemoryStat(text); err != nil {
		return s, fmt.Errorf("%s: %w", dir, err)
	}
	if c.host.Version == 1 {
		return s, c.sampleV1(dir, &s)
	}
	return s, c.sampleV2(dir, &s)
}

func (c cgroupFS) sampleV1(dir string, s *cgroupSample) error {
	var err error
	s.anonBytes, s.fileBytes, s.swapBytes = s.stat["total_rss"], s.stat["total_cache"], s.stat["total_swap"]
	for _, f := range []struct {
		file string
		dst  *int64
	}{{"memory.usage_in_bytes", &s.usageBytes}, {"memory.max_usage_in_bytes", &s.maxUsageBytes}, {"memory.failcnt", &s.failcnt}} {
		if *f.dst, err = c.count(dir, f.file); err != nil {
			return err
		}
	}
	if c.host.Memsw {
		n, err := c.count(dir, "memory.memsw.failcnt")
		if err != nil {
			return err
		}
		s.failcnt += n
	}
	text, err := c.read(dir, "memory.oom_control")
	if err != nil {
		return err
	}
	oom, err := parseOOMControl(text)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	s.oom, s.oomKill = &oom, oom.Kill
	return nil
}

func (c cgroupFS) sampleV2(dir string, s *cgroupSample) error {
	var err error
	s.anonBytes, s.fileBytes = s.stat["anon"], s.stat["file"]
	if s.usageBytes, err = c.count(dir, "memory.current"); err != nil {
		return err
	}
	s.maxUsageBytes, _ = c.count(dir, "memory.peak") // Linux 5.19+
	s.swapBytes, _ = c.count(dir, "memory.swap.current")
	text, err := c.read(dir, "memory.events")
	if err != nil {
		return err
	}
	if s.events, err = parseFlat(text); err != nil {
		return fmt.Errorf("%s: memory.events: %w", dir, err)
	}
	s.failcnt, s.oomKill = s.events["max"], s.events["oom_kill"]
	if text, err := c.read(dir, "memory.pressure"); err == nil { // with CONFIG_PSI
		if s.psi, err = parsePSI(text); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	return nil
}

// remove removes dir, waiting until its last process has left: a killed
// process stays in its cgroup until it is reaped, and rmdir fails with
// EBUSY until then.
func (c cgroupFS) remove(dir string, deadline time.Time) error {
	for {
		err := os.Remove(dir)
		switch {
		case err == nil, errors.Is(err, os.ErrNotExist):
			return nil
		case !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline):
			procs, _ := c.read(dir, "cgroup.procs")
			return fmt.Errorf("cgroup: remove %s: %w (processes left: %s)", dir, err, strings.Join(strings.Fields(procs), " "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// summary is a scenario cgroup's end state in real.json.
func (g *group) summary(s cgroupSample) Cgroup {
	out := Cgroup{
		CgroupSummary: world.CgroupSummary{
			Path: g.path, CurrentPages: s.usageBytes >> 12, PeakPages: s.maxUsageBytes >> 12,
			SwapCurrentPages: s.swapBytes >> 12, EventsMax: s.failcnt, EventsOOMKill: s.oomKill,
		},
		Dir: g.dir, OOMControl: s.oom,
	}
	out.MemoryStat = s.stat
	if s.oom != nil { // cgroup v1
		out.MemoryStat, out.MemoryStatV1 = v2Stat(s.stat), s.stat
	}
	out.MemoryEvents = s.events
	if s.events == nil {
		out.MemoryEvents = map[string]int64{"max": s.failcnt, "oom_kill": s.oomKill}
	}
	out.EventsHigh, out.EventsOOM = out.MemoryEvents["high"], out.MemoryEvents["oom"]
	out.MemoryPressure = world.PressureSummary{SomeTotalUs: s.psi.Some.TotalUs, FullTotalUs: s.psi.Full.TotalUs}
	if p := g.plan; p != nil {
		out.MaxBytes, out.HighBytes, out.SwapMaxBytes = p.maxBytes, p.highBytes, p.swapMaxBytes
	}
	return out
}

// v2Name is the cgroup v2 memory.stat name of a cgroup v1 one: most are
// the same, some renamed; swap is no memory.stat line in v2 (it is
// memory.swap.current): "".
func v2Name(v1 string) string {
	switch v1 {
	case "rss":
		return "anon"
	case "cache":
		return "file"
	case "rss_huge":
		return "anon_thp"
	case "mapped_file":
		return "file_mapped"
	case "dirty":
		return "file_dirty"
	case "writeback":
		return "file_writeback"
	case "swap":
		return ""
	}
	return v1
}

// v2Stat is a cgroup v1 memory.stat in cgroup v2's terms: its
// hierarchical total_* lines under the v2 names, in bytes and counts as
// both print them. Lines v2 has no name for (pgpgin, pgpgout) keep
// theirs.
func v2Stat(v1 map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range v1 {
		if name, ok := strings.CutPrefix(k, "total_"); ok && v2Name(name) != "" {
			out[v2Name(name)] = v
		}
	}
	return out
}
