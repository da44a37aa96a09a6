package kernel

import (
	"fmt"
	"math/bits"
)

// pcpBatchScaleMax is CONFIG_PCP_BATCH_SCALE_MAX (default 5): refills and
// drains may grow to batch << 5 pages.
const pcpBatchScaleMax = 5

// minPercpuPagelistHighFraction is MIN_PERCPU_PAGELIST_HIGH_FRACTION: by
// default pcp->high may grow up to 1/8 of the zone, split among CPUs.
const minPercpuPagelistHighFraction = 8

// ZoneBatchsize is zone_batchsize (mm/page_alloc.c, Linux 6.12): about
// 0.1% of the zone or 1 MiB, whichever is smaller, divided by 4 and
// clamped to 2^n - 1 — 63 pages for any zone of 1 GiB or more. It may
// return 0 for tiny zones; PagesetConfig then uses 1.
func ZoneBatchsize(managedPages int64) int64 {
	batch := min(managedPages>>10, (1<<20)/PageSize)
	batch /= 4 // "We effectively *= 4 below"
	batch = max(batch, 1)
	return roundDownPow2(batch+batch/2) - 1
}

// roundDownPow2 is rounddown_pow_of_two for n >= 1.
func roundDownPow2(n int64) int64 {
	return int64(1) << (bits.Len64(uint64(n)) - 1)
}

// ZoneHighsize is zone_highsize (Linux 6.12): the zone's low watermark, or
// managed / highFraction when vm.percpu_pagelist_high_fraction is set,
// split across nrSplitCPUs (the online CPUs of the zone's node; all online
// CPUs for a CPU-less node), and at least 4 * batch.
func ZoneHighsize(z *Zone, batch int64, nrSplitCPUs int, highFraction int64) int64 {
	total := z.Wmark.Low
	if highFraction != 0 {
		total = z.ManagedPages / highFraction
	}
	return max(total/int64(max(nrSplitCPUs, 1)), batch<<2)
}

// PCPConfig are a zone's per-CPU pageset limits, the same on every CPU:
// pcp->batch, pcp->high_min and pcp->high_max.
type PCPConfig struct {
	Batch   int64 `json:"batch"`
	HighMin int64 `json:"high_min"`
	HighMax int64 `json:"high_max"`
}

// PagesetConfig is zone_set_pageset_high_and_batch (Linux 6.12, since the
// pcp->high auto-tuning of 6.7): batch = max(1, zone_batchsize);
// high_min = zone_highsize from the low watermark; high_max =
// zone_highsize with MIN_PERCPU_PAGELIST_HIGH_FRACTION (8), or both equal
// to the managed-fraction value when highFraction (the sysctl
// vm.percpu_pagelist_high_fraction) is set. nodeCPUs are the online CPUs
// of the zone's node, onlineCPUs all online CPUs.
func PagesetConfig(z *Zone, nodeCPUs, onlineCPUs int, highFraction int64) PCPConfig {
	split := nodeCPUs
	if split == 0 {
		split = onlineCPUs
	}
	batch := max(1, ZoneBatchsize(z.ManagedPages))
	if highFraction != 0 {
		h := ZoneHighsize(z, batch, split, highFraction)
		return PCPConfig{Batch: batch, HighMin: h, HighMax: h}
	}
	return PCPConfig{
		Batch:   batch,
		HighMin: ZoneHighsize(z, batch, split, 0),
		HighMax: ZoneHighsize(z, batch, split, minPercpuPagelistHighFraction),
	}
}

// PCP is one CPU's per-CPU page list of one zone (struct per_cpu_pages),
// holding order-0 pages taken from the zone's Buddy in batches so that most
// allocations and frees avoid the zone lock.
//
// It follows rmqueue_pcplist, nr_pcp_alloc, free_frozen_page_commit,
// nr_pcp_high, nr_pcp_free and free_pcppages_bulk of Linux 6.18, including
// the alloc_factor/free_count batch scaling and a list per migratetype
// (MIGRATE_PCPTYPES): an allocation takes from its type's list, refilled
// by rmqueue_bulk with that type (fallbacks included); a freed page joins
// the list of its pageblock's type (the highatomic reserve's pages join
// the movable list), and goes back to the buddy allocator on the free
// list its pageblock's type names at that time. Two simplifications:
// pcp->high stays at high_min (the kernel's behaviour when high_min ==
// high_max, i.e. with vm.percpu_pagelist_high_fraction set; the 6.7+
// auto-tuning that lets high float up to high_max is not modelled), and
// only order-0 pages are listed (the kernel also keeps orders 1-3 and
// THP-order pages on pcp lists, so a freed order-9 block may wait on a
// list, and a refill of one takes two).
//
// Each list is LIFO for allocations and frees; refills append at the tail
// in the order the buddy returned them and drains take the tail, as the
// kernel does. Storage is allocated once by NewPCP.
type PCP struct {
	buddy         *Buddy
	cfg           PCPConfig
	high          int64
	lists         [migratePCPTypes]pcpList
	count         int64
	allocFactor   int
	freeCount     int64
	reclaimActive bool
}

// pcpList is one migratetype's list of a PCP: a ring of pfns.
type pcpList struct {
	ring  []int64
	first int
	n     int64
}

// push puts pfn at the head of the list.
func (l *pcpList) push(pfn int64) {
	l.first = (l.first - 1 + len(l.ring)) % len(l.ring)
	l.ring[l.first] = pfn
	l.n++
}

// append puts pfn at the tail of the list.
func (l *pcpList) append(pfn int64) {
	l.ring[(l.first+int(l.n))%len(l.ring)] = pfn
	l.n++
}

// pop takes the head of the list.
func (l *pcpList) pop() int64 {
	pfn := l.ring[l.first]
	l.first = (l.first + 1) % len(l.ring)
	l.n--
	return pfn
}

// popTail takes the tail of the list.
func (l *pcpList) popTail() int64 {
	l.n--
	return l.ring[(l.first+int(l.n))%len(l.ring)]
}

// grow gives the list a ring of at least need slots, keeping its pages.
func (l *pcpList) grow(need int) {
	if need <= len(l.ring) {
		return
	}
	ring := make([]int64, need)
	for i := range int(l.n) {
		ring[i] = l.ring[(l.first+i)%len(l.ring)]
	}
	l.ring, l.first = ring, 0
}

// NewPCP returns an empty per-CPU list over the zone's buddy allocator.
func NewPCP(b *Buddy, cfg PCPConfig) (*PCP, error) {
	if err := checkPCPConfig(cfg); err != nil {
		return nil, fmt.Errorf("new pcp: %w", err)
	}
	p := &PCP{buddy: b, cfg: cfg, high: cfg.HighMin}
	for mt := range p.lists {
		p.lists[mt].ring = make([]int64, pcpCapacity(cfg))
	}
	return p, nil
}

// checkPCPConfig validates batch and high limits. zone_highsize keeps
// high >= 4 * batch; only a disabled (boot) pageset has high below batch.
// Between the two, nr_pcp_free could return 0 and the list would grow
// without bound. high_min may exceed high_max: Linux computes them
// independently (zone_set_pageset_high_and_batch), and on a small zone
// whose low watermark is above an eighth of its memory (a large
// vm.min_free_kbytes) high_min is the larger; pcp->high then stays at
// high_min, as it does here (found by `sbmpsim check`).
func checkPCPConfig(cfg PCPConfig) error {
	if cfg.Batch < 1 || cfg.HighMax < 0 || cfg.HighMin < 0 ||
		(cfg.HighMin >= cfg.Batch && cfg.HighMin < cfg.Batch<<2) {
		return fmt.Errorf("want batch >= 1, high_min < batch or >= 4 * batch, high_max >= 0; got %+v", cfg)
	}
	return nil
}

// pcpCapacity is the most pages a list with cfg can hold: high, or the
// largest scaled refill, plus the page a free adds before trimming.
func pcpCapacity(cfg PCPConfig) int {
	return int(max(cfg.HighMin, cfg.Batch<<pcpBatchScaleMax) + 1)
}

// setConfig changes the list's batch and high limits in place, as
// pageset_update does when zone_pcp_update follows a watermark change
// (memory hotplug) or zone_pcp_disable and zone_pcp_reset take a zone's
// lists down. Pages already listed stay; a list above its new high is
// trimmed by its next free, as in the kernel. The rings grow when the new
// limits need more room; they never shrink.
func (p *PCP) setConfig(cfg PCPConfig) error {
	if err := checkPCPConfig(cfg); err != nil {
		return fmt.Errorf("pcp set config: %w", err)
	}
	need := max(pcpCapacity(cfg), int(p.count)+1)
	for mt := range p.lists {
		p.lists[mt].grow(need)
	}
	p.cfg, p.high = cfg, cfg.HighMin
	return nil
}

// Count is pcp->count, the pages on the list.
func (p *PCP) Count() int64 { return p.count }

// High is pcp->high.
func (p *PCP) High() int64 { return p.high }

// Config returns the list's batch and high limits.
func (p *PCP) Config() PCPConfig { return p.cfg }

// SetReclaimActive models ZONE_RECLAIM_ACTIVE: while reclaim runs on the
// zone, frees keep at most min(4 * batch, high) pages on the list.
func (p *PCP) SetReclaimActive(active bool) { p.reclaimActive = active }

// Alloc takes an order-0 page for a movable allocation (AllocMT with
// MigrateMovable).
func (p *PCP) Alloc() (pfn int64, ok bool) { return p.AllocMT(MigrateMovable) }

// AllocMT takes an order-0 page for an allocation of type mt from mt's
// list, refilling the list from the buddy allocator when it is empty
// (rmqueue_pcplist, __rmqueue_pcplist, rmqueue_bulk). It reports false
// when the list is empty and the buddy has no page either. Watermarks are
// the caller's business, as in the kernel.
func (p *PCP) AllocMT(mt Migratetype) (pfn int64, ok bool) {
	p.freeCount >>= 1
	l := &p.lists[mt]
	if l.n == 0 {
		p.refill(mt, p.nrPCPAlloc())
		if l.n == 0 {
			return 0, false
		}
	}
	pfn = l.pop()
	p.count--
	p.buddy.fromPCP(pfn)
	return pfn, true
}

// nrPCPAlloc is nr_pcp_alloc for order 0 with a fixed high: the batch,
// doubled for each consecutive refill without a free in between, capped so
// that the list stays a batch below high.
func (p *PCP) nrPCPAlloc() int64 {
	base := p.cfg.Batch
	if p.high < base {
		return 1
	}
	batch := base << p.allocFactor
	maxNrAlloc := max(p.high-p.count-base, base)
	if batch <= maxNrAlloc && p.allocFactor < pcpBatchScaleMax {
		p.allocFactor++
	}
	return min(batch, maxNrAlloc)
}

// refill moves up to n order-0 pages of type mt from the buddy to the
// tail of mt's list (rmqueue_bulk, which remembers in its rmqueue mode
// where it found pages); it stops early when the buddy runs dry.
func (p *PCP) refill(mt Migratetype, n int64) {
	l := &p.lists[mt]
	mode := rmqueueNormal
	for ; n > 0; n-- {
		pfn, ok := p.buddy.rmqueue(0, mt, 0, &mode)
		if !ok {
			return
		}
		p.buddy.markPCP(pfn)
		l.append(pfn)
		p.count++
	}
}

// Free puts an allocated order-0 page on the list of its pageblock's
// type and, once the lists hold high pages or more, returns pages to the
// buddy allocator (free_frozen_page_commit). Freeing a page that is
// already free or on a per-CPU list fails with ErrDoubleFree and changes
// nothing.
func (p *PCP) Free(pfn int64) error {
	if err := p.buddy.toPCP(pfn); err != nil {
		return err
	}
	mt := p.buddy.mtOf(pfn)
	if mt >= migratePCPTypes {
		mt = MigrateMovable
	}
	p.allocFactor >>= 1
	p.lists[mt].push(pfn)
	p.count++
	if p.freeCount < p.cfg.Batch<<pcpBatchScaleMax {
		p.freeCount++
	}
	high := p.nrPCPHigh()
	if p.count >= high {
		p.freeBulk(p.nrPCPFree(high), mt)
	}
	return nil
}

// nrPCPHigh is nr_pcp_high with high_min == high_max.
func (p *PCP) nrPCPHigh() int64 {
	if p.high == 0 {
		return 0
	}
	if p.reclaimActive {
		return min(p.cfg.Batch<<2, p.high)
	}
	return p.high
}

// nrPCPFree is nr_pcp_free for order-0 frees: at least a batch, more after
// a run of frees, always leaving a batch on the list; 1 for a disabled list.
func (p *PCP) nrPCPFree(high int64) int64 {
	batch := p.cfg.Batch
	if high < batch {
		return 1
	}
	return min(max(p.freeCount, batch), high-batch)
}

// freeBulk returns up to n pages to the buddy allocator from the tails
// of the lists, round robin starting with list first and emptying each
// list it visits before moving on (free_pcppages_bulk). Each page goes to
// the free list of its pageblock's type at that time. It reports how
// many pages it returned.
func (p *PCP) freeBulk(n int64, first Migratetype) int64 {
	n = min(n, p.count)
	mt := int(first) - 1
	for left := n; left > 0; {
		for {
			if mt++; mt >= len(p.lists) {
				mt = 0
			}
			if p.lists[mt].n > 0 {
				break
			}
		}
		l := &p.lists[mt]
		for left > 0 && l.n > 0 {
			pfn := l.popTail()
			p.count--
			left--
			p.buddy.fromPCP(pfn)
			p.buddy.freeOne(pfn, 0)
		}
	}
	return n
}

// Drain returns every page on the lists to the buddy allocator, in chunks
// of batch << CONFIG_PCP_BATCH_SCALE_MAX as drain_pages_zone does, and
// reports how many pages it returned.
func (p *PCP) Drain() int64 {
	var total int64
	for p.count > 0 {
		total += p.freeBulk(min(p.count, p.cfg.Batch<<pcpBatchScaleMax), 0)
	}
	return total
}

// DrainAllPages empties every given per-CPU list (drain_all_pages, which
// the allocator calls after direct reclaim fails and before it considers
// the OOM killer) and reports the pages returned to the buddy allocators.
func DrainAllPages(pcps []*PCP) int64 {
	var total int64
	for _, p := range pcps {
		total += p.Drain()
	}
	return total
}
