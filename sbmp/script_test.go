package sbmp

// Scenario scripts in the style of github.com/cockroachdb/datadriven
// (STYLE.md), run by internal/scripttest: testdata/scripts/*.txt are
// commands, each followed by a "----" line and the output it must print,
// ending at the next blank line. Lines starting with # are comments.
// `go test ./sbmp -run Script -rewrite` regenerates the outputs; commit
// only diffs you understand.
//
// Commands (unknown arguments are errors, so a typo cannot pass silently):
//
//	env cpus=N nodes=N limit_pages=N [capacity=N batch=N merge_threshold=N retain=N dwell_ms=N exit_refills=N carve=0|1]
//	    a fakeEnv and an Allocator over it; capacity, batch and
//	    merge_threshold set Tier0CapacitySlots, FixedBatchRefill and
//	    LazyThresholdMerge (the built-in defaults when absent);
//	    dwell_ms and exit_refills set the degrade hysteresis of the
//	    built-in ImmediateTier2 (DefaultDegradeHysteresis's when absent),
//	    and carve=1 makes it carve degraded small requests
//	    (DegradeSmallCarve).
//	alloc cpu=N size=N [n=N] [summary] [cost]
//	    n allocations, named a1, a2, ... in script order (failed ones too).
//	    One line per run of consecutive allocations served by the same
//	    tier, addresses relative to the fake arena's base (the fake page
//	    source is deterministic, but offsets read better); with cost, the
//	    cost of a lone allocation too; with summary, one line counting
//	    the allocations per tier.
//	free NAME|aI..aJ cpu=N
//	    frees the named allocations, in the order the range is written.
//	flush          Allocator.Flush
//	tick ms=N      advances the fake clock and calls Allocator.Tick
//	debugfs        DebugfsText
//	stats [FIELD...]
//	    the Stats counters (all of them, or the named ones) and degraded
//	caches         every CPU's Tier-0 free slots per class
//	tier1          each node's Tier-1: blocks, free slabs by order, pending
//	pages          the fake page source: pages out, blocks out, frees
//	fsm            the FSM transitions taken, summed over CPUs
//	check          checkAllocator: ok, or the broken invariant

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/internal/scripttest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of testdata/scripts/*.txt")

// scriptArenaBase is where the fake page source starts handing out
// memory (newFakeEnv); addresses print as offsets from it.
const scriptArenaBase = 1 << 22

// scriptMaxAllocs bounds one alloc command, so that a typo in n= fails
// loudly instead of eating the machine.
const scriptMaxAllocs = 1 << 20

func TestScript(t *testing.T) {
	scripttest.RunDir(t, "testdata/scripts/*.txt", *rewrite, func() scripttest.Runner {
		r := &scriptRunner{}
		return r.run
	})
}

// scriptObject is a named allocation.
type scriptObject struct {
	addr uint64
	size int64
	ok   bool
	live bool
}

// scriptRunner holds one script's allocator and the objects it named.
type scriptRunner struct {
	f    *fakeEnv
	a    *Allocator
	objs []scriptObject // objs[i] is a(i+1)
	live map[uint64]int64
}

// run executes one command line and returns its output; an error is
// output too, so scripts can show expected failures.
func (r *scriptRunner) run(line string) string {
	fields := strings.Fields(line)
	args := scripttest.ParseArgs(fields[1:])
	out, err := r.dispatch(fields[0], args)
	if err == nil {
		err = args.Unused()
	}
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return out
}

func (r *scriptRunner) dispatch(cmd string, args *scripttest.Args) (string, error) {
	if cmd == "env" {
		return r.env(args)
	}
	if r.a == nil {
		return "", fmt.Errorf("%s before env", cmd)
	}
	switch cmd {
	case "alloc":
		return r.alloc(args)
	case "free":
		return r.free(args)
	case "flush":
		return fmt.Sprintf("ok cost_ns=%d\n", r.a.Flush()), nil
	case "tick":
		ms, err := args.Int("ms")
		if err != nil {
			return "", err
		}
		r.f.now += ms * 1e6
		if err := r.a.Tick(); err != nil {
			return "", err
		}
		return fmt.Sprintf("ok now=%dms\n", r.f.now/1e6), nil
	case "debugfs":
		return r.a.DebugfsText(), nil
	case "stats":
		return r.stats(args.Words())
	case "caches":
		return r.caches(), nil
	case "tier1":
		return r.tier1(), nil
	case "pages":
		return fmt.Sprintf("used_pages: %d\nblocks_out: %d\nfrees: %d\n", r.f.used, len(r.f.out), r.f.frees), nil
	case "fsm":
		return r.fsm(), nil
	case "check":
		if err := checkAllocator(r.a, r.f, r.live); err != nil {
			return "", err
		}
		return "ok\n", nil
	}
	return "", fmt.Errorf("unknown command %q", cmd)
}

func (r *scriptRunner) env(args *scripttest.Args) (string, error) {
	var v [7]int64
	var err error
	for i, k := range []string{"cpus", "nodes", "limit_pages", "capacity", "batch", "merge_threshold", "retain"} {
		def := []int64{}
		if i >= 3 {
			def = append(def, 0)
		}
		if v[i], err = args.Int(k, def...); err != nil {
			return "", err
		}
	}
	cfg := Config{Tier0CapacitySlots: int(v[3]), RetainBlocks: int(v[6])}
	if v[4] > 0 {
		cfg.Refill = &FixedBatchRefill{Slots: int(v[4])}
	}
	threshold := 32
	if v[5] > 0 {
		threshold = int(v[5])
		cfg.Merge = LazyThresholdMerge{Threshold: threshold}
	}
	// remote_batch, slab_select and trim_ms/trim_pct set the homing
	// knobs; absent, the defaults hold.
	rb, err := args.Int("remote_batch", 0)
	if err != nil {
		return "", err
	}
	cfg.RemoteFreeBatch = int(rb)
	sel, err := args.String("slab_select", "fullest")
	if err != nil {
		return "", err
	}
	if cfg.SlabSelect, err = ParseSlabSelect(sel); err != nil {
		return "", err
	}
	if args.Has("trim_ms") || args.Has("trim_pct") || args.Has("trim_low_water") {
		ms, err := args.Int("trim_ms", 2000)
		if err != nil {
			return "", err
		}
		pct, err := args.Int("trim_pct", 75)
		if err != nil {
			return "", err
		}
		lw, err := args.Int("trim_low_water", 1)
		if err != nil {
			return "", err
		}
		cfg.Merge = trimmingMerge{LazyThresholdMerge{Threshold: threshold}, IdleTrim{IntervalNs: ms * 1e6, Fraction: float64(pct) / 100, LowWater: lw == 1}}
	}
	h := DefaultDegradeHysteresis()
	dwellMs, err := args.Int("dwell_ms", h.MinDwellNs/1e6)
	if err != nil {
		return "", err
	}
	exit, err := args.Int("exit_refills", int64(h.ExitRefills))
	if err != nil {
		return "", err
	}
	if h2 := (DegradeHysteresis{MinDwellNs: dwellMs * 1e6, ExitRefills: int(exit)}); h2 != h {
		cfg.Degrade = WithHysteresis(ImmediateTier2{}, h2)
	}
	carve, err := args.Int("carve", 0)
	if err != nil {
		return "", err
	}
	if carve == 1 {
		if cfg.Degrade == nil {
			cfg.Degrade = ImmediateTier2{}
		}
		cfg.Degrade = WithSmallCost(cfg.Degrade, DegradeSmallCarve)
	}
	f := newFakeEnv(int(v[0]), int(v[1]), v[2])
	a, err := New(f.env(), cfg)
	if err != nil {
		return "", err
	}
	*r = scriptRunner{f: f, a: a, live: map[uint64]int64{}}
	return "", nil
}

// addr prints an address relative to the fake arena's base.
func scriptAddr(addr uint64) string { return fmt.Sprintf("base+%#x", addr-scriptArenaBase) }

func (r *scriptRunner) alloc(args *scripttest.Args) (string, error) {
	cpu, err := r.cpuArg(args)
	if err != nil {
		return "", err
	}
	size, err := args.Int("size")
	if err != nil {
		return "", err
	}
	n, err := args.Int("n", 1)
	if err != nil {
		return "", err
	}
	if n < 1 || n > scriptMaxAllocs {
		return "", fmt.Errorf("n=%d: must be in 1..%d", n, scriptMaxAllocs)
	}
	var summary, cost bool
	for _, w := range args.Words() {
		switch w {
		case "summary":
			summary = true
		case "cost":
			cost = true
		default:
			return "", fmt.Errorf("alloc: unknown word %q (summary, cost)", w)
		}
	}
	var res []AllocResult
	for range n {
		got := r.a.Alloc(cpu, size)
		obj := scriptObject{addr: got.Addr, size: size, ok: got.OK, live: got.OK}
		if got.OK {
			if _, dup := r.live[got.Addr]; dup {
				return "", fmt.Errorf("%s handed out while live", scriptAddr(got.Addr))
			}
			r.live[got.Addr] = size
		}
		r.objs = append(r.objs, obj)
		res = append(res, got)
	}
	first := len(r.objs) - len(res) + 1
	if summary {
		return summarizeAllocs(first, res), nil
	}
	return describeAllocs(first, res, cost), nil
}

// summarizeAllocs prints one line counting results by tier.
func summarizeAllocs(first int, res []AllocResult) string {
	var byTier [3]int
	failed := 0
	for _, r := range res {
		if r.OK {
			byTier[r.Tier]++
		} else {
			failed++
		}
	}
	return fmt.Sprintf("a%d..a%d: tier0=%d tier1=%d tier2=%d failed=%d\n", first, first+len(res)-1, byTier[0], byTier[1], byTier[2], failed)
}

// describeAllocs prints one line per run of consecutive results served by
// the same tier (or failed), the first named aFirst; with cost, a run of
// one shows its cost.
func describeAllocs(first int, res []AllocResult, cost bool) string {
	var b strings.Builder
	for i := 0; i < len(res); {
		j := i + 1
		for j < len(res) && res[j].OK == res[i].OK && res[j].Tier == res[i].Tier {
			j++
		}
		what := fmt.Sprintf("tier=%d", res[i].Tier)
		if !res[i].OK {
			what = "failed"
			if res[i].RetryAfterNs > 0 {
				what += fmt.Sprintf(" retry_after_ns=%d", res[i].RetryAfterNs)
			}
		}
		if j-i == 1 && cost {
			what += fmt.Sprintf(" cost_ns=%d", res[i].CostNs)
		}
		switch {
		case j-i == 1 && res[i].OK:
			fmt.Fprintf(&b, "a%d = %s %s\n", first+i, scriptAddr(res[i].Addr), what)
		case j-i == 1:
			fmt.Fprintf(&b, "a%d %s\n", first+i, what)
		case res[i].OK:
			fmt.Fprintf(&b, "a%d..a%d = %s..%s %s\n", first+i, first+j-1, scriptAddr(res[i].Addr), scriptAddr(res[j-1].Addr), what)
		default:
			fmt.Fprintf(&b, "a%d..a%d %s\n", first+i, first+j-1, what)
		}
		i = j
	}
	return b.String()
}

func (r *scriptRunner) cpuArg(args *scripttest.Args) (int, error) {
	cpu, err := args.Int("cpu")
	if err != nil {
		return 0, err
	}
	if cpu < 0 || cpu >= int64(r.f.cpus) {
		return 0, fmt.Errorf("cpu=%d: the env has cpus 0..%d", cpu, r.f.cpus-1)
	}
	return int(cpu), nil
}

// names resolves "aI" or "aI..aJ" (either direction) to object indexes.
func (r *scriptRunner) names(spec string) ([]int, error) {
	from, to, isRange := strings.Cut(spec, "..")
	if !isRange {
		to = from
	}
	idx := func(name string) (int, error) {
		n, err := strconv.Atoi(strings.TrimPrefix(name, "a"))
		if !strings.HasPrefix(name, "a") || err != nil || n < 1 || n > len(r.objs) {
			return 0, fmt.Errorf("no allocation named %q (a1..a%d exist)", name, len(r.objs))
		}
		return n - 1, nil
	}
	i, err := idx(from)
	if err != nil {
		return nil, err
	}
	j, err := idx(to)
	if err != nil {
		return nil, err
	}
	step := 1
	if j < i {
		step = -1
	}
	var out []int
	for k := i; k != j+step; k += step {
		out = append(out, k)
	}
	return out, nil
}

func (r *scriptRunner) free(args *scripttest.Args) (string, error) {
	words := args.Words()
	if len(words) != 1 {
		return "", fmt.Errorf("free takes one name or range, got %v", words)
	}
	cpu, err := r.cpuArg(args)
	if err != nil {
		return "", err
	}
	idx, err := r.names(words[0])
	if err != nil {
		return "", err
	}
	var costNs int64
	for _, i := range idx {
		o := &r.objs[i]
		if !o.live {
			return "", fmt.Errorf("a%d is not live", i+1)
		}
		c, err := r.a.Free(cpu, o.addr, o.size)
		if err != nil {
			return "", fmt.Errorf("free a%d: %w", i+1, err)
		}
		costNs += c
		o.live = false
		delete(r.live, o.addr)
	}
	return fmt.Sprintf("ok cost_ns=%d\n", costNs), nil
}

// scriptStat is one line of the stats command.
type scriptStat struct {
	k string
	v any
}

// stats prints the counters in Stats' field order.
func (r *scriptRunner) stats(only []string) (string, error) {
	s := r.a.Stats()
	all := []scriptStat{
		{"tier0_allocs", s.Tier0Allocs}, {"tier1_allocs", s.Tier1Allocs}, {"tier2_allocs", s.Tier2Allocs},
		{"frees", s.Frees}, {"alloc_failures", s.AllocFailures}, {"fallback_count", s.FallbackCount},
		{"tier2_fallbacks", s.Tier2Fallbacks}, {"alloc_stall_ns", s.AllocStallNs},
		{"refills", s.Refills}, {"refills_remote", s.RefillsRemote}, {"drains", s.Drains},
		{"remote_frees", s.RemoteFrees}, {"remote_flushes", s.RemoteFlushes}, {"trims", s.Trims}, {"trimmed_slots", s.TrimmedSlots},
		{"tier1_splits", s.Tier1Splits}, {"tier1_merges", s.Tier1Merges}, {"tier1_decayed_slabs", s.Tier1DecayedSlabs},
		{"merge_delay_count", s.MergeDelayCount}, {"merge_delay_max_ns", s.MergeDelayMaxNs},
		{"blocks_from_tier2", s.BlocksFromTier2}, {"blocks_to_tier2", s.BlocksToTier2},
		{"flushes", s.Flushes}, {"degrade_entries", s.DegradeEntries}, {"degrade_exits", s.DegradeExits},
		{"degraded_ns", s.DegradedNs}, {"fsm_refused", s.FSMRefused},
		{"fsm_migrations_drift", s.FSMDriftMigrations}, {"fsm_migrations_fault", s.FSMFaultMigrations},
		{"degraded", r.a.Degraded()},
	}
	var b strings.Builder
	for _, want := range only {
		if !slices.ContainsFunc(all, func(kv scriptStat) bool { return kv.k == want }) {
			return "", fmt.Errorf("stats: no field %q", want)
		}
	}
	for _, kv := range all {
		if len(only) == 0 || slices.Contains(only, kv.k) {
			fmt.Fprintf(&b, "%s: %v\n", kv.k, kv.v)
		}
	}
	return b.String(), nil
}

func (r *scriptRunner) caches() string {
	var b strings.Builder
	for cpu := range r.a.cpus {
		fmt.Fprintf(&b, "cpu%d:", cpu)
		for cls, size := range r.a.cfg.SlotSizes {
			fmt.Fprintf(&b, " %dB=%d", size, r.a.Tier0Free(cpu, cls))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// tier1 prints each node's pool: blocks held, free slabs per buddy order
// (orders with none left out) and slabs pending a merge.
func (r *scriptRunner) tier1() string {
	var b strings.Builder
	for node := range r.a.t1.nodes {
		tn := &r.a.t1.nodes[node]
		fmt.Fprintf(&b, "node%d: blocks=%d free_slabs=%d pending=%d free_lists=[", node, tn.blocks, r.a.t1.freeSlabCount(node), len(tn.pending))
		sep := ""
		for o, l := range tn.free {
			if len(l) > 0 {
				fmt.Fprintf(&b, "%sorder%d:%d", sep, o, len(l))
				sep = " "
			}
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func (r *scriptRunner) fsm() string {
	counts := map[string]uint64{}
	r.a.FSMTransitions(counts)
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if counts[k] > 0 {
			fmt.Fprintf(&b, "%s: %d\n", k, counts[k])
		}
	}
	if b.Len() == 0 {
		return "no transitions\n"
	}
	return b.String()
}

// trimmingMerge is a lazy threshold merge with an idle trim of its own.
type trimmingMerge struct {
	LazyThresholdMerge
	trim IdleTrim
}

func (m trimmingMerge) IdleTrim() IdleTrim { return m.trim }
