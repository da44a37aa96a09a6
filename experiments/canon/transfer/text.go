package transfer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// measured is one run at the largest node size, timed once by hand
// (`/usr/bin/time sbmpsim run` with the overrides the Cmd line prints,
// seed 1) on the development machine: 2 cores, 24 GiB of RAM, the other
// core idle (2026-12-07, after page state became sparse); and the same
// machine booted alone (the run stopped at 1 ms). Wall time and memory
// are not deterministic, so they are written here as measured rather
// than computed by the run.
var measured = struct {
	nodeMiB        int64
	wallS, maxRSSG float64
	bootRSSMiB     float64
	events         int64
}{nodeMiB: 32 << 10, wallS: 88.9, maxRSSG: 2.19, bootRSSMiB: 452, events: 527251675}

// sizeLabel formats a size in MiB as "512 MiB" or "2 GiB".
func sizeLabel(mib int64) string {
	if mib >= 1024 && mib%1024 == 0 {
		return strconv.FormatInt(mib/1024, 10) + " GiB"
	}
	return strconv.FormatInt(mib, 10) + " MiB"
}

// sizeList lists the points' node sizes.
func sizeList(pts []*point) string {
	s := make([]string, len(pts))
	for i, p := range pts {
		s[i] = sizeLabel(p.NodeMiB)
	}
	return strings.Join(s, ", ")
}

// seedList lists the points' seed counts.
func seedList(pts []*point) string {
	s := make([]string, len(pts))
	for i, p := range pts {
		s[i] = strconv.Itoa(p.Seeds())
	}
	return strings.Join(s, ", ")
}

// setFlags writes overrides as `--set` flags.
func setFlags(sets []string) string {
	return "--set " + strings.Join(sets, " --set ")
}

// keysOf lists the keys of overrides, each in backquotes.
func keysOf(sets []string) string {
	s := make([]string, len(sets))
	for i, o := range sets {
		k, _, _ := strings.Cut(o, "=")
		s[i] = "`" + k + "`"
	}
	return strings.Join(s, ", ")
}

// intro says what runs, what is scaled and what is not.
func intro(out *canon.Out, env *canon.Env, base *scenario.Scenario, pts []*point, nodes int, maxMiB int64) {
	last := pts[len(pts)-1]
	out.P("The default scenario (SPEC 1.3's OOM crisis: SBMP in the kernel on a two-socket machine, page-cache readers and databases beside socket 1's long-lived 256-byte sessions, %d s) at node sizes %s, with every memory size and every rate multiplied by the same k = node memory / %s, so that the load per MiB stays the same: %s. The experiment stops at %s in all, %s a node on this %d-node machine, for its cost: a run at k does about k times the base run's work. The kernel model itself holds machines up to %s, since it keeps page state only where memory has been used.",
		base.Run.DurationMs/1000, sizeList(pts), sizeLabel(pts[0].NodeMiB), keysOf(last.Sets), sizeLabel(maxMachineMiB), sizeLabel(maxMiB), nodes, sizeLabel(world.MaxModelledMiB))
	out.P("Not scaled, each for a reason: object sizes (a session is 256 bytes on any host), lifetimes and every duration (so that the time to an OOM kill compares across sizes), the Tier-0 slot sizes and per-CPU capacity and the CPUs themselves (a larger node of the same platform has the same cores, so each CPU serves k times the allocations), the Tier-1 block (a 2 MiB huge page on any x86 host), latencies and bandwidths (the same DRAM channels), and the sysctls. `Scale` (experiments/canon/transfer) does it for any scenario through `scenario.Set`, and its test checks that every memory- or rate-valued key of the default scenario is scaled and nothing else changes.")
	out.P("A run's events grow with k, so the seeds per size fall with it: ⌈%d / k⌉ but at least %d, that is %s seeds at %s. Each size is a sweep of its own on seeds 1 to N, run by the sweep engine and written beside the results as `%s.toml` to `%s.toml`, so that `sbmpsim sweep FILE --out DIR --shard I/N` does one size's runs apart, resumable and in shards, and its `sweep.json` holds the same numbers. An OOM is any OOM kill within the run.",
		pick(env.Quick, quickSeeds, fullSeeds), pick(env.Quick, quickFloor, fullFloor), seedList(pts), sizeList(pts), pts[0].Grid.Name, pts[len(pts)-1].Grid.Name)
	if env.Quick {
		late, kills := lateKills(pts, base.Run.DurationMs)
		out.P("This is the quick run: the first %d sizes and few seeds. It keeps the scenario's whole %d s, because the kills come late in a run (%d of the %d first kills here came in its second half), so a shorter run would miss most of them. The full run (`sbmpsim experiment run transfer`) has every size up to %s a node.",
			quickSizes, base.Run.DurationMs/1000, late, kills, sizeLabel(maxMiB))
	}
}

// lateKills counts the runs whose first OOM kill came in the second
// half of the run, and the runs with a kill.
func lateKills(pts []*point, durationMs int64) (late, kills int) {
	for _, p := range pts {
		for _, r := range p.Runs {
			if t := r.FirstOOMNs(); t >= 0 {
				kills++
				if 2*t > durationMs*1e6 {
					late++
				}
			}
		}
	}
	return late, kills
}

// pick is quick's value when quick, else full's.
func pick(quick bool, q, full int) int {
	if quick {
		return q
	}
	return full
}

// victims counts the first OOM victims of runs by name, most first.
func victims(runs []world.Summary) string {
	n := map[string]int{}
	for _, r := range runs {
		if t := r.FirstOOMNs(); t >= 0 {
			for _, e := range r.OOMEvents {
				if e.TimeNs == t {
					n[e.VictimComm]++
					break
				}
			}
		}
	}
	names := make([]string, 0, len(n))
	for k := range n {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		return n[names[i]] > n[names[j]] || n[names[i]] == n[names[j]] && names[i] < names[j]
	})
	s := make([]string, len(names))
	for i, k := range names {
		s[i] = fmt.Sprintf("%s × %d", k, n[k])
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// medianText formats a Kaplan-Meier median or limit: "> T" when the
// curve never got there.
func medianText(ns int64, reached bool) string {
	if !reached {
		return "> " + strconv.FormatFloat(float64(ns)/1e9, 'f', -1, 64)
	}
	return canon.Fixed(float64(ns)/1e9, 2)
}

// pointTable tabulates every size and writes transfer.csv.
func pointTable(out *canon.Out, pts []*point) {
	var rows, csv [][]string
	for _, p := range pts {
		r, f := p.Report, p.Report.FirstOOM
		fails, fb := p.mean(failures), p.mean(fallbacks)
		rows = append(rows, []string{sizeLabel(p.NodeMiB), canon.Fixed(p.K, 0), strconv.Itoa(p.Seeds()), fmt.Sprintf("%d / %d", r.OOMRuns, r.Runs), canon.Fixed(r.OOMProbability, 2),
			fmt.Sprintf("[%s, %s]", canon.Fixed(r.OOMCI95Wilson[0], 2), canon.Fixed(r.OOMCI95Wilson[1], 2)), medianText(f.MedianNs, f.MedianReached),
			fmt.Sprintf("[%s, %s]", medianText(f.CI95LoNs, f.CI95LoReached), medianText(f.CI95HiNs, f.CI95HiReached)), victims(p.Runs),
			canon.Fixed(fails, 0), canon.Fixed(fails/p.K, 1), canon.Fixed(fb, 0), canon.Fixed(fb/p.K, 0)})
		csv = append(csv, []string{strconv.FormatInt(p.NodeMiB, 10), canon.Fixed(p.K, 0), strconv.Itoa(p.Seeds()), strconv.Itoa(r.OOMRuns), strconv.Itoa(r.Runs),
			canon.Fixed(r.OOMProbability, 4), canon.Fixed(r.OOMCI95Wilson[0], 4), canon.Fixed(r.OOMCI95Wilson[1], 4),
			canon.Fixed(float64(f.MedianNs)/1e9, 3), strconv.FormatBool(f.MedianReached), canon.Fixed(float64(f.CI95LoNs)/1e9, 3), strconv.FormatBool(f.CI95LoReached),
			canon.Fixed(float64(f.CI95HiNs)/1e9, 3), strconv.FormatBool(f.CI95HiReached),
			canon.Fixed(fails, 2), canon.Fixed(fails/p.K, 2), canon.Fixed(fb, 1), canon.Fixed(fb/p.K, 1),
			canon.Fixed(p.mean(scanned)/p.K, 1), canon.Fixed(p.mean(refaults)/p.K, 1), canon.Fixed(p.mean(directReclaims)/p.K, 1), canon.Fixed(p.mean(events), 0), r.RunsDigest})
	}
	out.CSV("transfer", []string{"node_mib", "k", "seeds", "oom_runs", "runs", "p_oom", "wilson_lo", "wilson_hi",
		"km_median_first_oom_s", "km_median_reached", "km_ci95_lo_s", "km_ci95_lo_reached", "km_ci95_hi_s", "km_ci95_hi_reached",
		"mean_alloc_failures", "mean_alloc_failures_per_k", "mean_fallback_to_tier2", "mean_fallback_to_tier2_per_k",
		"mean_pgscan_per_k", "mean_workingset_refault_file_per_k", "mean_direct_reclaims_per_k", "mean_events", "runs_digest"}, csv)
	out.Table("transfer-points", "Per node size, seeds 1 to N: the OOM probability with its 95 % Wilson interval, the Kaplan-Meier median time to the first OOM kill with its 95 % Brookmeyer-Crowley interval (\"> T\": not reached within the run), who was killed first, and the means per run of failed allocations and fallbacks to Tier-2, raw and divided by k",
		[]string{"node memory", "k", "seeds", "OOM runs", "P(OOM)", "95 % Wilson", "median first OOM (s)", "95 % CI (s)", "first victims", "alloc failures", "/ k", "fallback_to_tier2", "/ k"}, rows)
}

// conclusions says from which size on each outcome stops changing, and
// how the failures and fallbacks per unit of load move.
func conclusions(out *canon.Out, pts []*point) {
	if len(pts) < 2 {
		return
	}
	var wil, km []interval
	for _, p := range pts {
		wil, km = append(wil, wilson(p.Report)), append(km, firstOOMInterval(p.Report))
	}
	first, last := pts[0], pts[len(pts)-1]
	out.P("When a result stops changing with size is defined here as the smallest size from which the 95 %% interval of every size up to the largest run overlaps the largest size's interval. Overlap is a weak test: with few seeds the intervals are wide and overlap easily, so this says from where no change can be seen at these seed counts, not that there is none. P(OOM) %s. The median time to the first OOM kill %s.",
		stableText(pts, wil), stableText(pts, km))
	perK := func(p *point, get func(world.Summary) float64) float64 { return p.mean(get) / p.K }
	ratio := func(get func(world.Summary) float64) string {
		a, b := perK(first, get), perK(last, get)
		if a == 0 {
			return "none at the smallest size"
		}
		return "× " + strconv.FormatFloat(b/a, 'g', 3, 64)
	}
	move := func(get func(world.Summary) float64, prec int) string {
		return fmt.Sprintf("from %s at %s to %s at %s (%s)", canon.Fixed(perK(first, get), prec), sizeLabel(first.NodeMiB), canon.Fixed(perK(last, get), prec), sizeLabel(last.NodeMiB), ratio(get))
	}
	out.P("What the allocator fails instead, per run and per unit of k: failed allocations go %s, fallbacks to Tier-2 %s. A result that carries over would keep these flat.",
		move(failures, 1), move(fallbacks, 0))
	out.P("Reclaim, per run and per unit of k, shows whether the kernel meets the same pressure at every size: pages scanned (kswapd and direct) go %s, page-cache refaults %s, direct reclaims %s.",
		move(scanned, 0), move(refaults, 0), move(directReclaims, 1))
}

// stableText says where one quantity stops changing.
func stableText(pts []*point, ivs []interval) string {
	i := stableFrom(ivs)
	last := pts[len(pts)-1]
	switch {
	case i == 0:
		return fmt.Sprintf("does not change detectably: every size's interval overlaps that at %s", sizeLabel(last.NodeMiB))
	case i == len(pts)-1:
		return fmt.Sprintf("is still changing at the largest size run: the interval at %s does not overlap that at %s", sizeLabel(pts[i-1].NodeMiB), sizeLabel(last.NodeMiB))
	}
	return fmt.Sprintf("stops changing from %s on: from there every size's interval overlaps that at %s, while the one at %s does not", sizeLabel(pts[i].NodeMiB), sizeLabel(last.NodeMiB), sizeLabel(pts[i-1].NodeMiB))
}

// costText says how a run's cost grows with k, and what a run at the
// largest size measured.
func costText(out *canon.Out, env *canon.Env, pts []*point, nodes int) {
	first, last := pts[0], pts[len(pts)-1]
	ev0, ev1 := first.mean(events), last.mean(events)
	baseMiB := float64(first.NodeMiB) / first.K
	simGiB := float64(int64(nodes)*measured.nodeMiB) / 1024
	where := "they are the largest size of the full run"
	if env.Quick {
		where = "the quick run stops below that size"
	}
	out.P("Cost: a run's events grow with k, × %s from %s to %s (k × %s; %s events per run at %s). One run at %s a node (k = %s, seed 1, %d events) was timed once on a 2-core machine with 24 GiB of RAM, the other core idle: %s s of wall time and %s GiB of peak resident memory, about %s MiB for each of the %s simulated GiB, of which the machine and its workloads booted alone take %s MiB (almost all of it the page slots of the readers' files, 32 bytes a page of file, made when a file is declared; the kernel model keeps a byte a page of the machine and the rest of a page's state only once the page is used) and the rest is the memory the run uses and its live objects, the sessions never freed; so two workers at that size take about %s GiB and fit. Wall time and memory are not part of the deterministic outputs: they were measured once and are written here as measured; %s.",
		canon.Fixed(ev1/ev0, 1), sizeLabel(first.NodeMiB), sizeLabel(last.NodeMiB), canon.Fixed(last.K/first.K, 0), canon.Fixed(ev1, 0), sizeLabel(last.NodeMiB),
		sizeLabel(measured.nodeMiB), canon.Fixed(float64(measured.nodeMiB)/baseMiB, 0), measured.events,
		canon.Fixed(measured.wallS, 1), canon.Fixed(measured.maxRSSG, 2), canon.Fixed(measured.maxRSSG*1024/simGiB, 0), canon.Fixed(simGiB, 0), canon.Fixed(measured.bootRSSMiB, 0), canon.Fixed(2*measured.maxRSSG, 1), where)
}
