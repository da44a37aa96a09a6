package validate

import (
	"embed"
	"fmt"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
)

// caseFiles holds the cases' scenarios, cases/NAME.toml: plain scenario
// TOML without [machine] (the host's is used) and without a seed (the
// suite gives seeds 1..runs). Each opens with a comment saying what it
// tests, why the dynamics decide its outcome, and why a production host
// would see it.
//
//go:embed cases/*.toml
var caseFiles embed.FS

// Case is one real-vs-simulation comparison: a scenario, the metrics
// compared and each metric's tolerance.
//
// THE TOLERANCES ARE WRITTEN BEFORE THE CASE IS FIRST RUN AND ARE NEVER
// WIDENED TO MAKE IT PASS. A case that misses stays a miss, and the
// mechanism that explains the miss is written down (in Misses, once
// known); the git history of this file is the record that each
// tolerance came before the case's first real run. To change a
// tolerance for a reason other than a result (a metric redefined, a
// unit fixed), say why in the commit.
type Case struct {
	// Name is the case's name and its scenario's file name (without
	// .toml) under cases/.
	Name string
	// Title says what is compared, in a few words.
	Title string
	// Checks are the metrics compared, in table order, each with its
	// tolerance.
	Checks []Check
	// NeedsMemoryHigh: the scenario sets memory.high, which cgroup v1
	// does not have; on such a host the real runs are skipped.
	NeedsMemoryHigh bool
	// NeedsSimModel names a model the simulation must report (in
	// summary.json's "models") to simulate the case faithfully; without
	// it the case is "not yet simulated", a miss with that reason.
	NeedsSimModel string
	// Misses explains, per metric, the mechanism behind a miss once one
	// has been measured and understood (the table prints it). It never
	// changes a verdict.
	Misses map[MetricID]string
}

// Check is one metric of a case and its tolerance.
type Check struct {
	Metric MetricID
	Tol    Tolerance
}

// Tolerance is how far a simulated value may be from the real one: it
// passes when the relative error is within Rel or the absolute error
// within Abs (in the metric's unit); a zero bound does not pass
// anything. Exact metrics (the victim) must be equal.
type Tolerance struct {
	Rel float64 `json:"rel,omitempty"`
	Abs float64 `json:"abs,omitempty"`
}

// The tolerances the issue sets for every case (its acceptance): time to
// the first OOM kill within 10 %; anon and file at the kill within 15 %
// or 16 MiB.
var (
	tolFirstOOM = Tolerance{Rel: 0.10}
	tolAtKill   = Tolerance{Rel: 0.15, Abs: 16}
)

// The tolerances of the dynamic metrics, chosen before any case ran for
// real, from what the model is and is not:
//   - pages scanned, 50 % or 16 MiB: scanning is where the model
//     simplifies most (batch sizes, priorities, the active list's
//     ageing), and small scans are dominated by them;
//   - pages stolen and swapped out, 30 % or 16 MiB: reclaim must free
//     what the growth takes, whatever the route, so the totals are
//     tighter than the scans;
//   - refaults, 30 % or 10 MiB: refault detection follows Linux's
//     shadow entries, but which pages are evicted first differs;
//   - memory stall (PSI some and full), 50 % or 100 ms: the real figure
//     is the whole host's and includes other tasks' stalls, the disk's
//     latency varies from read to read, and the model charges a fixed
//     mean read time;
//   - thrash duration, 20 % or 0.5 s: it starts at a threshold crossing
//     that sampling places within a 250 ms window on each side;
//   - THP faults and fallbacks, 20 % or 4 and 30 % or 4: counted per
//     2 MiB block, so a few blocks are a large share of a small count.
var (
	tolScan     = Tolerance{Rel: 0.50, Abs: 4096}
	tolSteal    = Tolerance{Rel: 0.30, Abs: 4096}
	tolRefault  = Tolerance{Rel: 0.30, Abs: 2560}
	tolStall    = Tolerance{Rel: 0.50, Abs: 100}
	tolThrash   = Tolerance{Rel: 0.20, Abs: 0.5}
	tolTHPAlloc = Tolerance{Rel: 0.20, Abs: 4}
	tolTHPFall  = Tolerance{Rel: 0.30, Abs: 4}
)

// The mechanisms behind the misses measured on the host this suite was
// written on (Linux 6.18, cgroup v1, 2 CPUs; `sbmpsim validate real
// --runs 5`, 2026-12-06). They are explanations, not excuses: the
// verdicts stay misses, and each names what in the model would have to
// change. The figures they quote are diagnostics measured apart from
// the suite's runs (traces, probes, single simulations), so that they do
// not change with each run of it.
const (
	// Swap traffic: half of it explained by the host's reclaim cost,
	// measured and not adopted; what was fixed and ruled out.
	whySwapTraffic = "the simulated app swaps out and back in about 1.5 times the pages the real one does, all of it in the last 5 s, when both apps are at the memory limit and sweep all their memory every second: there, in a traced run, the real app swaps in about 29k pages a second (4.5k major faults of 6.3 pages) and the simulated one about 61k (8k of 7.6). Both are bound by the time a fault takes: traced on the host (sched:sched_switch, 2026-12-08), the real app's thread ran 0.40-0.47 s and waited on I/O 0.51-0.59 s in each of four of those seconds and slept at most 0.05 s. A real major fault takes about 220 us there, the model's at most 125 us. Measured parts of the real one: the wait for the read, 122 us, where the disk's 32 KiB read takes 84 us (block trace of session 11) and the model charges 85 us (62.4 + 7 x 3.3 from the probe beside the runs), so about 38 us more; most of it is the wake-up on CPU 0 after the disk's interrupt on CPU 1, not modelled (measured directly, 4 KiB O_DIRECT reads took 82-87 us from CPU 0 against 59-63 us from CPU 1); the app's own memcg reclaim, about 50 us a fault (tracepoints vmscan:mm_vmscan_memcg_reclaim_begin/end: 1.27 s in 4,029 calls over 24k major faults); and about 48 us of other CPU time a fault (7.6 us a page swapped in), where the model charges 1.7 us a page read and 1.5 us a mapping fault, measured outside a memory limit. Inside reclaim, a regression over 5,957 traced reclaim calls (R2 0.79) gives 141 us a call, 6.2 us a page written and 0.9 us an anonymous page scanned and kept, where the model charges nothing a call, 2.4 us a page written (SwapOutNsPerPage, measured with madvise(MADV_PAGEOUT)) and 0.1 us a page scanned (ScanNsPerPage, an assumption); slab shrinking took 4 ms of it in all and the reclaimers slept 1 ms. A page written took 3.2 us when reclaim did not first flush another CPU's TLB and 16.8 us when it did (tracepoints vmscan:mm_vmscan_write_folio and ipi:ipi_send_cpu; try_to_unmap_flush_dirty before pageout, mm/vmscan.c): the reader, on CPU 1, reclaims the app's pages while the app runs on CPU 0 (about 12k such interrupts a run), which the model does not charge either. Not adopted: these costs come from one case on one host, a call's fixed cost and the per-fault CPU under a limit are not yet measured apart from the swap-in path, and each changes every notebook with swap; the suite would need a per-run record of reclaim time to judge them. Earlier statements withdrawn: session 11 put half of the gap on the cost of a page reclaimed (10.8 us); most of that is the per-call cost and the TLB interrupts, which then also came from the app's own Go runtime threads on the other CPU (75,769 from the app's own reclaim in one run; the app is now pinned whole, which cut them to 55 and the cgroup's reclaim time from 2.85 to 1.89 s, and the real swap-out rose from 177k to 205k pages, medians of five runs: the app's time decides its swap traffic). Fixed on the way: the real reader counted its misses with preadv2(RWF_NOWAIT), whose readahead Linux runs under memalloc_noio_save (mm/filemap.c, filemap_get_pages), so its memcg reclaim was GFP_NOIO and could not swap (1,759 of 1,759 traced runs); it now uses cachestat(2). Ruled out by measurement: reads slowed by the swap writes on the shared disk (4 KiB reads took 88 us beside 1 GB/s of 128 KiB writes, 79 us alone), writes met in flight (cgroup v1's reclaim waits for them, shrink_folio_list's case 3, now modelled; the traced run met 1), reclaim throttling (vmscan:mm_vmscan_throttled: none), the disk's drift (measured beside the runs) and other work on the host (at most 0.25 CPUs, waited for)"

	// Refaults above the bound once the disk is the host's.
	whyRefaultExcess = "the refaults are the reads the reader makes while its hot set no longer fits, in the last seconds before the kill. Part of the excess was the disk: with the model's default 63 us read it was +48 % and +60 % in cache-anon-swappiness0 (two suite runs on the same day), +43 % and +81 % in thrash-hot-cache and +20 % and +32 % in two-tasks-adj; with the disk measured beside the runs (about 74 us) it was +36 %, +34 % and +31 %. Part is the kill: the simulated one comes 0.1 to 0.3 s later, when the reader refaults some 15k pages a second (cache-anon-swappiness0: about 1.7k of its 5k). The rest is not explained. Measured and not adopted: a page-cache miss in a cgroup at its limit takes 6.5 us longer than in an unlimited one (pairs of reads, four runs of 5,000: 8.0, 5.2, 4.8, 7.8 us), against the model's 0.6 us of reclaim (ScanNsPerPage and DropFileNsPerPage, assumptions); charged as reclaim it moves the simulated refaults by -9 % to +4 % but lifts the simulated PSI far above the host's (cache-anon-swappiness0 some 564 against about 310 ms), so most of that time is not reclaim under PSI, and which part is was not measured"
)

// whyFullEqualsSome: the model's PSI full equals its some.
const whyFullEqualsSome = "in the model full equals some on a CPU whose only task stalls, and each case puts one task on a CPU (world/psi.go); on the host something else sometimes runs on that CPU while the task stalls (not traced), so full is 96-98 % of some in the pinned runs (it was 81-88 % unpinned)"

// oomChecks are the checks of every case that expects an OOM kill.
func oomChecks() []Check {
	return []Check{
		{FirstOOM, tolFirstOOM}, {Victim, Tolerance{}},
		{AnonAtKill, tolAtKill}, {FileAtKill, tolAtKill},
	}
}

// Cases returns the suite's cases in table order.
func Cases() []Case {
	return []Case{
		{
			Name: "cache-anon-swappiness0", Title: "page cache against anon, swappiness 0, no swap",
			Checks: append(oomChecks(), Check{Scanned, tolScan}, Check{Stolen, tolSteal}, Check{Refaults, tolRefault},
				Check{StallSome, tolStall}, Check{StallFull, tolStall}, Check{Thrash, tolThrash}),
			Misses: map[MetricID]string{
				Refaults:  whyRefaultExcess,
				StallFull: whyFullEqualsSome,
			},
		},
		{
			Name: "cache-anon-swappiness60", Title: "page cache against anon, swappiness 60, swap file",
			Checks: append(oomChecks(), Check{Scanned, tolScan}, Check{Stolen, tolSteal}, Check{SwappedOut, tolSteal},
				Check{Refaults, tolRefault}, Check{StallSome, tolStall}, Check{StallFull, tolStall}),
			Misses: map[MetricID]string{
				AnonAtKill: whySwapTraffic,
				Scanned:    whySwapTraffic,
				Stolen:     whySwapTraffic,
				SwappedOut: whySwapTraffic,
				Refaults:   whySwapTraffic,
				StallSome:  whySwapTraffic,
				StallFull:  whySwapTraffic + "; and the model's full equals its some (world/psi.go)",
			},
		},
		{
			Name: "two-tasks-adj", Title: "two tasks, sizes and oom_score_adj: the victim",
			Checks: append(oomChecks(), Check{Scanned, tolScan}, Check{Stolen, tolSteal}, Check{Refaults, tolRefault}),
			Misses: map[MetricID]string{
				Refaults: whyRefaultExcess,
			},
		},
		{
			Name: "three-tasks-adj", Title: "three tasks, sizes and oom_score_adj: the victim",
			Checks: append(oomChecks(), Check{StallSome, tolStall}),
		},
		{
			Name: "thrash-hot-cache", Title: "hot page cache thrashing beside growing anon",
			Checks: append(oomChecks(), Check{Scanned, tolScan}, Check{Stolen, tolSteal}, Check{Refaults, tolRefault},
				Check{StallSome, tolStall}, Check{StallFull, tolStall}, Check{Thrash, tolThrash}),
			Misses: map[MetricID]string{
				Refaults:  whyRefaultExcess,
				Stolen:    "the pages stolen are mostly the refaulting reader's, evicted again: " + whyRefaultExcess,
				StallFull: whyFullEqualsSome,
			},
		},
		{
			Name: "thp-madvise", Title: "madvised huge-page faults near the limit",
			Checks: append([]Check{{THPAlloc, tolTHPAlloc}, {THPFallback, tolTHPFall}}, oomChecks()...),
			// The simulation's THP fault model (madvise, fallback to base
			// pages, compaction) reports itself as "thp".
			NeedsSimModel: "thp",
		},
		{
			Name: "mlock", Title: "mlocked memory beside swappable anon and page cache",
			Checks: append(oomChecks(), Check{Scanned, tolScan}, Check{Stolen, tolSteal}, Check{SwappedOut, tolSteal},
				Check{Refaults, tolRefault}, Check{StallSome, tolStall}),
		},
		{
			Name: "memory-high", Title: "memory.high throttling below memory.max",
			Checks: []Check{{FirstOOM, tolFirstOOM}, {AnonAtKill, tolAtKill}, {FileAtKill, tolAtKill},
				{Scanned, tolScan}, {Refaults, tolRefault}, {StallSome, tolStall}, {StallFull, tolStall}},
			NeedsMemoryHigh: true,
		},
		{
			Name: "sbmp-arena-limit", Title: "the SBMP heap leaking under a limit",
			Checks: append(oomChecks(), Check{THPAlloc, tolTHPAlloc}, Check{StallSome, tolStall}),
		},
	}
}

// LookupCase returns the case called name.
func LookupCase(name string) (Case, bool) {
	for _, c := range Cases() {
		if c.Name == name {
			return c, true
		}
	}
	return Case{}, false
}

// CaseNames returns the names of the cases in table order.
func CaseNames() []string {
	var out []string
	for _, c := range Cases() {
		out = append(out, c.Name)
	}
	return out
}

// SelectCases returns the cases named, in table order, or every case
// when names is empty. An unknown name is an error that lists the known
// ones (with the closest as a suggestion).
func SelectCases(names []string) ([]Case, error) {
	all := Cases()
	if len(names) == 0 {
		return all, nil
	}
	known := CaseNames()
	for _, n := range names {
		if !slices.Contains(known, n) {
			hint := ""
			if c := tomlfile.Closest(n, known); c != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", c)
			}
			return nil, fmt.Errorf("no validation case %q%s; the cases are %s", n, hint, strings.Join(known, ", "))
		}
	}
	var out []Case
	for _, c := range all {
		if slices.Contains(names, c.Name) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Source is the case's scenario file as errors name it.
func (c *Case) Source() string { return "experiments/validate/cases/" + c.Name + ".toml" }

// text returns the case's scenario TOML.
func (c *Case) text() ([]byte, error) {
	b, err := caseFiles.ReadFile("cases/" + c.Name + ".toml")
	if err != nil {
		return nil, fmt.Errorf("validation case %s: %w", c.Name, err)
	}
	return b, nil
}
