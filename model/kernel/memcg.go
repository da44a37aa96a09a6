package kernel

import (
	"fmt"
	"math"
	"strings"
)

// This file models the cgroup v2 memory controller as mm/memcontrol.c and
// mm/page_counter.c do it in Linux 6.12: hierarchical page counters with
// memory.max and memory.high, the per-CPU charge stock, the charge path's
// reclaim / retry / OOM decisions (try_charge_memcg), memory.high
// throttling (mem_cgroup_handle_over_high), swap accounting
// (memory.swap.*), memory.events and a memory.stat subset.
//
// Cgroups owns counters only, never pages. Whoever owns the pages (the
// machine) charges them here and supplies reclaim as a MemcgReclaimer; the
// OOM killer is also the caller's (SelectVictim with OOMControl), since a
// kill frees memory only later in simulated time.

// Constants of include/linux/page_counter.h, include/linux/memcontrol.h and
// mm/memcontrol.c (Linux 6.12).
const (
	// PageCounterMax is PAGE_COUNTER_MAX on 64-bit (LONG_MAX / PAGE_SIZE):
	// the value memory.max, memory.high, memory.swap.max and
	// memory.swap.high hold when they read "max".
	PageCounterMax = math.MaxInt64 / PageSize
	// MemcgChargeBatch is MEMCG_CHARGE_BATCH: try_charge_memcg charges
	// this many pages at once and keeps the surplus in the CPU's stock.
	MemcgChargeBatch = 64
	// MemcgHZ is the model's tick rate for jiffies: 1000 (CONFIG_HZ_1000;
	// Debian ships 250). calculate_high_delay multiplies by HZ, so the
	// throttling delay in seconds does not depend on it except through
	// rounding to whole jiffies; the "not worth sleeping" threshold is
	// HZ/100, 10 ms at any HZ.
	MemcgHZ = 1000
	// MemcgJiffyNs is one jiffy at MemcgHZ, in nanoseconds.
	MemcgJiffyNs = 1_000_000_000 / MemcgHZ
	// MemcgMaxHighDelayJiffies is MEMCG_MAX_HIGH_DELAY_JIFFIES (2*HZ),
	// the longest memory.high sleep per return to user mode.
	MemcgMaxHighDelayJiffies = 2 * MemcgHZ
	// MemcgDelayPrecisionShift is MEMCG_DELAY_PRECISION_SHIFT: the
	// fixed-point bits of the overage ratio.
	MemcgDelayPrecisionShift = 20
	// MemcgDelayScalingShift is MEMCG_DELAY_SCALING_SHIFT: scales the
	// squared overage down to jiffies.
	MemcgDelayScalingShift = 14

	// memcgIDMax is MEM_CGROUP_ID_MAX: at most this many memory cgroups.
	memcgIDMax = math.MaxUint16
	// memcgMaxRounds bounds the retry loops of one call. The kernel's
	// loops are unbounded while reclaim makes progress; progress is
	// checked to be real (see MemcgReclaimer), so this limit is only
	// reached on usage beyond 2^20 reclaim batches.
	memcgMaxRounds = 1 << 20
	// rootCgroup is the index of "/".
	rootCgroup int32 = 0
)

// MemcgEvent indexes memory.events and memory.swap.events counters, in the
// order of enum memcg_memory_event.
type MemcgEvent int

// The events of enum memcg_memory_event.
const (
	// MemcgLow: reclaimed below memory.low. The model has no memory.low,
	// so it stays zero; it is kept so that memory.events reads whole.
	MemcgLow MemcgEvent = iota
	// MemcgHigh: reclaim_high reclaimed because usage exceeded memory.high.
	MemcgHigh
	// MemcgMax: a charge was about to exceed memory.max (try_charge_memcg).
	MemcgMax
	// MemcgOOM: the charge path or a memory.max write invoked the memcg
	// OOM killer.
	MemcgOOM
	// MemcgOOMKill: a task of the cgroup was killed by any OOM killer.
	MemcgOOMKill
	// MemcgOOMGroupKill: a memory.oom.group kill (not modelled; zero).
	MemcgOOMGroupKill
	// MemcgSwapHigh: swap usage over memory.swap.high when throttling.
	MemcgSwapHigh
	// MemcgSwapMax: a swap charge hit memory.swap.max.
	MemcgSwapMax
	// MemcgSwapFail: swap-out failed, for swap.max or for want of slots.
	MemcgSwapFail
	// NrMemcgEvents is the number of events.
	NrMemcgEvents
)

// String is the event's name in memory.events; the swap events carry a
// "swap_" prefix that memory.swap.events leaves out.
func (e MemcgEvent) String() string {
	if e < 0 || e >= NrMemcgEvents {
		return fmt.Sprintf("MemcgEvent(%d)", int(e))
	}
	return [NrMemcgEvents]string{
		"low", "high", "max", "oom", "oom_kill", "oom_group_kill",
		"swap_high", "swap_max", "swap_fail",
	}[e]
}

// MemcgEvents counts each MemcgEvent.
type MemcgEvents [NrMemcgEvents]int64

// MemcgStatItem indexes the memory.stat counters the model keeps.
type MemcgStatItem int

// The memory.stat items the model keeps (memory_stats[] in mm/memcontrol.c).
// Swap is not a memory.stat line in cgroup v2; it is memory.swap.current.
const (
	// MemcgStatAnon is "anon" (NR_ANON_MAPPED).
	MemcgStatAnon MemcgStatItem = iota
	// MemcgStatFile is "file" (NR_FILE_PAGES).
	MemcgStatFile
	// NrMemcgStatItems is the number of items.
	NrMemcgStatItems
)

// String is the item's name in memory.stat.
func (s MemcgStatItem) String() string {
	if s < 0 || s >= NrMemcgStatItems {
		return fmt.Sprintf("MemcgStatItem(%d)", int(s))
	}
	return [NrMemcgStatItems]string{"anon", "file"}[s]
}

// MemcgStat holds memory.stat counters in pages, indexed by MemcgStatItem.
type MemcgStat [NrMemcgStatItems]int64

// CgroupErr is a sentinel error of the memory controller model.
type CgroupErr string

func (e CgroupErr) Error() string { return string(e) }

// Errors of the memory controller model. They arrive wrapped in a
// *CgroupError that names the operation and the cgroup.
const (
	ErrNoCgroup         CgroupErr = "no such cgroup"
	ErrCgroupExists     CgroupErr = "cgroup exists"
	ErrBadCgroupPath    CgroupErr = `bad cgroup path (want "/" or "/a/b", no empty, "." or ".." parts, no trailing "/")`
	ErrRootLimit        CgroupErr = "the root cgroup has no memory.max, memory.high or swap limits"
	ErrBadPages         CgroupErr = "page count out of range"
	ErrCounterUnderflow CgroupErr = "uncharging more than was charged"
	ErrTooManyCgroups   CgroupErr = "more than MEM_CGROUP_ID_MAX (65535) cgroups"
	ErrBadCPU           CgroupErr = "CPU out of range"
	ErrReclaimContract  CgroupErr = "reclaimer reported pages it did not uncharge from the target's subtree"
	ErrMemcgRounds      CgroupErr = "charge or throttle loop exceeded its round limit"
	ErrNoCgroupFile     CgroupErr = "no such cgroup file"
)

// CgroupError says which operation on which cgroup failed, and why.
type CgroupError struct {
	Op, Path string
	Err      error
	Detail   string
}

func (e *CgroupError) Error() string {
	s := fmt.Sprintf("memcg %s %s: %v", e.Op, e.Path, e.Err)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns the sentinel.
func (e *CgroupError) Unwrap() error { return e.Err }

func cgErr(op, path string, err error, detailFormat string, args ...any) error {
	return &CgroupError{Op: op, Path: path, Err: err, Detail: fmt.Sprintf(detailFormat, args...)}
}

// CgroupLimits are a cgroup's settable limits in pages. Zero, or anything
// at or above PageCounterMax, means "max" (no limit); a limit of zero
// pages cannot be expressed, use 1.
type CgroupLimits struct {
	MaxPages      int64 // memory.max
	HighPages     int64 // memory.high
	SwapMaxPages  int64 // memory.swap.max
	SwapHighPages int64 // memory.swap.high
}

// Cgroup is a snapshot of one memory cgroup, as its cgroupfs files would
// show it (in pages rather than bytes). Limits read PageCounterMax for
// "max".
type Cgroup struct {
	Path   string
	Parent string // "" for the root
	// Limits (memory.max, memory.high, memory.swap.max, memory.swap.high).
	MaxPages, HighPages, SwapMaxPages, SwapHighPages int64
	// CurrentPages is memory.current: the cgroup's and its descendants'
	// charges, including pages precharged into per-CPU stocks.
	CurrentPages int64
	// PeakPages is memory.peak, the high-water mark of CurrentPages.
	PeakPages int64
	// LocalPages are the pages charged to this cgroup itself (not to a
	// descendant, not stock).
	LocalPages int64
	// StockPages are precharged pages held for this cgroup in per-CPU
	// stocks (memcg_stock_pcp): counted in CurrentPages, owned by no page.
	StockPages int64
	// SwapCurrentPages is memory.swap.current (hierarchical);
	// SwapLocalPages the cgroup's own part.
	SwapCurrentPages, SwapLocalPages int64
	// Events is memory.events (hierarchical, stopping below the root);
	// EventsLocal is memory.events.local.
	Events, EventsLocal MemcgEvents
	// Stat is memory.stat (hierarchical); StatLocal the cgroup's own part.
	Stat, StatLocal MemcgStat
}

// pageCounter is struct page_counter: usage, the limits and the
// high-water mark (watermark).
type pageCounter struct {
	usage, max, high, watermark int64
}

// memcg is one cgroup of the tree.
type memcg struct {
	path                  string
	parent                int32 // -1 for the root
	memory, swap          pageCounter
	localPages, localSwap int64
	events, eventsLocal   MemcgEvents
	stat, statLocal       MemcgStat
}

func (m *memcg) counter(swap bool) *pageCounter {
	if swap {
		return &m.swap
	}
	return &m.memory
}

// memcgStock is struct memcg_stock_pcp for pages: the cgroup whose charge
// it caches (-1 for none) and how many pages.
type memcgStock struct {
	cached int32
	pages  int64
}

// Cgroups is the cgroup v2 memory controller of one machine: the tree of
// memory cgroups and the per-CPU charge stocks. Cgroups are kept in
// creation order (every parent before its children); every listing comes
// in that order. The zero value is not usable; call NewCgroups.
//
// Cgroups is not safe for concurrent use: the simulator is one goroutine.
type Cgroups struct {
	cgs    []memcg
	index  map[string]int32 // path -> position in cgs; looked up, never ranged over
	stocks []memcgStock     // per CPU
}

// NewCgroups returns a controller with only the root cgroup "/" and one
// charge stock for each of nrCPUs CPUs.
func NewCgroups(nrCPUs int) (*Cgroups, error) {
	if nrCPUs < 1 || nrCPUs > 1<<16 {
		return nil, cgErr("new", "/", ErrBadCPU, "%d CPUs, want 1..65536", nrCPUs)
	}
	c := &Cgroups{index: map[string]int32{"/": rootCgroup}, stocks: make([]memcgStock, nrCPUs)}
	for i := range c.stocks {
		c.stocks[i].cached = -1
	}
	c.cgs = append(c.cgs, memcg{path: "/", parent: -1, memory: unlimited(), swap: unlimited()})
	return c, nil
}

func unlimited() pageCounter { return pageCounter{max: PageCounterMax, high: PageCounterMax} }

// ParentCgroupPath returns the parent of a cgroup path ("" for "/"), or
// ErrBadCgroupPath.
func ParentCgroupPath(p string) (string, error) {
	if p == "/" {
		return "", nil
	}
	if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return "", ErrBadCgroupPath
	}
	for _, part := range strings.Split(p[1:], "/") {
		if part == "" || part == "." || part == ".." {
			return "", ErrBadCgroupPath
		}
	}
	i := strings.LastIndexByte(p, '/')
	if i == 0 {
		return "/", nil
	}
	return p[:i], nil
}

// normLimit turns a CgroupLimits value into a page counter limit, as
// page_counter_memparse clamps to PAGE_COUNTER_MAX.
func normLimit(v int64) (int64, error) {
	switch {
	case v < 0:
		return 0, ErrBadPages
	case v == 0 || v >= PageCounterMax:
		return PageCounterMax, nil
	}
	return v, nil
}

// Create makes the cgroup at path (mkdir in cgroupfs); its parent must
// exist. Limits of zero mean "max".
func (c *Cgroups) Create(path string, limits CgroupLimits) error {
	parent, err := ParentCgroupPath(path)
	if err != nil {
		return cgErr("create", path, err, "")
	}
	if _, dup := c.index[path]; dup {
		return cgErr("create", path, ErrCgroupExists, "")
	}
	pi, ok := c.index[parent]
	if !ok {
		return cgErr("create", path, ErrNoCgroup, "create the parent %s first", parent)
	}
	if len(c.cgs) >= memcgIDMax {
		return cgErr("create", path, ErrTooManyCgroups, "")
	}
	m := memcg{path: path, parent: pi, memory: unlimited(), swap: unlimited()}
	for _, l := range []struct {
		dst *int64
		v   int64
	}{{&m.memory.max, limits.MaxPages}, {&m.memory.high, limits.HighPages},
		{&m.swap.max, limits.SwapMaxPages}, {&m.swap.high, limits.SwapHighPages}} {
		if *l.dst, err = normLimit(l.v); err != nil {
			return cgErr("create", path, err, "limit %d is negative", l.v)
		}
	}
	c.index[path] = int32(len(c.cgs))
	c.cgs = append(c.cgs, m)
	return nil
}

// Len is the number of cgroups, the root included.
func (c *Cgroups) Len() int { return len(c.cgs) }

// Paths lists every cgroup in creation order (parents before children).
func (c *Cgroups) Paths() []string {
	out := make([]string, len(c.cgs))
	for i := range c.cgs {
		out[i] = c.cgs[i].path
	}
	return out
}

// Get returns a snapshot of the cgroup at path.
func (c *Cgroups) Get(path string) (Cgroup, bool) {
	i, ok := c.index[path]
	if !ok {
		return Cgroup{}, false
	}
	m := &c.cgs[i]
	g := Cgroup{
		Path: m.path, MaxPages: m.memory.max, HighPages: m.memory.high,
		SwapMaxPages: m.swap.max, SwapHighPages: m.swap.high,
		CurrentPages: m.memory.usage, PeakPages: m.memory.watermark,
		LocalPages: m.localPages, StockPages: c.stockPages(i),
		SwapCurrentPages: m.swap.usage, SwapLocalPages: m.localSwap,
		Events: m.events, EventsLocal: m.eventsLocal, Stat: m.stat, StatLocal: m.statLocal,
	}
	if m.parent >= 0 {
		g.Parent = c.cgs[m.parent].path
	}
	return g, true
}

func (c *Cgroups) lookup(op, path string) (int32, error) {
	i, ok := c.index[path]
	if !ok {
		return -1, cgErr(op, path, ErrNoCgroup, "")
	}
	return i, nil
}

func (c *Cgroups) lookupPages(op, path string, pages int64) (int32, error) {
	i, err := c.lookup(op, path)
	if err == nil && (pages <= 0 || pages > PageCounterMax) {
		err = cgErr(op, path, ErrBadPages, "%d pages", pages)
	}
	return i, err
}

// isDescendant is mem_cgroup_is_descendant: i is root or below it.
func (c *Cgroups) isDescendant(i, root int32) bool {
	for ; i >= 0; i = c.cgs[i].parent {
		if i == root {
			return true
		}
	}
	return false
}

// --- page counters (mm/page_counter.c) ---

// counterTryCharge is page_counter_try_charge on the memory or swap
// counters from i up to the root: all or nothing, returning the first
// (innermost) cgroup whose limit would be exceeded, or -1.
func (c *Cgroups) counterTryCharge(i int32, swap bool, pages int64) (fail int32) {
	for j := i; j >= 0; j = c.cgs[j].parent {
		if pc := c.cgs[j].counter(swap); pc.usage+pages > pc.max {
			return j
		}
	}
	c.counterCharge(i, swap, pages)
	return -1
}

// counterCharge is page_counter_charge: charge i and its ancestors
// whatever their limits, raising the high-water marks.
func (c *Cgroups) counterCharge(i int32, swap bool, pages int64) {
	for ; i >= 0; i = c.cgs[i].parent {
		pc := c.cgs[i].counter(swap)
		pc.usage += pages
		pc.watermark = max(pc.watermark, pc.usage)
	}
}

// counterUncharge is page_counter_uncharge. Callers check first that no
// counter goes negative (page_counter_cancel only warns).
func (c *Cgroups) counterUncharge(i int32, swap bool, pages int64) {
	for ; i >= 0; i = c.cgs[i].parent {
		c.cgs[i].counter(swap).usage -= pages
	}
}

// TryCharge charges pages to the cgroup at path and all its ancestors if
// none would exceed memory.max, as page_counter_try_charge does: all or
// nothing. On failure over names the innermost cgroup whose limit was hit
// (the kernel's mem_over_limit) and nothing changes. It raises no event
// and does not reclaim: Charge is the whole charge path.
func (c *Cgroups) TryCharge(path string, pages int64) (ok bool, over string, err error) {
	i, err := c.lookupPages("charge", path, pages)
	if err != nil {
		return false, "", err
	}
	if fail := c.counterTryCharge(i, false, pages); fail >= 0 {
		return false, c.cgs[fail].path, nil
	}
	c.cgs[i].localPages += pages
	return true, "", nil
}

// ForceCharge charges pages past any limit (page_counter_charge), as the
// kernel does for __GFP_NOFAIL and __GFP_HIGH charges that failed.
func (c *Cgroups) ForceCharge(path string, pages int64) error {
	i, err := c.lookupPages("force charge", path, pages)
	if err != nil {
		return err
	}
	c.counterCharge(i, false, pages)
	c.cgs[i].localPages += pages
	return nil
}

// Uncharge returns pages charged to the cgroup at path itself
// (page_counter_uncharge, as uncharge_batch does when folios are freed).
// Uncharging more than the cgroup's own charge is an ErrCounterUnderflow
// and changes nothing: a page is uncharged from the cgroup it was charged
// to, even after its task moved.
func (c *Cgroups) Uncharge(path string, pages int64) error {
	i, err := c.lookupPages("uncharge", path, pages)
	if err != nil {
		return err
	}
	if m := &c.cgs[i]; pages > m.localPages {
		return cgErr("uncharge", path, ErrCounterUnderflow, "%d pages, %d charged", pages, m.localPages)
	}
	c.cgs[i].localPages -= pages
	c.counterUncharge(i, false, pages)
	return nil
}

// Margin is mem_cgroup_margin for cgroup v2: how many pages the cgroup's
// own memory.max still allows (ancestors not considered), at least 0.
func (c *Cgroups) Margin(path string) (int64, error) {
	i, err := c.lookup("margin", path)
	if err != nil {
		return 0, err
	}
	return c.margin(i), nil
}

func (c *Cgroups) margin(i int32) int64 {
	m := &c.cgs[i].memory
	return max(m.max-m.usage, 0)
}

// --- per-CPU charge stock (consume_stock, refill_stock, drain_stock) ---

// consumeStock is consume_stock: take pages from the CPU's stock if it
// caches cgroup i and holds enough; never for more than a batch.
func (c *Cgroups) consumeStock(cpu int, i int32, pages int64) bool {
	s := &c.stocks[cpu]
	if pages > MemcgChargeBatch || s.cached != i || s.pages < pages {
		return false
	}
	s.pages -= pages
	c.cgs[i].localPages += pages
	return true
}

// refillStock is __refill_stock: a stock caching another cgroup is drained
// first, and a stock above one batch is drained whole.
func (c *Cgroups) refillStock(cpu int, i int32, pages int64) {
	s := &c.stocks[cpu]
	if s.cached != i {
		c.drainStock(cpu)
		s.cached = i
	}
	s.pages += pages
	if s.pages > MemcgChargeBatch {
		c.drainStock(cpu)
	}
}

// drainStock is drain_stock: uncharge the stock's pages and forget the
// cgroup.
func (c *Cgroups) drainStock(cpu int) {
	s := &c.stocks[cpu]
	if s.cached >= 0 && s.pages > 0 {
		c.counterUncharge(s.cached, false, s.pages)
	}
	*s = memcgStock{cached: -1}
}

// DrainAllStock is drain_all_stock: empty every CPU's stock that caches
// the cgroup at path or a descendant. The kernel drains remote CPUs from
// a work item; the model drains them at once.
func (c *Cgroups) DrainAllStock(path string) error {
	i, err := c.lookup("drain", path)
	if err != nil {
		return err
	}
	c.drainAllStock(i)
	return nil
}

func (c *Cgroups) drainAllStock(root int32) {
	for cpu := range c.stocks {
		if s := c.stocks[cpu]; s.cached >= 0 && s.pages > 0 && c.isDescendant(s.cached, root) {
			c.drainStock(cpu)
		}
	}
}

func (c *Cgroups) stockPages(i int32) int64 {
	n := int64(0)
	for _, s := range c.stocks {
		if s.cached == i {
			n += s.pages
		}
	}
	return n
}

// --- events ---

// event is memcg_memory_event: count in memory.events.local of i, and in
// memory.events of i and each ancestor below the root (the kernel's loop
// stops at the root, so the root counts only its own events).
func (c *Cgroups) event(i int32, e MemcgEvent) {
	c.cgs[i].eventsLocal[e]++
	for {
		c.cgs[i].events[e]++
		i = c.cgs[i].parent
		if i < 0 || i == rootCgroup {
			return
		}
	}
}

// RecordOOMKill counts a task of the cgroup at path killed by an OOM
// killer, memcg or global (memcg_memory_event_mm(mm, MEMCG_OOM_KILL) in
// __oom_kill_process): call it with the victim's cgroup.
func (c *Cgroups) RecordOOMKill(path string) error {
	i, err := c.lookup("oom kill", path)
	if err != nil {
		return err
	}
	c.event(i, MemcgOOMKill)
	return nil
}

// RecordSwapFail counts a swap-out of the cgroup's page that failed for
// want of a swap slot (MEMCG_SWAP_FAIL in __mem_cgroup_try_charge_swap).
// TryChargeSwap counts failures at memory.swap.max itself.
func (c *Cgroups) RecordSwapFail(path string) error {
	i, err := c.lookup("swap fail", path)
	if err != nil {
		return err
	}
	c.event(i, MemcgSwapFail)
	return nil
}

// --- swap (memory.swap.current, memory.swap.max) ---

// TryChargeSwap charges swap entries to the cgroup at path, as
// __mem_cgroup_try_charge_swap does when reclaim adds an anonymous page to
// swap: page_counter_try_charge on the swap counters. On failure it counts
// swap_max and swap_fail on the charging cgroup (not on the one whose
// limit was hit, as in the kernel) and over names the latter.
func (c *Cgroups) TryChargeSwap(path string, pages int64) (ok bool, over string, err error) {
	i, err := c.lookupPages("swap charge", path, pages)
	if err != nil {
		return false, "", err
	}
	if fail := c.counterTryCharge(i, true, pages); fail >= 0 {
		c.event(i, MemcgSwapMax)
		c.event(i, MemcgSwapFail)
		return false, c.cgs[fail].path, nil
	}
	c.cgs[i].localSwap += pages
	return true, "", nil
}

// UnchargeSwap releases swap entries charged to the cgroup at path
// (__mem_cgroup_uncharge_swap, when a page is swapped in or its entry
// freed). More than the cgroup's own swap charge is an
// ErrCounterUnderflow and changes nothing.
func (c *Cgroups) UnchargeSwap(path string, pages int64) error {
	i, err := c.lookupPages("swap uncharge", path, pages)
	if err != nil {
		return err
	}
	if m := &c.cgs[i]; pages > m.localSwap {
		return cgErr("swap uncharge", path, ErrCounterUnderflow, "%d swap pages, %d charged", pages, m.localSwap)
	}
	c.cgs[i].localSwap -= pages
	c.counterUncharge(i, true, pages)
	return nil
}

// SwapAvailable is mem_cgroup_get_nr_swap_pages: the free swap slots
// (freeSwapPages, machine-wide) the cgroup may still use given
// memory.swap.max of it and its ancestors below the root, at least 0.
// Reclaim in the cgroup can swap anonymous pages only when it is positive
// (can_reclaim_anon_pages).
func (c *Cgroups) SwapAvailable(path string, freeSwapPages int64) (int64, error) {
	i, err := c.lookup("swap available", path)
	if err != nil {
		return 0, err
	}
	n := freeSwapPages
	for ; i > rootCgroup; i = c.cgs[i].parent {
		n = min(n, c.cgs[i].swap.max-c.cgs[i].swap.usage)
	}
	return max(n, 0), nil
}

// --- memory.stat ---

// ModStat adds delta pages to a memory.stat item of the cgroup at path
// and its ancestors (memory.stat is hierarchical in cgroup v2). The
// caller feeds these as it maps and unmaps pages; they are independent of
// the charge counters. A cgroup's own count going negative is an
// ErrCounterUnderflow and changes nothing.
func (c *Cgroups) ModStat(path string, item MemcgStatItem, delta int64) error {
	i, err := c.lookup("stat", path)
	if err != nil {
		return err
	}
	if item < 0 || item >= NrMemcgStatItems {
		return cgErr("stat", path, ErrBadPages, "no stat item %d", int(item))
	}
	if c.cgs[i].statLocal[item]+delta < 0 {
		return cgErr("stat", path, ErrCounterUnderflow, "%s %d%+d", item, c.cgs[i].statLocal[item], delta)
	}
	c.cgs[i].statLocal[item] += delta
	for ; i >= 0; i = c.cgs[i].parent {
		c.cgs[i].stat[item] += delta
	}
	return nil
}

// --- reclaim contract ---

// MemcgReclaimReason says which path asks for reclaim.
type MemcgReclaimReason int

// Reclaim reasons.
const (
	// ReclaimForMax: a charge hit memory.max (try_charge_memcg).
	ReclaimForMax MemcgReclaimReason = iota
	// ReclaimForHigh: usage above memory.high (reclaim_high).
	ReclaimForHigh
	// ReclaimForLimitWrite: memory.max or memory.high was lowered below
	// usage (memory_max_write, memory_high_write).
	ReclaimForLimitWrite
)

// MemcgReclaim is one call of try_to_free_mem_cgroup_pages.
type MemcgReclaim struct {
	// Cgroup is sc->target_mem_cgroup: reclaim from pages charged to it
	// and its descendants only.
	Cgroup string
	// NrToReclaimPages is sc->nr_to_reclaim = max(nr_pages,
	// SWAP_CLUSTER_MAX). Reclaim starts at DEF_PRIORITY and stops once
	// it has this many (do_try_to_free_pages).
	NrToReclaimPages int64
	// MaySwap is sc->may_swap, always true on cgroup v2 (only the v1
	// memsw counter clears it). Whether anon can actually be swapped is
	// SwapAvailable > 0. Scan balance: ScanCount with CgroupReclaim set
	// and the global vm.swappiness (cgroup v2 has no per-cgroup
	// swappiness, mem_cgroup_swappiness), so swappiness 0 reclaims file
	// pages only.
	MaySwap bool
	Reason  MemcgReclaimReason
}

// MemcgReclaimer performs one try_to_free_mem_cgroup_pages for the
// caller, who owns the pages. It returns how many pages it reclaimed and
// must have uncharged each of them (Uncharge) from cgroups in
// r.Cgroup's subtree before returning; a swapped-out page is also
// charged to swap (TryChargeSwap). It must not charge memory. Cgroups
// checks that the target's memory.current fell by at least the reported
// count (ErrReclaimContract otherwise), which is what guarantees that the
// kernel's "retry while reclaim makes progress" loops end. A nil
// MemcgReclaimer reclaims nothing.
type MemcgReclaimer func(r MemcgReclaim) (reclaimedPages int64)

// reclaim calls fn for target and checks the contract.
func (c *Cgroups) reclaim(fn MemcgReclaimer, target int32, pages int64, why MemcgReclaimReason) (int64, error) {
	if fn == nil {
		return 0, nil
	}
	before := c.cgs[target].memory.usage
	got := fn(MemcgReclaim{Cgroup: c.cgs[target].path, NrToReclaimPages: max(pages, swapClusterMax),
		MaySwap: true, Reason: why})
	if after := c.cgs[target].memory.usage; got < 0 || after > before-got {
		return 0, cgErr("reclaim", c.cgs[target].path, ErrReclaimContract,
			"reported %d pages, memory.current %d -> %d", got, before, after)
	}
	return got, nil
}

// --- the charge path (try_charge_memcg) ---

// ChargeOptions are the gfp flags and task state try_charge_memcg looks
// at.
type ChargeOptions struct {
	// CPU is the charging CPU, whose stock is consumed or refilled.
	CPU int
	// NoBlock: the gfp mask does not allow blocking (GFP_ATOMIC,
	// GFP_NOWAIT): no reclaim and no OOM killer.
	NoBlock bool
	// NoRetry is __GFP_NORETRY: fail after one reclaim attempt.
	NoRetry bool
	// RetryMayFail is __GFP_RETRY_MAYFAIL: fail instead of invoking the
	// OOM killer.
	RetryMayFail bool
	// NoFail is __GFP_NOFAIL and High is __GFP_HIGH (part of
	// GFP_ATOMIC): a charge that would fail is forced past memory.max.
	NoFail, High bool
	// MemAlloc is PF_MEMALLOC (reclaim itself allocating): force the
	// charge at once instead of recursing into reclaim.
	MemAlloc bool
	// OOMVictimSkip: the task is an OOM victim whose mm the reaper has
	// already done with (MMF_OOM_SKIP); its charges fail fast.
	OOMVictimSkip bool
	// Dying is task_is_dying: the task was killed or is exiting.
	Dying bool
	// PassedOOM: this call retries a charge after the caller ran the OOM
	// killer for an earlier result's InvokeOOM (passed_oom).
	PassedOOM bool
}

// ChargeResult is what try_charge_memcg decided.
type ChargeResult struct {
	// Charged: the pages are charged to the cgroup (and its ancestors).
	Charged bool
	// Forced: charged past memory.max (the kernel's "force" label).
	Forced bool
	// FromStock: consume_stock covered it; no counter moved.
	FromStock bool
	// Over is mem_over_limit of the last failed attempt (the innermost
	// cgroup whose memory.max was hit), "" if no attempt failed.
	Over string
	// ReclaimRounds counts try_to_free_mem_cgroup_pages calls, and
	// ReclaimedPages what they reported.
	ReclaimRounds  int
	ReclaimedPages int64
	// InvokeOOM: reclaim gave up and the memcg OOM killer must run on
	// Over (mem_cgroup_oom; the oom event is already counted). The caller
	// builds the control with OOMControl(Over, ...), calls SelectVictim
	// and then:
	//   - OOMKill: kills the victim (RecordOOMKill on the victim's
	//     cgroup) and, once the victim's memory is freed, calls Charge
	//     again with PassedOOM set;
	//   - OOMWait: calls Charge again later with PassedOOM set;
	//   - OOMNoVictim: the charge fails (-ENOMEM), or with NoFail or
	//     High set the caller calls ForceCharge.
	InvokeOOM bool
	// OverHighPages is what to add to the task's
	// memcg_nr_pages_over_high: the charged batch when the cgroup or an
	// ancestor is above memory.high or memory.swap.high after the
	// charge. The caller calls HandleOverHigh with the task's total when
	// it exceeds MemcgChargeBatch (try_charge_memcg does it at once) and
	// otherwise when the task returns to user mode
	// (resume_user_mode_work).
	OverHighPages int64
}

// chargeStep is what a failed attempt leads to.
type chargeStep int

const (
	stepRetry chargeStep = iota
	stepNomem
	stepForce
	stepOOM
)

// chargeState is the loop state of try_charge_memcg.
type chargeState struct {
	batch     int64
	retries   int
	drained   bool
	raisedMax bool
	res       ChargeResult
}

// Charge charges pages to the cgroup at path the way try_charge_memcg
// (mm/memcontrol.c, Linux 6.12) does, calling reclaim for
// try_to_free_mem_cgroup_pages:
//
//  1. consume_stock: the CPU's stock caches this cgroup and holds enough;
//  2. page_counter_try_charge of batch = max(MEMCG_CHARGE_BATCH, pages),
//     the surplus going to the stock (refill_stock); if the batch fails,
//     retry with exactly pages;
//  3. on failure at mem_over_limit: PF_MEMALLOC forces; no blocking or an
//     OOM-skipped victim fails; otherwise count max on mem_over_limit,
//     reclaim pages from its subtree, and retry if its margin now fits;
//     retry once after draining the stocks (drain_all_stock);
//     __GFP_NORETRY fails; a charge of at most 8 pages retries while
//     reclaim makes progress; otherwise up to MAX_RECLAIM_RETRIES (16)
//     more retries; then __GFP_RETRY_MAYFAIL fails, a dying task past an
//     OOM fails, a charge above PAGE_ALLOC_COSTLY_ORDER fails without
//     an oom event, and anything else counts oom and returns InvokeOOM;
//  4. a failed charge with __GFP_NOFAIL or __GFP_HIGH is forced
//     (page_counter_charge), counting max if not counted yet.
//
// So a one-page charge where reclaim frees nothing costs 18 reclaim
// rounds and 18 max events before the OOM killer. Charges to the root
// always succeed; the kernel does not charge the root memcg at all, the
// model counts them in the root's own charge so that its usage is the
// machine's. Not modelled: memcg v1 (memsw, the v1 OOM lock and charge
// moving), and the OOM killer's margin recheck inside
// mem_cgroup_out_of_memory (nothing changes between here and the
// caller's SelectVictim).
func (c *Cgroups) Charge(path string, pages int64, opts ChargeOptions, reclaim MemcgReclaimer) (ChargeResult, error) {
	i, err := c.lookupPages("charge", path, pages)
	if err != nil {
		return ChargeResult{}, err
	}
	if opts.CPU < 0 || opts.CPU >= len(c.stocks) {
		return ChargeResult{}, cgErr("charge", path, ErrBadCPU, "CPU %d of %d", opts.CPU, len(c.stocks))
	}
	if i == rootCgroup {
		c.counterCharge(i, false, pages)
		c.cgs[i].localPages += pages
		return ChargeResult{Charged: true}, nil
	}
	s := chargeState{batch: max(MemcgChargeBatch, pages), retries: maxReclaimRetries}
	if opts.PassedOOM {
		// Back from the OOM killer the kernel is still inside the same
		// call: the batch was already cut to size, the stocks drained and
		// the max event counted.
		s.batch, s.drained, s.raisedMax = pages, true, true
	}
	for round := 0; round < memcgMaxRounds; round++ {
		if c.consumeStock(opts.CPU, i, pages) {
			s.res.Charged, s.res.FromStock = true, true
			return s.res, nil
		}
		over := c.counterTryCharge(i, false, s.batch)
		if over < 0 {
			c.doneRestock(i, pages, opts.CPU, &s)
			return s.res, nil
		}
		if s.batch > pages {
			s.batch = pages
			continue
		}
		step, err := c.chargeFailed(over, pages, opts, reclaim, &s)
		switch {
		case err != nil:
			return s.res, err
		case step == stepRetry:
			continue
		case step == stepOOM:
			s.res.InvokeOOM = true
			return s.res, nil
		case step == stepNomem && !opts.NoFail && !opts.High:
			return s.res, nil
		}
		if !s.raisedMax {
			c.event(over, MemcgMax)
		}
		c.counterCharge(i, false, pages)
		c.cgs[i].localPages += pages
		s.res.Charged, s.res.Forced = true, true
		return s.res, nil
	}
	return s.res, cgErr("charge", path, ErrMemcgRounds, "%d rounds", memcgMaxRounds)
}

// chargeFailed is the part of try_charge_memcg between a failed
// page_counter_try_charge and the next attempt.
func (c *Cgroups) chargeFailed(over int32, pages int64, opts ChargeOptions, reclaim MemcgReclaimer, s *chargeState) (chargeStep, error) {
	s.res.Over = c.cgs[over].path
	if opts.MemAlloc {
		return stepForce, nil
	}
	if opts.NoBlock || opts.OOMVictimSkip {
		return stepNomem, nil
	}
	c.event(over, MemcgMax)
	s.raisedMax = true
	got, err := c.reclaim(reclaim, over, pages, ReclaimForMax)
	if err != nil {
		return stepNomem, err
	}
	s.res.ReclaimRounds++
	s.res.ReclaimedPages += got
	switch {
	case c.margin(over) >= pages:
		return stepRetry, nil
	case !s.drained:
		c.drainAllStock(over)
		s.drained = true
		return stepRetry, nil
	case opts.NoRetry:
		return stepNomem, nil
	case got > 0 && pages <= 1<<costlyOrder:
		return stepRetry, nil
	case s.retries > 0:
		s.retries--
		return stepRetry, nil
	case opts.RetryMayFail, opts.PassedOOM && opts.Dying:
		return stepNomem, nil
	case pagesOrder(pages) > costlyOrder:
		return stepNomem, nil // mem_cgroup_oom refuses costly orders
	}
	c.event(over, MemcgOOM)
	return stepOOM, nil
}

// doneRestock is try_charge_memcg's done_restock: the batch surplus goes
// to the stock, and the hierarchy is checked against memory.high and
// memory.swap.high.
func (c *Cgroups) doneRestock(i int32, pages int64, cpu int, s *chargeState) {
	c.cgs[i].localPages += pages
	if s.batch > pages {
		c.refillStock(cpu, i, s.batch-pages)
	}
	s.res.Charged = true
	for j := i; j >= 0; j = c.cgs[j].parent {
		m := &c.cgs[j]
		if m.memory.usage > m.memory.high || m.swap.usage > m.swap.high {
			s.res.OverHighPages = s.batch
			return
		}
	}
}

// pagesOrder is get_order(pages * PAGE_SIZE): the smallest order whose
// block holds pages.
func pagesOrder(pages int64) int {
	o := 0
	for int64(1)<<o < pages {
		o++
	}
	return o
}

// OOMControl builds the OOM killer's input for a memcg OOM in the cgroup
// at over (mem_cgroup_out_of_memory): the scan is confined to its
// subtree and totalpages is mem_cgroup_get_max (MemcgTotalPages) from its
// memory.max and memory.swap.max, the machine's swap size and the global
// vm.swappiness (cgroup v2 has no per-cgroup swappiness). Allocating is
// -1; the caller sets it to the charging task's index.
func (c *Cgroups) OOMControl(over string, totalSwapPages int64, swappiness int) (OOMControl, error) {
	i, err := c.lookup("oom", over)
	if err != nil {
		return OOMControl{}, err
	}
	m := &c.cgs[i]
	return OOMControl{
		Scope:      OOMMemcg,
		TotalPages: MemcgTotalPages(m.memory.max, m.swap.max, totalSwapPages, swappiness),
		Memcg:      over,
		Allocating: -1,
	}, nil
}

// --- memory.high throttling (mem_cgroup_handle_over_high) ---

// CalculateOverage is calculate_overage: how far usage is above high, as a
// fraction of high in MemcgDelayPrecisionShift fixed point; 0 at or below
// high, and high taken as at least 1 page.
func CalculateOverage(usagePages, highPages int64) uint64 {
	if usagePages <= highPages {
		return 0
	}
	high := uint64(max(highPages, 1))
	return ((uint64(usagePages) - high) << MemcgDelayPrecisionShift) / high
}

// CalculateHighDelay is calculate_high_delay: the penalty in jiffies for
// a task that charged nrPages while the worst overage in its hierarchy
// is maxOverage,
//
//	penalty = maxOverage^2 * HZ >> (MEMCG_DELAY_PRECISION_SHIFT + MEMCG_DELAY_SCALING_SHIFT)
//	penalty = penalty * nrPages / MEMCG_CHARGE_BATCH
//
// in unsigned 64-bit arithmetic as in the kernel, so it wraps as the
// kernel's does for overages above about 129 times memory.high. The cap
// (MemcgMaxHighDelayJiffies) is the caller's, applied to the sum of the
// memory and swap penalties.
func CalculateHighDelay(nrPages int64, maxOverage uint64) uint64 {
	if maxOverage == 0 {
		return 0
	}
	p := maxOverage * maxOverage * MemcgHZ
	p >>= MemcgDelayPrecisionShift
	p >>= MemcgDelayScalingShift
	return p * uint64(nrPages) / MemcgChargeBatch
}

// memMaxOverage is mem_find_max_overage: the largest memory overage of i
// and its ancestors below the root.
func (c *Cgroups) memMaxOverage(i int32) uint64 {
	var o uint64
	for ; i > rootCgroup; i = c.cgs[i].parent {
		o = max(o, CalculateOverage(c.cgs[i].memory.usage, c.cgs[i].memory.high))
	}
	return o
}

// swapMaxOverage is swap_find_max_overage, which also counts swap_high on
// every cgroup over its memory.swap.high.
func (c *Cgroups) swapMaxOverage(i int32) uint64 {
	var o uint64
	for ; i > rootCgroup; i = c.cgs[i].parent {
		ov := CalculateOverage(c.cgs[i].swap.usage, c.cgs[i].swap.high)
		if ov > 0 {
			c.event(i, MemcgSwapHigh)
		}
		o = max(o, ov)
	}
	return o
}

// HighOptions is the task state mem_cgroup_handle_over_high looks at.
type HighOptions struct {
	// Dying is task_is_dying: skip reclaim and throttling.
	Dying bool
}

// HighResult is what mem_cgroup_handle_over_high did.
type HighResult struct {
	// ReclaimRounds counts try_to_free_mem_cgroup_pages calls (one per
	// over-high cgroup per reclaim_high), ReclaimedPages what they freed.
	ReclaimRounds  int
	ReclaimedPages int64
	// PenaltyJiffies is the last penalty computed, capped at 2 s.
	PenaltyJiffies int64
	// StallNs is the sleep the task must take (schedule_timeout_killable),
	// PenaltyJiffies at MemcgHZ, or 0 when the penalty was 10 ms or less
	// or reclaim kept making progress until it was.
	StallNs int64
}

// HandleOverHigh throttles a task of the cgroup at path that charged
// nrPages (its memcg_nr_pages_over_high) while the hierarchy was over
// memory.high, as mem_cgroup_handle_over_high does:
//
//  1. reclaim_high: each cgroup from path up to, not including, the root
//     that is above memory.high counts a high event and is reclaimed by
//     nrPages (SWAP_CLUSTER_MAX on retries);
//  2. penalty = calculate_high_delay(memory overage) +
//     calculate_high_delay(swap overage), capped at 2 s;
//  3. a penalty of HZ/100 (10 ms) or less ends it with no sleep;
//  4. reclaim progress, or any of MAX_RECLAIM_RETRIES (16) retries left,
//     goes back to 1;
//  5. otherwise the task sleeps the penalty: StallNs.
//
// The caller charges its reclaim work and StallNs to the task as stall
// time.
func (c *Cgroups) HandleOverHigh(path string, nrPages int64, opts HighOptions, reclaim MemcgReclaimer) (HighResult, error) {
	i, err := c.lookup("handle over high", path)
	var res HighResult
	if err != nil || nrPages <= 0 {
		return res, err
	}
	retries := maxReclaimRetries
	want := nrPages
	for round := 0; round < memcgMaxRounds; round++ {
		if opts.Dying {
			return res, nil
		}
		got, err := c.reclaimHigh(i, want, reclaim, &res)
		if err != nil {
			return res, err
		}
		penalty := CalculateHighDelay(nrPages, c.memMaxOverage(i)) +
			CalculateHighDelay(nrPages, c.swapMaxOverage(i))
		res.PenaltyJiffies = int64(min(penalty, MemcgMaxHighDelayJiffies))
		if res.PenaltyJiffies <= MemcgHZ/100 {
			return res, nil
		}
		want = swapClusterMax
		if got > 0 {
			continue
		}
		if retries > 0 {
			retries--
			continue
		}
		res.StallNs = res.PenaltyJiffies * MemcgJiffyNs
		return res, nil
	}
	return res, cgErr("handle over high", path, ErrMemcgRounds, "%d rounds", memcgMaxRounds)
}

// reclaimHigh is reclaim_high.
func (c *Cgroups) reclaimHigh(i int32, pages int64, reclaim MemcgReclaimer, res *HighResult) (int64, error) {
	total := int64(0)
	for ; i > rootCgroup; i = c.cgs[i].parent {
		if c.cgs[i].memory.usage <= c.cgs[i].memory.high {
			continue
		}
		c.event(i, MemcgHigh)
		got, err := c.reclaim(reclaim, i, pages, ReclaimForHigh)
		if err != nil {
			return total, err
		}
		res.ReclaimRounds++
		res.ReclaimedPages += got
		total += got
	}
	return total, nil
}

// --- limit writes ---

// LimitResult is what a write to memory.max or memory.high did.
type LimitResult struct {
	ReclaimRounds  int
	ReclaimedPages int64
	// InvokeOOM (memory.max only): reclaim could not bring usage under
	// the new limit and the OOM killer must run on this cgroup (the oom
	// event is counted). After a kill, once the victim's memory is
	// freed, write the same limit again to continue; the kernel keeps
	// killing until usage fits or nothing is left to kill.
	InvokeOOM bool
}

func (c *Cgroups) lookupLimit(op, path string, pages int64) (int32, int64, error) {
	i, err := c.lookup(op, path)
	if err != nil {
		return -1, 0, err
	}
	if i == rootCgroup {
		return -1, 0, cgErr(op, path, ErrRootLimit, "")
	}
	limit, err := normLimit(pages)
	if err != nil {
		return -1, 0, cgErr(op, path, err, "limit %d is negative", pages)
	}
	return i, limit, nil
}

// SetMax writes memory.max (0 = "max") as memory_max_write does: the new
// limit takes effect at once, even below usage; then, while usage is
// above it, drain the stocks once, reclaim usage - max with up to
// MAX_RECLAIM_RETRIES (16) rounds that free nothing, then invoke the OOM
// killer (InvokeOOM). Charges already above the limit stay.
func (c *Cgroups) SetMax(path string, pages int64, reclaim MemcgReclaimer) (LimitResult, error) {
	i, limit, err := c.lookupLimit("set memory.max", path, pages)
	var res LimitResult
	if err != nil {
		return res, err
	}
	c.cgs[i].memory.max = limit
	drained, reclaims := false, maxReclaimRetries
	for round := 0; round < memcgMaxRounds; round++ {
		usage := c.cgs[i].memory.usage
		switch {
		case usage <= limit:
			return res, nil
		case !drained:
			c.drainAllStock(i)
			drained = true
			continue
		case reclaims == 0:
			c.event(i, MemcgOOM)
			res.InvokeOOM = true
			return res, nil
		}
		got, err := c.reclaim(reclaim, i, usage-limit, ReclaimForLimitWrite)
		if err != nil {
			return res, err
		}
		res.ReclaimRounds++
		res.ReclaimedPages += got
		if got == 0 {
			reclaims--
		}
	}
	return res, cgErr("set memory.max", path, ErrMemcgRounds, "%d rounds", memcgMaxRounds)
}

// SetHigh writes memory.high (0 = "max") as memory_high_write does: the
// new limit takes effect at once; then, while usage is above it, drain
// the stocks once and reclaim usage - high, giving up after the 17th
// round that frees nothing (its "!nr_retries--" test). Going over
// memory.high never invokes the OOM killer.
func (c *Cgroups) SetHigh(path string, pages int64, reclaim MemcgReclaimer) (LimitResult, error) {
	i, limit, err := c.lookupLimit("set memory.high", path, pages)
	var res LimitResult
	if err != nil {
		return res, err
	}
	c.cgs[i].memory.high = limit
	drained, retries := false, maxReclaimRetries
	for round := 0; round < memcgMaxRounds; round++ {
		usage := c.cgs[i].memory.usage
		if usage <= limit {
			return res, nil
		}
		if !drained {
			c.drainAllStock(i)
			drained = true
			continue
		}
		got, err := c.reclaim(reclaim, i, usage-limit, ReclaimForLimitWrite)
		if err != nil {
			return res, err
		}
		res.ReclaimRounds++
		res.ReclaimedPages += got
		if got == 0 {
			if retries == 0 {
				return res, nil
			}
			retries--
		}
	}
	return res, cgErr("set memory.high", path, ErrMemcgRounds, "%d rounds", memcgMaxRounds)
}

// SetSwapMax writes memory.swap.max (0 = "max"). As in swap_max_write,
// nothing is reclaimed: swap above a lowered limit stays until it is
// swapped in or freed.
func (c *Cgroups) SetSwapMax(path string, pages int64) error {
	i, limit, err := c.lookupLimit("set memory.swap.max", path, pages)
	if err == nil {
		c.cgs[i].swap.max = limit
	}
	return err
}

// SetSwapHigh writes memory.swap.high (0 = "max"); it throttles through
// HandleOverHigh's swap overage.
func (c *Cgroups) SetSwapHigh(path string, pages int64) error {
	i, limit, err := c.lookupLimit("set memory.swap.high", path, pages)
	if err == nil {
		c.cgs[i].swap.high = limit
	}
	return err
}

// --- cgroupfs files ---

// File renders one of the cgroup's memory controller files as cgroupfs
// shows it, with sizes in bytes and "max" for no limit: memory.current,
// memory.peak, memory.max, memory.high, memory.events,
// memory.events.local, memory.swap.current, memory.swap.peak,
// memory.swap.max, memory.swap.high, memory.swap.events and memory.stat
// (the anon and file lines). As in the kernel, the root has only
// memory.stat.
func (c *Cgroups) File(path, name string) (string, error) {
	i, err := c.lookup("read "+name, path)
	if err != nil {
		return "", err
	}
	m := &c.cgs[i]
	if i == rootCgroup && name != "memory.stat" {
		return "", cgErr("read "+name, path, ErrNoCgroupFile, "the root has only memory.stat")
	}
	bytes := func(pages int64) string { return fmt.Sprintf("%d\n", pages*PageSize) }
	tunable := func(pages int64) string {
		if pages == PageCounterMax {
			return "max\n"
		}
		return bytes(pages)
	}
	switch name {
	case "memory.current":
		return bytes(m.memory.usage), nil
	case "memory.peak":
		return bytes(m.memory.watermark), nil
	case "memory.max":
		return tunable(m.memory.max), nil
	case "memory.high":
		return tunable(m.memory.high), nil
	case "memory.events":
		return formatEvents(&m.events, MemcgLow, MemcgOOMGroupKill, ""), nil
	case "memory.events.local":
		return formatEvents(&m.eventsLocal, MemcgLow, MemcgOOMGroupKill, ""), nil
	case "memory.swap.current":
		return bytes(m.swap.usage), nil
	case "memory.swap.peak":
		return bytes(m.swap.watermark), nil
	case "memory.swap.max":
		return tunable(m.swap.max), nil
	case "memory.swap.high":
		return tunable(m.swap.high), nil
	case "memory.swap.events":
		return formatEvents(&m.events, MemcgSwapHigh, MemcgSwapFail, "swap_"), nil
	case "memory.stat":
		var b strings.Builder
		for s := range NrMemcgStatItems {
			fmt.Fprintf(&b, "%s %d\n", s, m.stat[s]*PageSize)
		}
		return b.String(), nil
	}
	return "", cgErr("read "+name, path, ErrNoCgroupFile, "")
}

// formatEvents prints events first..last as "name count" lines, the
// names stripped of prefix (memory.swap.events says "high", "max",
// "fail").
func formatEvents(e *MemcgEvents, first, last MemcgEvent, prefix string) string {
	var b strings.Builder
	for ev := first; ev <= last; ev++ {
		fmt.Fprintf(&b, "%s %d\n", strings.TrimPrefix(ev.String(), prefix), e[ev])
	}
	return b.String()
}

// --- invariants ---

// CheckInvariants verifies the tree: every cgroup's memory.current equals
// its own charge plus its stock plus its children's memory.current;
// swap, memory.stat and memory.events (below the root) add up the same
// way; no counter is negative; peaks are at least current; stocks hold at
// most one batch and cache a non-root cgroup. It returns the first
// violation.
func (c *Cgroups) CheckInvariants() error {
	n := len(c.cgs)
	childMem, childSwap := make([]int64, n), make([]int64, n)
	childStat, childEvents := make([]MemcgStat, n), make([]MemcgEvents, n)
	stock := make([]int64, n)
	for cpu, s := range c.stocks {
		if s.pages < 0 || s.pages > MemcgChargeBatch || (s.cached < 0 && s.pages != 0) ||
			s.cached == rootCgroup || int(s.cached) >= n {
			return fmt.Errorf("memcg: CPU %d stock %+v invalid", cpu, s)
		}
		if s.cached >= 0 {
			stock[s.cached] += s.pages
		}
	}
	// Children come after their parents, so a reverse walk sees every
	// child before its parent.
	for i := int32(n - 1); i >= 0; i-- {
		m := &c.cgs[i]
		if err := m.check(childMem[i], childSwap[i], stock[i], &childStat[i], &childEvents[i], i == rootCgroup); err != nil {
			return err
		}
		if p := m.parent; p >= 0 {
			childMem[p] += m.memory.usage
			childSwap[p] += m.swap.usage
			for s := range NrMemcgStatItems {
				childStat[p][s] += m.stat[s]
			}
			for e := range NrMemcgEvents {
				childEvents[p][e] += m.events[e]
			}
		}
	}
	return nil
}

func (m *memcg) check(childMem, childSwap, stock int64, childStat *MemcgStat, childEvents *MemcgEvents, root bool) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("memcg %s: "+format, append([]any{m.path}, args...)...)
	}
	switch {
	case m.localPages < 0 || m.localSwap < 0 || m.memory.usage < 0 || m.swap.usage < 0:
		return bad("negative counter: local %d, current %d, swap local %d, swap current %d",
			m.localPages, m.memory.usage, m.localSwap, m.swap.usage)
	case m.memory.usage != m.localPages+stock+childMem:
		return bad("memory.current %d != own %d + stock %d + children %d", m.memory.usage, m.localPages, stock, childMem)
	case m.swap.usage != m.localSwap+childSwap:
		return bad("memory.swap.current %d != own %d + children %d", m.swap.usage, m.localSwap, childSwap)
	case m.memory.watermark < m.memory.usage || m.swap.watermark < m.swap.usage:
		return bad("peak below current")
	}
	for s := range NrMemcgStatItems {
		if m.statLocal[s] < 0 || m.stat[s] != m.statLocal[s]+childStat[s] {
			return bad("memory.stat %s %d != own %d + children %d", s, m.stat[s], m.statLocal[s], childStat[s])
		}
	}
	for e := range NrMemcgEvents {
		want := m.eventsLocal[e] + childEvents[e]
		if root {
			want = m.eventsLocal[e] // the kernel's propagation stops below the root
		}
		if m.events[e] != want {
			return bad("memory.events %s %d, want %d", e, m.events[e], want)
		}
	}
	return nil
}
