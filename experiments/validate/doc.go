// Package validate is the sim-to-real suite: a set of cases, each a
// scenario confined to a memory cgroup, run for real on this host
// (experiments/real) and simulated (experiments/world) with the same
// scenario and seeds, on this host's machine and kernel settings (the
// fragment `sbmpsim import host` prints, with the case's own [kernel]
// keys over it). The kernel of the machine the suite runs on is the
// oracle for the dynamics the model claims: how fast memory fills, what
// reclaim takes first, how long a thrash lasts, when and whom the OOM
// killer kills.
//
// Per case and metric it reports both sides' spread over the runs
// (median, min, max), the error of the simulated median against the real
// one (relative, and absolute in the metric's unit), the tolerance, and
// a verdict: pass, miss (with the reason and, once understood, the
// mechanism), or skipped (what this host cannot run: memory.high on
// cgroup v1). The tolerances live in cases.go; they were written before
// each case's first real run and are never widened (the git history is
// the record). Run is the suite, Out its report: validation.json
// (Schema), a summary table (Markdown and an HTML section of the
// notebooks-out report) and a timeline figure per case.
//
// Real runs measure the whole host (/proc/vmstat and
// /proc/pressure/memory are machine-wide), so the suite runs them one at
// a time, and experiments/real keeps any two real runs on one host from
// overlapping. Other work on the host changes them too: Linux averages
// its PSI over the CPUs weighted by each CPU's non-idle time, so a CPU
// busy with something else dilutes the stall figures. Before each real
// run the suite waits (up to a minute) for a quiet host, and each run
// records how busy the host was besides the run (real.HostCPU); a stall
// figure that misses on a busy host says so (quiet.go). Nothing here is
// deterministic but the simulated half.
package validate
