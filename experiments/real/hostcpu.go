package real

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// This file measures how busy the host's CPUs were with work that is not
// the run's. It matters for the memory stall figures: /proc/pressure/memory
// is the whole host's, and Linux averages it over the CPUs weighted by
// each CPU's non-idle time (kernel/sched/psi.c, collect_percpu_times), so
// a CPU kept busy by another process, with no task of its own stalled,
// dilutes "some" and "full" although no stall of the run changed.
// Measured on this project's 2-CPU host (the sim-to-real suite's cases
// with a process spinning beside them, 3 runs each): PSI some fell from
// 281 to 158 ms in cache-anon-swappiness0 and from 571 to 324 ms in
// thrash-hot-cache, while every other metric stayed within its tolerance.

// userHZ is the unit of /proc/stat and /proc/PID/stat times: USER_HZ,
// which Linux fixes at 100 for user space on every architecture
// (include/asm-generic/param.h; proc(5): "clock ticks").
const userHZ = 100

// HostCPU is how busy the host's CPUs were over a real run, in CPUs (CPU
// seconds a second). Busy is the CPUs' time less their idle and iowait
// time in /proc/stat's "cpu" line: with NO_HZ those two are the
// scheduler's own measure of idleness (fs/proc/stat.c, get_idle_time and
// get_iowait_time read get_cpu_idle_time_us), where user and system are
// sampled at the tick (CONFIG_TICK_CPU_ACCOUNTING, this host's) and miss
// short bursts: summed over a run of the suite they came to a quarter
// less than the run's own processes' times. Ours is the run's processes'
// and the runner's utime and stime (scaled to the scheduler's runtime,
// cputime_adjust), and Others the rest: other processes, kernel threads
// (among them the kworkers that write back or read for the run) and
// interrupts, so a quiet host shows a little.
type HostCPU struct {
	CPUs   int     `json:"cpus"`
	WallNs int64   `json:"wall_ns"`
	Busy   float64 `json:"busy_cpus"`
	Ours   float64 `json:"ours_cpus"`
	Others float64 `json:"others_cpus"`
}

// cpuMeter accumulates a HostCPU over a run, from its start to its
// latest sample: the host's idle and iowait ticks and the runner's
// rusage at both,
// and each worker's CPU time from its first to its latest sample (a
// worker's time after its last sample, at most a sampling interval
// before it died, counts as others').
type cpuMeter struct {
	t0, t1       time.Time
	idle0, idle1 int64 // ticks
	cpus         int   // the CPUs /proc/stat lists, at the latest sample
	self0, self1 int64 // ns
	workers      map[int][2]int64
	err          error
}

func newCPUMeter() *cpuMeter {
	m := &cpuMeter{t0: time.Now(), workers: map[int][2]int64{}}
	m.idle0, m.cpus, m.err = readHostIdleTicks()
	m.self0 = selfCPUNs()
	m.t1, m.idle1, m.self1 = m.t0, m.idle0, m.self0
	return m
}

// sample takes the host's and the runner's times now, and each of pids'.
func (m *cpuMeter) sample(pids []int) {
	if m == nil || m.err != nil {
		return
	}
	for _, pid := range pids {
		t, err := readPidTicks(pid)
		if err != nil {
			continue // gone: its last reading stands
		}
		w, ok := m.workers[pid]
		if !ok {
			w[0] = t
		}
		w[1] = t
		m.workers[pid] = w
	}
	idle, cpus, err := readHostIdleTicks()
	if err != nil {
		m.err = err
		return
	}
	m.t1, m.idle1, m.cpus, m.self1 = time.Now(), idle, cpus, selfCPUNs()
}

// result is the meter's HostCPU up to its latest sample (nil when
// /proc/stat could not be read or no time has passed).
func (m *cpuMeter) result() *HostCPU {
	if m == nil || m.err != nil || !m.t1.After(m.t0) {
		return nil
	}
	wall := m.t1.Sub(m.t0)
	var workerTicks int64
	for _, w := range m.workers {
		workerTicks += w[1] - w[0]
	}
	ours := float64(m.self1-m.self0)/1e9 + float64(workerTicks)/userHZ
	s := wall.Seconds()
	busy := max(0, float64(m.cpus)*s-float64(m.idle1-m.idle0)/userHZ)
	return &HostCPU{CPUs: m.cpus, WallNs: int64(wall), Busy: busy / s, Ours: ours / s, Others: max(0, busy-ours) / s}
}

// OthersBusy measures, over d, how many CPUs' worth of task time the
// host spent on work that is not this process's: a quiet host, before a
// real run, shows almost none.
func OthersBusy(ctx context.Context, d time.Duration) (float64, error) {
	m := newCPUMeter()
	if m.err != nil {
		return 0, m.err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-t.C:
	}
	m.sample(nil)
	r := m.result()
	if r == nil {
		return 0, fmt.Errorf("host CPU: /proc/stat could not be read")
	}
	return r.Others, nil
}

func selfCPUNs() int64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func readHostIdleTicks() (idle int64, cpus int, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseStatIdleTicks(string(b))
}

func readPidTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parsePidStatTicks(string(b))
}

// parseStatIdleTicks returns idle + iowait of /proc/stat's first line,
// "cpu  user nice system idle iowait irq softirq steal ...", which sums
// them over the CPUs that the "cpuN" lines after it list, and how many
// those are: the online CPUs, whatever this process's affinity.
func parseStatIdleTicks(text string) (idle int64, cpus int, err error) {
	if len(text) > maxReportBytes {
		return 0, 0, fmt.Errorf("/proc/stat: %d bytes: more than it has", len(text))
	}
	lines := strings.Split(text, "\n")
	f := strings.Fields(lines[0])
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: line 1: want \"cpu user nice system idle iowait ...\", got %q", truncate(lines[0], 80))
	}
	for i, name := range []string{"idle", "iowait"} {
		v, err := strconv.ParseInt(f[4+i], 10, 64)
		if err != nil || v < 0 {
			return 0, 0, fmt.Errorf("/proc/stat: line 1: %s %q is not a count of ticks", name, f[4+i])
		}
		idle += v
	}
	if idle < 0 {
		return 0, 0, fmt.Errorf("/proc/stat: line 1: ticks overflow")
	}
	for _, l := range lines[1:] {
		if rest, ok := strings.CutPrefix(l, "cpu"); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			cpus++
		}
	}
	if cpus == 0 {
		return 0, 0, fmt.Errorf("/proc/stat: no \"cpuN\" line after line 1")
	}
	return idle, cpus, nil
}

// parsePidStatTicks returns utime + stime of a /proc/PID/stat line:
// "pid (comm) state ppid ...", utime and stime the 14th and 15th fields
// (proc(5)). comm may hold spaces and parentheses, so the fields are
// counted from the last ')'.
func parsePidStatTicks(text string) (int64, error) {
	if len(text) > maxReportBytes {
		return 0, fmt.Errorf("stat: %d bytes: more than a task's stat has", len(text))
	}
	i := strings.LastIndexByte(text, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no \"(comm)\" in %q", truncate(text, 80))
	}
	f := strings.Fields(text[i+1:])
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after comm, want at least 13", len(f))
	}
	var sum int64
	for _, n := range []int{14, 15} {
		v, err := strconv.ParseInt(f[n-3], 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("stat: field %d %q is not a count of ticks", n, f[n-3])
		}
		sum += v
	}
	if sum < 0 {
		return 0, fmt.Errorf("stat: ticks overflow")
	}
	return sum, nil
}
