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
// --runs 5`, 2026-12-06; the figures quoted are medians of those runs).
// They are explanations, not excuses: the verdicts stay misses, and each
// names what in the model would have to change.
const (
	// Swap traffic: not explained yet; what was ruled out and what differs.
	whySwapTraffic = "the simulated app swaps out and back in about twice the pages the real one does. Not explained yet. Ruled out: cgroup v1's swap-cache rule (modelled, kernel.cgroup_version = 1: the simulated swapcached ends at 184 MiB against the host's 211 MiB, sampled every second, and the traffic did not change), the scan count (here the model scans as many pages) and the assumed scan cost (0.5 or 1 us a page instead of 0.1 leaves the writes at 342k-350k). What differs: the simulated reclaim activates about twice as many pages (156k against 74k), and holds about 50 MiB more of the app's memory mapped (the host's memory.stat shows that much anon on the LRU lists that no task maps). With the app alone in the cgroup (one run each) the model writes 394k pages against 206k while stealing (203k against 181k) and reading back (179k against 172k) about as many: it writes pages the sweep maps back before they are freed; there 788k of its 867k activations are pages met while their write is in flight, which the host's reclaim never met (nr_writeback 0 in all 4,174 runs traced with mm_vmscan_lru_shrink_inactive). Not modelled yet: the block plug's flushes and a device that overlaps requests"
	// A refault count near its bound, seen on one of three suite runs.
	whyRefaultSpread = "the simulated reader refaults 23,134 pages in every run; the real medians of three suite runs on the same host and day were 18,666, 20,829 and 17,697, so the error was +24 %, +11 % and +31 % against a 30 % bound: the real spread between runs of the suite is as large as the margin. No mechanism for the simulated excess was isolated (which page-cache pages the two evict first differs; see thrash-hot-cache)"
	// PSI: the simulated stall is higher, and "full" equals "some".
	whyStallPerRefault = "the simulated stall is higher: 16 % more refaults (52,755 against 45,336; which pages are evicted first differs) and more stall per refault (15.8 against 12.6 us of some per refault), so some is +45 %, just inside its bound; in the model full equals some, since its tasks sleep between ticks and are idle to PSI (world/psi.go), where the real full is 94 % of some (real tasks spend CPU between stalls); the two add up to +55 %"
)

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
				Refaults: whyRefaultSpread,
			},
		},
		{
			Name: "cache-anon-swappiness60", Title: "page cache against anon, swappiness 60, swap file",
			Checks: append(oomChecks(), Check{Scanned, tolScan}, Check{Stolen, tolSteal}, Check{SwappedOut, tolSteal},
				Check{Refaults, tolRefault}, Check{StallSome, tolStall}, Check{StallFull, tolStall}),
			Misses: map[MetricID]string{
				AnonAtKill: whySwapTraffic,
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
				StallFull: whyStallPerRefault,
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
