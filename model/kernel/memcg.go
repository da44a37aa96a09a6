package kernel

import (
	"fmt"
	"math"
	"strings"
)

// The memcg*.go files model the cgroup v2 memory controller as
// mm/memcontrol.c and mm/page_counter.c do it in Linux 6.12: hierarchical
// page counters with memory.max and memory.high (memcg_counter.go), the
// per-CPU charge stock (memcg_stock.go), the charge path's reclaim / retry
// / OOM decisions (try_charge_memcg, memcg_charge.go), memory.high
// throttling (mem_cgroup_handle_over_high, memcg_high.go), limit writes
// (memcg_limit_write.go), swap accounting (memory.swap.*, memcg_swap.go),
// memory.events (memcg_events.go) and a memory.stat subset
// (memcg_stat.go). This file holds the cgroup tree: its types, errors,
// creation and lookups.
//
// Cgroups owns counters only, never pages. Whoever owns the pages (the
// machine, memcg_machine.go) charges them here and supplies reclaim as a
// MemcgReclaimer (memcg_reclaim.go); the OOM killer is also the caller's
// (SelectVictim with OOMControl), since a kill frees memory only later in
// simulated time.

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

// CgroupErr is a sentinel error of the memory controller model.
type CgroupErr string

// Error implements error.
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
	ErrNoMemsw          CgroupErr = "not a cgroup v1 controller with memsw accounting"
)

// CgroupError says which operation on which cgroup failed, and why.
type CgroupError struct {
	Op, Path string
	Err      error
	Detail   string
}

// Error formats e as "memcg OP PATH: ERR (DETAIL)".
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
	// memsw is cgroup v1's memsw accounting (SetMemsw); memswFailed says
	// the last failed memory charge hit the memsw limit.
	memsw, memswFailed bool
}

// SetMemsw switches the controller to cgroup v1's accounting of swap
// (do_memsw_account): the swap counter holds the swapped-out pages only
// (a page is charged to it when it leaves memory, mem_cgroup_swapout, and
// uncharged when it is read back, memcg1_swapin, or its entry freed), a
// memory charge must also fit memory.memsw.limit_in_bytes, which the
// model takes as memory.max plus swap.max, and a charge that hits it
// reclaims without swapping (may_swap cleared); swap itself is not
// limited per cgroup (mem_cgroup_get_nr_swap_pages), and
// mem_cgroup_swap_full is vm_swap_full alone. The OOM lock, the soft
// limit and v1's other files are not modelled.
func (c *Cgroups) SetMemsw(on bool) { c.memsw = on }

// Memsw reports whether the controller accounts swap as cgroup v1 does.
func (c *Cgroups) Memsw() bool { return c.memsw }

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
