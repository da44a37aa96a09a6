package world

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

func mustParse(t *testing.T, src string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Parse("test.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	return sc
}

const oneWorkload = `
[run]
duration_ms = 20000
[[workload]]
name = "a"
cpus = "0-3"
rate_per_s = 100000
lifetime_mean_ms = 10
`

// TestLittlesLaw: Poisson arrivals at rate lambda with exponential
// lifetimes of mean L keep lambda*L objects live on average.
func TestLittlesLaw(t *testing.T) {
	skipUnderRace(t)
	res, err := runPlain(mustParse(t, oneWorkload))
	if err != nil {
		t.Fatal(err)
	}
	const want = 100000 * 0.010
	got := res.Summary.ObjectsLiveTimeAvg
	t.Logf("objects_live_time_avg = %.2f, lambda*L = %.0f", got, want)
	if math.Abs(got-want)/want > 0.02 {
		t.Fatalf("objects_live_time_avg = %.1f, lambda*L = %.0f", got, want)
	}
	s := res.Summary
	if s.Allocs-s.Frees != uint64(s.ObjectsLiveEnd) || s.BytesRequestedLiveEnd != 64*s.ObjectsLiveEnd {
		t.Fatalf("allocs %d - frees %d != live %d, or bytes %d != 64 * live", s.Allocs, s.Frees, s.ObjectsLiveEnd, s.BytesRequestedLiveEnd)
	}
}

// TestWorkloadsDrawIndependently: adding a workload must not change the
// draws, and so the counts, of another.
func TestWorkloadsDrawIndependently(t *testing.T) {
	skipUnderRace(t)
	alone, err := runPlain(mustParse(t, oneWorkload))
	if err != nil {
		t.Fatal(err)
	}
	withB, err := runPlain(mustParse(t, oneWorkload+`
[[workload]]
name = "b"
rate_per_s = 5000
size_bytes = 1024
lifetime = "forever"
`))
	if err != nil {
		t.Fatal(err)
	}
	if alone.Summary.Workloads[0] != withB.Summary.Workloads[0] {
		t.Fatalf("workload a changed when b was added:\n%+v\n%+v", alone.Summary.Workloads[0], withB.Summary.Workloads[0])
	}
	b := withB.Summary.Workloads[1]
	if b.Frees != 0 || b.ObjectsLiveEnd != int64(b.Allocs) {
		t.Fatalf("a never-freed workload freed: %+v", b)
	}
	if alone.Summary.TraceHash == withB.Summary.TraceHash {
		t.Fatal("adding a workload left the trace hash unchanged")
	}
}

func TestRunEventLimitIsAnError(t *testing.T) {
	sc := mustParse(t, oneWorkload)
	if err := sc.Set("run.max_events=1000"); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), sc, Options{}); err == nil {
		t.Fatal("a run past its event limit succeeded")
	}
}

// TestAnonFill: anonymous memory filling the
// machine at swappiness 0 with no swap ends in an OOM kill of the task
// with the highest badness; with swap and swappiness 60 it swaps and
// survives.
func TestAnonFill(t *testing.T) {
	skipUnderRace(t)
	load := func(sets ...string) *Summary {
		s := runEmbedded(t, "anon-fill", sets...)
		return &s
	}
	oom := load()
	if oom.OOMKills != 1 || oom.OOMEvents[0].VictimComm != "db" || oom.OOMEvents[0].Scope != "global" {
		t.Fatalf("no swap: oom_kills %d, events %+v; want db killed once", oom.OOMKills, oom.OOMEvents)
	}
	// A global OOM's scope is the machine: the nodes' anonymous pages
	// fill nearly all of its 2 GiB when the page cache is gone.
	if e := oom.OOMEvents[0]; e.ScopeAnonPages < 1900<<8 || e.ScopeAnonPages > 2048<<8 {
		t.Errorf("scope anon at the global kill %d pages; want most of the machine's 2 GiB", e.ScopeAnonPages)
	}
	// The victim had the highest badness among the killable tasks.
	for _, task := range oom.Kernel.Tasks {
		if task.Comm != "db" && task.Killed {
			t.Errorf("%s was killed too", task.Comm)
		}
	}
	if oom.Kernel.PagesReclaimedFile == 0 || oom.Kernel.PagesSwappedOut != 0 {
		t.Errorf("no swap: file reclaimed %d, swapped %d; want page cache dropped and nothing swapped", oom.Kernel.PagesReclaimedFile, oom.Kernel.PagesSwappedOut)
	}
	swap := load("kernel.swap_mb=2048", "kernel.swappiness=60")
	if swap.OOMKills != 0 || swap.Kernel.PagesSwappedOut == 0 {
		t.Fatalf("swap: oom_kills %d, swapped %d; want no kill and swapping", swap.OOMKills, swap.Kernel.PagesSwappedOut)
	}
	for _, task := range swap.Kernel.Tasks {
		if task.Comm == "db" && task.RSSAnonPages+task.SwapEntries != 2560<<8 {
			t.Errorf("db holds %d resident + %d swapped pages, want %d", task.RSSAnonPages, task.SwapEntries, 2560<<8)
		}
	}
}

// TestContainerOOM: memory.max OOM stays inside its cgroup: the victim is
// the biggest task in /container, although a bigger task runs outside.
func TestContainerOOM(t *testing.T) {
	s := runEmbedded(t, "container-oom")
	if s.OOMKills != 1 || s.OOMEvents[0].Scope != "memcg:/container" || s.OOMEvents[0].VictimComm != "app" {
		t.Fatalf("oom events %+v; want one memcg:/container kill of app", s.OOMEvents)
	}
	// The scope's memory at the kill is the container's, not the
	// machine's: within memory.max, and without the database's 1800 MiB.
	if e := s.OOMEvents[0]; e.ScopeAnonPages <= 0 || e.ScopeAnonPages+e.ScopeFilePages > 1024<<8 {
		t.Errorf("scope memory at the kill: anon %d + file %d pages; want some anon and at most memory.max (%d)", e.ScopeAnonPages, e.ScopeFilePages, 1024<<8)
	}
	for _, task := range s.Kernel.Tasks {
		if task.Comm == "database" && (task.Killed || task.RSSAnonPages != 1800<<8) {
			t.Errorf("the database outside the container was touched: %+v", task)
		}
	}
	for _, c := range s.Kernel.Cgroups {
		if c.Path == "/container" && (c.EventsOOMKill != 1 || c.PeakPages > 1024<<8) {
			t.Errorf("/container: %+v; want one oom_kill and a peak within memory.max", c)
		}
	}
}

// TestDefaultScenarioUsesAllTiers: the default scenario runs through SBMP,
// with Tier-0 hits, Tier-1 refills and Tier-1 medium blocks (its 64 KiB
// buffers) in its first second, Tier-2 traffic once Tier-1 fails (about
// 50 s into its minute), and the refill policy changes what the tiers see.
func TestDefaultScenarioUsesAllTiers(t *testing.T) {
	run := func(sets ...string) Summary {
		return runEmbedded(t, "oom-crisis", append([]string{"run.duration_ms=1000"}, sets...)...)
	}
	base := run()
	ta := base.TierAllocs
	if ta.Tier0 == 0 || ta.Tier1 == 0 || base.SBMP.MediumAllocs == 0 {
		t.Fatalf("tier_allocs %+v, medium %d: want Tier-0 and Tier-1 traffic, medium blocks among it", ta, base.SBMP.MediumAllocs)
	}
	if long := runEmbedded(t, "oom-crisis"); long.TierAllocs.Tier2 == 0 {
		t.Errorf("tier_allocs %+v over the whole run: want Tier-2 traffic", long.TierAllocs)
	}
	if base.Allocs != ta.Tier0+ta.Tier1+ta.Tier2 {
		t.Errorf("allocs %d != tier sum %d", base.Allocs, ta.Tier0+ta.Tier1+ta.Tier2)
	}
	other := run("policy.refill=adaptive-batch")
	if other.TierAllocs == base.TierAllocs || other.FallbackCount == base.FallbackCount {
		t.Errorf("refill policy made no difference: fixed-batch %+v/%d, adaptive-batch %+v/%d",
			base.TierAllocs, base.FallbackCount, other.TierAllocs, other.FallbackCount)
	}
	t.Logf("fixed-batch: %+v fallback %d; adaptive-batch: %+v fallback %d", base.TierAllocs, base.FallbackCount, other.TierAllocs, other.FallbackCount)
}

// TestExhaustionChain: a machine too small for the workload. In user
// placement a Tier-1 block that cannot get a huge page falls back to base
// pages (do_huge_pmd_anonymous_page's VM_FAULT_FALLBACK), so SBMP never
// degrades: its RSS grows until the OOM killer kills the SBMP process. In
// kernel placement a Tier-1 block is a costly __GFP_NORETRY allocation
// that fails once memory runs short, so Tier-0 and Tier-1 run dry;
// wait-refill makes allocations wait and retry, then degrade to Tier-2,
// whose kernel pages no task owns: the OOM killer kills the task beside
// SBMP, never SBMP (a kernel context).
func TestExhaustionChain(t *testing.T) {
	sets := []string{"machine.node_memory_mb=32", "run.duration_ms=1000", "policy.degrade=wait-refill",
		`workload=[{name="fill", cpus="0-31", rate_per_s=100000, size_bytes=1024, lifetime="forever"}, {name="bystander", kind="task", cpus="1", rss_mb=8}]`}
	user := runEmbedded(t, "oom-crisis", append(sets, "sbmp.placement=user")...)
	if user.SBMP.DegradeEntries != 0 || user.VMStat["thp_fault_fallback"] == 0 {
		t.Errorf("user placement: degrade entries %d, thp_fault_fallback %d: want no degrade, and huge-page faults falling back",
			user.SBMP.DegradeEntries, user.VMStat["thp_fault_fallback"])
	}
	if user.OOMKills == 0 || user.OOMEvents[0].VictimComm != "sbmp-app" {
		t.Fatalf("user placement: oom events %+v; want the SBMP process killed", user.OOMEvents)
	}
	kern := runEmbedded(t, "oom-crisis", append(sets, "sbmp.placement=kernel")...)
	if kern.Workloads[0].AllocRetries == 0 || kern.SBMP.DegradeEntries == 0 || kern.TierAllocs.Tier2 == 0 {
		t.Fatalf("kernel placement: retries %d, degrade entries %d, tier2 %d: want all > 0", kern.Workloads[0].AllocRetries, kern.SBMP.DegradeEntries, kern.TierAllocs.Tier2)
	}
	if kern.OOMKills == 0 || kern.OOMEvents[0].VictimComm != "bystander" {
		t.Fatalf("kernel placement: oom events %+v; want the bystander killed, not SBMP", kern.OOMEvents)
	}
	for _, e := range kern.OOMEvents {
		if e.VictimComm == "sbmp-app" {
			t.Fatalf("kernel placement: the OOM killer chose SBMP's kernel context: %+v", kern.OOMEvents)
		}
	}
}

// TestPolicyParamsReachThePolicies: a smaller refill batch means more
// refills; a parameter of another policy is a validation error.
func TestPolicyParamsReachThePolicies(t *testing.T) {
	refills := func(sets ...string) int64 {
		return runEmbedded(t, "oom-crisis", append([]string{"run.duration_ms=500"}, sets...)...).SBMP.Refills
	}
	if small, dflt := refills("policy.refill_batch=8"), refills(); small <= 2*dflt {
		t.Fatalf("refills with batch 8: %d, with the default 64: %d", small, dflt)
	}
	sc, _ := scenario.Load("oom-crisis")
	if err := sc.Set("policy.merge_delay_ms=50"); err != nil {
		t.Fatal(err)
	}
	if err := sc.Validate(); err == nil || !strings.Contains(err.Error(), `merge policy "lazy-threshold" has no parameter "delay_ms"`) {
		t.Fatalf("Validate = %v", err)
	}
}

// runEmbedded runs an embedded scenario with --set style overrides and
// returns its summary.
func runEmbedded(t *testing.T, name string, sets ...string) Summary {
	t.Helper()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if err := sc.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Summary
}

// runPlain runs sc to its end, unchecked and unobserved.
func runPlain(sc *scenario.Scenario) (*Result, error) {
	return Run(context.Background(), sc, Options{})
}
