package vopr

// The metamorphic check (as pebble's metamorphic tests do): one operation
// sequence generated from a seed is replayed on the real allocator under
// every policy of one family, the other two families at their defaults.
// Each run must keep its books (no two live objects overlap, every free of
// a live object succeeds, the allocator's invariants hold after every
// operation, and once everything is freed, flushed and scavenged the page
// source has every page back), and any two runs must produce the same
// history up to the first operation at which their policies decided
// differently: a policy may change what happens only where it acts.
//
// The environment is a small deterministic machine of its own (not the
// kernel model): nodes with a fixed page budget each, a page source that
// falls back to the nearest node with room, a clock the operations move,
// and a cost model that charges remote work more. It is small so that
// Tier-1 runs dry, degrade happens and merges have something to merge
// within a few thousand operations.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/policies"
	"github.com/sbmpsim/sbmpsim/sbmp"
)

// MetaOptions tune a metamorphic check.
type MetaOptions struct {
	// Ops is the operations in the sequence; 0 takes DefaultMetaOps.
	Ops int
}

// DefaultMetaOps is the length of a generated sequence.
const DefaultMetaOps = 10000

// FamilyDefault is the policy of each family the other runs are compared
// with: SBMP's built-in default (what a scenario runs unless it says
// otherwise).
func FamilyDefault(k policies.Kind) string {
	switch k {
	case policies.KindMerge:
		return sbmp.LazyThresholdMerge{}.Name()
	case policies.KindRefill:
		return (&sbmp.FixedBatchRefill{}).Name()
	default:
		return sbmp.ImmediateTier2{}.Name()
	}
}

// MetaRun is one policy's run of the sequence.
type MetaRun struct {
	Policy string
	// Decisions counts the times the family's policy was asked.
	Decisions int
	// FirstDecisionDiff is the first operation at which this policy
	// decided differently from the family default (-1: never), and
	// FirstOutcomeDiff the first whose outcome differs (-1: none).
	FirstDecisionDiff, FirstOutcomeDiff int
	// DifferentOutcomes counts the operations whose outcome differs from
	// the default's run.
	DifferentOutcomes int
	Stats             sbmp.Stats
	InvariantChecks   int
}

// MetaFamily is one family's runs of one sequence.
type MetaFamily struct {
	Family policies.Kind
	Runs   []MetaRun
	// Violations are the broken contracts, empty when the check passed.
	Violations []string
}

// MetaOutcome is the metamorphic check of one seed.
type MetaOutcome struct {
	Seed     uint64
	Machine  string // the generated environment and sequence, in words
	Families []MetaFamily
}

// Failed reports whether any family broke a contract.
func (o *MetaOutcome) Failed() bool {
	for _, f := range o.Families {
		if len(f.Violations) > 0 {
			return true
		}
	}
	return false
}

// metaOp is one operation of a sequence.
type metaOp struct {
	kind    uint8 // opAlloc, opFree, opTick, opFlush
	cpu     int
	size    int64
	victim  int   // opFree: index into the live list at that point
	advance int64 // ns the clock moves before the operation
}

const (
	opAlloc uint8 = iota
	opFree
	opTick
	opFlush
)

// metaSeq is a generated environment, allocator shape and operation
// sequence.
type metaSeq struct {
	nodes, cpus int
	pagesByNode int64
	slotSizes   []int64
	blockOrder  int
	ops         []metaOp
}

// generateMeta draws an environment, an allocator shape and a sequence
// from seed: 1-4 nodes, 1-4 CPUs a node, 1-3 blocks of memory a node,
// SPEC 1.2's classes (64 B, 256 B, 1 KiB) or, two times in three, large
// ones (256 B, 4 KiB, 32 KiB), 2 or 4 MiB blocks, and phases of growth, churn and release,
// with frees on any CPU (remote frees included). Sizes fall in each class
// (half in the smallest, a fifth in each of the others) and, one in ten, above the largest (up to eight times it), so Tier-2
// competes with Tier-1 for the memory, and with the large classes the
// live objects outgrow Tier-1: refills fail and the degrade policy acts.
func generateMeta(seed uint64, n int) metaSeq {
	r := rand.New(rand.NewPCG(seed, 0x6d657461)) // "meta"
	s := metaSeq{nodes: 1 << r.IntN(3), blockOrder: 9 + r.IntN(2)}
	s.cpus = s.nodes * (1 << r.IntN(3))
	s.pagesByNode = int64(1+r.IntN(3)) << s.blockOrder
	s.slotSizes = [][]int64{{64, 256, 1024}, {256, 4096, 32768}, {256, 4096, 32768}}[r.IntN(3)]
	live := 0
	for i := range n {
		phase := (i * 4 / max(n, 1)) % 4 // grow, churn, grow, release
		pAlloc := [4]float64{0.75, 0.5, 0.7, 0.25}[phase]
		op := metaOp{cpu: r.IntN(s.cpus), advance: int64(1 + r.IntN(2000))}
		switch x := r.Float64(); {
		case x < 0.01:
			op.kind = opTick
			op.advance = int64(r.IntN(20_000_000))
		case x < 0.012:
			op.kind = opFlush
		case live > 0 && x > pAlloc:
			op.kind = opFree
			op.victim = r.IntN(live)
			live--
		default:
			op.kind = opAlloc
			lo, cls := int64(1), 0
			switch y := r.Float64(); {
			case y < 0.5:
			case y < 0.7:
				cls = 1
			case y < 0.9:
				cls = 2
			default:
				cls = 3
			}
			hi := s.slotSizes[min(cls, 2)]
			if cls > 0 {
				lo = s.slotSizes[cls-1] + 1
			}
			if cls == 3 {
				hi = 8 * s.slotSizes[2]
			}
			op.size = lo + r.Int64N(hi-lo+1)
			live++
		}
		s.ops = append(s.ops, op)
	}
	return s
}

// CheckMetamorphic runs the sequence of seed under every policy of every
// family.
func CheckMetamorphic(seed uint64, opt MetaOptions) MetaOutcome {
	n := opt.Ops
	if n <= 0 {
		n = DefaultMetaOps
	}
	seq := generateMeta(seed, n)
	out := MetaOutcome{Seed: seed, Machine: fmt.Sprintf("%d node(s), %d CPU(s), %d MiB a node, classes %v B, %d MiB blocks, %d operations",
		seq.nodes, seq.cpus, seq.pagesByNode*4096>>20, seq.slotSizes, 4<<seq.blockOrder>>10, len(seq.ops))}
	for _, k := range policies.Kinds() {
		out.Families = append(out.Families, checkFamily(seq, k))
	}
	return out
}

// checkFamily runs seq under each policy of family k and compares every
// run with the family default's.
func checkFamily(seq metaSeq, k policies.Kind) MetaFamily {
	f := MetaFamily{Family: k}
	names := policies.Names(k)
	def := FamilyDefault(k)
	names = append([]string{def}, slices.DeleteFunc(names, func(s string) bool { return s == def })...)
	var ref *metaTrace
	for _, name := range names {
		tr, err := runMeta(seq, k, name)
		if err != nil {
			f.Violations = append(f.Violations, fmt.Sprintf("%s %s: %v", k, name, err))
		}
		if tr == nil {
			continue
		}
		run := MetaRun{Policy: name, Decisions: len(tr.decisions), FirstDecisionDiff: -1, FirstOutcomeDiff: -1,
			Stats: tr.stats, InvariantChecks: tr.checks}
		if ref == nil {
			ref = tr
		} else {
			run.FirstDecisionDiff, run.FirstOutcomeDiff, run.DifferentOutcomes = compareTraces(ref, tr)
			if v := relationViolation(run, len(seq.ops)); v != "" {
				f.Violations = append(f.Violations, fmt.Sprintf("%s %s against %s: %s", k, name, def, v))
			}
		}
		f.Runs = append(f.Runs, run)
	}
	return f
}

// relationViolation says how a run broke the metamorphic relation against
// the default's: an outcome that differs before any decision did.
func relationViolation(r MetaRun, ops int) string {
	if r.FirstOutcomeDiff < 0 {
		return ""
	}
	if r.FirstDecisionDiff < 0 {
		return fmt.Sprintf("every decision was the default's, yet operation %d of %d had another outcome", r.FirstOutcomeDiff, ops)
	}
	if r.FirstOutcomeDiff < r.FirstDecisionDiff {
		return fmt.Sprintf("operation %d had another outcome before the first different decision (operation %d)", r.FirstOutcomeDiff, r.FirstDecisionDiff)
	}
	return ""
}

// compareTraces finds the first operation at which b's policy decided
// differently from a's, the first at which its outcome differs, and how
// many outcomes differ.
func compareTraces(a, b *metaTrace) (firstDecision, firstOutcome, different int) {
	firstDecision, firstOutcome = -1, -1
	for i := 0; i < max(len(a.decisions), len(b.decisions)); i++ {
		switch {
		case i >= len(a.decisions):
			firstDecision = b.decisions[i].op
		case i >= len(b.decisions):
			firstDecision = a.decisions[i].op
		case a.decisions[i] != b.decisions[i]:
			firstDecision = min(a.decisions[i].op, b.decisions[i].op)
		default:
			continue
		}
		break
	}
	for i := range min(len(a.outcomes), len(b.outcomes)) {
		if a.outcomes[i] != b.outcomes[i] {
			if firstOutcome < 0 {
				firstOutcome = i
			}
			different++
		}
	}
	return firstDecision, firstOutcome, different
}

// metaOutcome is what one operation did.
type metaOutcome struct {
	ok       bool
	tier     int8
	attempts int8
	addr     uint64
	costNs   int64
}

// decision is one consultation of the family's policy: the operation it
// happened in and what the policy answered.
type decision struct {
	op    int
	value string
}

// metaTrace is one run: its outcomes, the family's decisions and its end.
type metaTrace struct {
	outcomes  []metaOutcome
	decisions []decision
	stats     sbmp.Stats
	checks    int
}

// runMeta runs seq with family k's policy name and the other families at
// their defaults, checking the books after every operation. A broken book
// returns the trace so far with the error.
func runMeta(seq metaSeq, k policies.Kind, name string) (*metaTrace, error) {
	env := newMetaEnv(seq.nodes, seq.cpus, seq.pagesByNode)
	tr := &metaTrace{}
	op := 0
	log := func(v string) { tr.decisions = append(tr.decisions, decision{op: op, value: v}) }
	cfg, err := metaConfig(seq, k, name, log)
	if err != nil {
		return nil, err
	}
	a, err := sbmp.New(env.env(), cfg)
	if err != nil {
		return nil, err
	}
	b := newBooks()
	check := func(at string) error {
		tr.checks++
		if err := a.CheckInvariants(); err != nil {
			return fmt.Errorf("%s: invariant: %w", at, err)
		}
		if env.badFree != nil {
			return fmt.Errorf("%s: %w", at, env.badFree)
		}
		return nil
	}
	for i, o := range seq.ops {
		op = i
		env.now += o.advance
		var out metaOutcome
		switch o.kind {
		case opAlloc:
			res := a.Alloc(o.cpu, o.size)
			for attempt := 1; !res.OK && res.RetryAfterNs > 0 && attempt < 16; attempt++ {
				env.now += res.RetryAfterNs
				res = a.AllocAttempt(o.cpu, o.size, attempt)
				out.attempts = int8(attempt)
			}
			out.ok, out.tier, out.addr, out.costNs = res.OK, int8(res.Tier), res.Addr, res.CostNs
			if res.OK {
				if err := b.add(res.Addr, o.size); err != nil {
					return tr, fmt.Errorf("operation %d (alloc of %d B on cpu %d): %w", i, o.size, o.cpu, err)
				}
			}
		case opFree:
			if b.len() == 0 {
				break
			}
			addr, size := b.remove(o.victim % b.len())
			cost, err := a.Free(o.cpu, addr, size)
			if err != nil {
				return tr, fmt.Errorf("operation %d (free of live %#x, %d B, on cpu %d): %w", i, addr, size, o.cpu, err)
			}
			out.ok, out.addr, out.costNs = true, addr, cost
		case opTick:
			if err := a.Tick(); err != nil {
				return tr, fmt.Errorf("operation %d (tick): %w", i, err)
			}
			out.ok = true
		case opFlush:
			out.ok, out.costNs = true, a.Flush()
		}
		tr.outcomes = append(tr.outcomes, out)
		if err := check(fmt.Sprintf("after operation %d", i)); err != nil {
			return tr, err
		}
	}
	// Nothing may be lost: free everything, flush and scavenge, and the
	// page source must have every page back.
	op = len(seq.ops)
	for b.len() > 0 {
		addr, size := b.remove(b.len() - 1)
		if _, err := a.Free(0, addr, size); err != nil {
			return tr, fmt.Errorf("freeing what was left: %#x, %d B: %w", addr, size, err)
		}
	}
	a.Flush()
	a.Scavenge(0)
	if err := check("after freeing everything"); err != nil {
		return tr, err
	}
	tr.stats = a.Stats()
	s := tr.stats
	if live := s.Tier0Allocs + s.Tier1Allocs + s.Tier2Allocs - s.Frees; live != 0 {
		return tr, fmt.Errorf("after freeing everything the allocator counts %d live objects", live)
	}
	if env.used != 0 {
		return tr, fmt.Errorf("after freeing, flushing and scavenging everything, %d pages were not given back to the page source", env.used)
	}
	return tr, nil
}

// metaConfig is the allocator's shape for seq, family k's policy name
// wrapped to log every decision through log, the other families at their
// defaults.
func metaConfig(seq metaSeq, k policies.Kind, name string, log func(string)) (sbmp.Config, error) {
	cfg := sbmp.Config{SlotSizes: seq.slotSizes, BlockOrder: seq.blockOrder}
	pick := func(kind policies.Kind) string {
		if kind == k {
			return name
		}
		return FamilyDefault(kind)
	}
	m, err := policies.Merge(pick(policies.KindMerge), nil)
	if err != nil {
		return cfg, err
	}
	r, err := policies.Refill(pick(policies.KindRefill), nil)
	if err != nil {
		return cfg, err
	}
	d, err := policies.Degrade(pick(policies.KindDegrade), nil)
	if err != nil {
		return cfg, err
	}
	switch k {
	case policies.KindMerge:
		m = recMerge{m, log}
	case policies.KindRefill:
		r = recRefill{r, log}
	default:
		d = recDegrade{d, log}
	}
	cfg.Merge, cfg.Refill, cfg.Degrade = m, r, d
	return cfg, nil
}

// books are the live objects of a run, sorted by address, to find overlaps.
type books struct {
	addrs []uint64
	sizes map[uint64]int64
	order []uint64 // live objects in allocation order, for the victims
}

func newBooks() *books { return &books{sizes: map[uint64]int64{}} }

func (b *books) len() int { return len(b.order) }

// add records a new live object, refusing one that overlaps another.
func (b *books) add(addr uint64, size int64) error {
	i, found := slices.BinarySearch(b.addrs, addr)
	if found {
		return fmt.Errorf("address %#x handed out while it is live", addr)
	}
	if i > 0 {
		prev := b.addrs[i-1]
		if prev+uint64(b.sizes[prev]) > addr {
			return fmt.Errorf("[%#x, +%d) overlaps the live object [%#x, +%d)", addr, size, prev, b.sizes[prev])
		}
	}
	if i < len(b.addrs) && addr+uint64(size) > b.addrs[i] {
		return fmt.Errorf("[%#x, +%d) overlaps the live object [%#x, +%d)", addr, size, b.addrs[i], b.sizes[b.addrs[i]])
	}
	b.addrs = slices.Insert(b.addrs, i, addr)
	b.sizes[addr] = size
	b.order = append(b.order, addr)
	return nil
}

// remove takes the i-th live object in allocation order out of the books.
func (b *books) remove(i int) (uint64, int64) {
	addr := b.order[i]
	b.order = slices.Delete(b.order, i, i+1)
	j, _ := slices.BinarySearch(b.addrs, addr)
	b.addrs = slices.Delete(b.addrs, j, j+1)
	size := b.sizes[addr]
	delete(b.sizes, addr)
	return addr, size
}

// recMerge, recRefill and recDegrade pass a policy's answers through and
// log each one.
type recMerge struct {
	sbmp.MergePolicy
	log func(string)
}

func (r recMerge) ShouldMerge(s sbmp.MergeState) bool {
	d := r.MergePolicy.ShouldMerge(s)
	r.log(fmt.Sprint(d))
	return d
}

type recRefill struct {
	sbmp.RefillPolicy
	log func(string)
}

func (r recRefill) Plan(s sbmp.RefillState, t sbmp.Topology) sbmp.RefillPlan {
	p := r.RefillPolicy.Plan(s, t)
	r.log(fmt.Sprint(p.Batch, p.StealPeers, p.Steps))
	return p
}

type recDegrade struct {
	sbmp.DegradePolicy
	log func(string)
}

func (r recDegrade) OnExhausted(s sbmp.DegradeState) sbmp.DegradeDecision {
	d := r.DegradePolicy.OnExhausted(s)
	r.log(fmt.Sprint(d.Action, d.WaitNs))
	return d
}

// metaEnv is the check's machine: a clock the operations move, nodes with
// a page budget each and their own address ranges, a page source that
// falls back to the nearest node with room, and a cost model charging
// remote work ten times local.
type metaEnv struct {
	now         int64
	nodes, cpus int
	budget      int64
	usedBy      []int64
	used        int64
	next        []uint64            // per node, the bump pointer
	free        [][]uint64          // per node*orders+order, returned blocks
	out         map[uint64][2]int32 // outstanding: node, order
	// badFree is the first free of pages the source had not handed out.
	badFree error
}

const metaOrders = 11

func newMetaEnv(nodes, cpus int, budget int64) *metaEnv {
	e := &metaEnv{nodes: nodes, cpus: cpus, budget: budget, usedBy: make([]int64, nodes),
		next: make([]uint64, nodes), free: make([][]uint64, nodes*metaOrders), out: map[uint64][2]int32{}}
	for n := range e.next {
		e.next[n] = uint64(n+1) << 40
	}
	return e
}

func (e *metaEnv) env() sbmp.Env { return sbmp.Env{Clock: e, Pages: e, Topology: e, Cost: e} }

func (e *metaEnv) Now() int64 { return e.now }

func (e *metaEnv) AllocPages(cpu, node, order int, flags sbmp.PageFlags) (uint64, int, int64, bool) {
	pages := int64(1) << order
	for _, n := range e.NodesByDistance(node) {
		if e.usedBy[n]+pages > e.budget {
			continue
		}
		var addr uint64
		l := &e.free[n*metaOrders+order]
		if len(*l) > 0 {
			addr = (*l)[len(*l)-1]
			*l = (*l)[:len(*l)-1]
		} else {
			size := uint64(4096) << order
			e.next[n] = (e.next[n] + size - 1) &^ (size - 1)
			addr = e.next[n]
			e.next[n] += size
		}
		e.usedBy[n] += pages
		e.used += pages
		e.out[addr] = [2]int32{int32(n), int32(order)}
		return addr, n, 100, true
	}
	return 0, node, 1000, false
}

func (e *metaEnv) FreePages(cpu int, addr uint64, order int) {
	o, ok := e.out[addr]
	if !ok || int(o[1]) != order {
		// The allocator gave back what it did not hold: record it for the
		// check rather than panic inside the allocator.
		if e.badFree == nil {
			e.badFree = fmt.Errorf("page source: free of %#x order %d, which is not outstanding at that order", addr, order)
		}
		return
	}
	delete(e.out, addr)
	n := int(o[0])
	e.usedBy[n] -= int64(1) << order
	e.used -= int64(1) << order
	e.free[n*metaOrders+order] = append(e.free[n*metaOrders+order], addr)
}

func (e *metaEnv) FreeFraction(node int) float64 {
	return 1 - float64(e.usedBy[node])/float64(e.budget)
}

func (e *metaEnv) NumCPUs() int          { return e.cpus }
func (e *metaEnv) NumNodes() int         { return e.nodes }
func (e *metaEnv) NodeOfCPU(cpu int) int { return cpu * e.nodes / e.cpus }
func (e *metaEnv) NodesByDistance(node int) []int {
	out := []int{node}
	for d := 1; d < e.nodes; d++ {
		out = append(out, (node+d)%e.nodes)
	}
	return out
}

func (e *metaEnv) CostNs(op sbmp.CostOp, from, to int, bytes int64) int64 {
	base := int64(10)
	if from != to {
		base = 100
	}
	return base + bytes/64
}

// Report writes a metamorphic outcome as text: each family's runs with
// their decisions, first differences and books, then the violations.
func (o *MetaOutcome) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %s\n", o.Seed, o.Machine)
	for _, f := range o.Families {
		acted := 0
		for _, r := range f.Runs[min(1, len(f.Runs)):] {
			if r.FirstDecisionDiff >= 0 {
				acted++
			}
		}
		fmt.Fprintf(&b, "  %s: %d policies, %d decided differently from %s at some point\n", f.Family, len(f.Runs), acted, FamilyDefault(f.Family))
		for i, r := range f.Runs {
			diff := "the reference"
			if i > 0 {
				switch {
				case r.FirstDecisionDiff < 0:
					diff = "same decisions, same history"
				default:
					diff = fmt.Sprintf("first different decision at op %d, first different outcome at op %d, %d outcomes differ", r.FirstDecisionDiff, r.FirstOutcomeDiff, r.DifferentOutcomes)
				}
			}
			s := r.Stats
			fmt.Fprintf(&b, "    %-16s %5d decisions; %s; tiers %d/%d/%d, failed %d, merges %d, blocks back %d, degrade entries %d; %d invariant checks\n",
				r.Policy, r.Decisions, diff, s.Tier0Allocs, s.Tier1Allocs, s.Tier2Allocs, s.AllocFailures, s.Tier1Merges, s.BlocksToTier2, s.DegradeEntries, r.InvariantChecks)
		}
		for _, v := range f.Violations {
			fmt.Fprintf(&b, "  VIOLATION %s\n", v)
		}
	}
	return b.String()
}

// errMetaFailed marks a failed metamorphic check.
var errMetaFailed = errors.New("metamorphic check failed")

// MetaError returns an error naming the failed seeds, or nil.
func MetaError(outs []MetaOutcome) error {
	var seeds []string
	for _, o := range outs {
		if o.Failed() {
			seeds = append(seeds, fmt.Sprint(o.Seed))
		}
	}
	if len(seeds) == 0 {
		return nil
	}
	return fmt.Errorf("%w for seed(s) %s (replay one with 'sbmpsim check --metamorphic --seed S')", errMetaFailed, strings.Join(seeds, ", "))
}
