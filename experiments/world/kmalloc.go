package world

import (
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/sim"
)

// kmallocConfig is a [[workload]] of kind "kmalloc-leak", compiled:
// kmalloc(size, GFP_ATOMIC) calls whose objects are never freed (SPEC
// 1.6). Objects are packed into slabs of the kmalloc cache for their size
// (the next power of two, at least 8 bytes; a slab is one page, or 2^order
// pages for objects past 4 KiB), so the page allocator sees one atomic
// page request per slab. The pages are kernel memory: no task owns them,
// reclaim cannot take them and the OOM killer cannot free them.
type kmallocConfig struct {
	index        int // the workload's index
	name         string
	node, cpu    int
	objBytes     int64 // the cache's object size
	reqBytes     int64 // the requested size
	slabOrder    int
	perSlab      int64
	bytesPerTick float64
	limitBytes   int64 // 0: no limit
	startNs      int64
	stopNs       int64 // 0: none
}

// newKmallocConfig sizes the kmalloc cache for objects of reqBytes.
func newKmallocConfig(reqBytes int64) kmallocConfig {
	obj := int64(8)
	for obj < reqBytes {
		obj <<= 1
	}
	order := 0
	for int64(kernel.PageSize)<<order < obj {
		order++
	}
	return kmallocConfig{objBytes: obj, reqBytes: reqBytes, slabOrder: order, perSlab: (int64(kernel.PageSize) << order) / obj}
}

// kmallocLeak is one kmalloc leak in a run.
type kmallocLeak struct {
	cfg        *kmallocConfig
	due        float64 // bytes of objects owed to the leak so far
	objects    int64   // leaked objects
	slabs      int64   // pages held = slabs << slabOrder
	freeInSlab int64
	failures   int64
}

// kmallocDriver runs the kmalloc leaks: each allocates what is due every
// faultTickNs.
type kmallocDriver struct {
	eng   *sim.Engine
	k     *kernelSide
	kTick sim.Kind
	leaks []*kmallocLeak
}

// newKmallocDriver registers the leaks' tick event; add starts each leak.
func newKmallocDriver(eng *sim.Engine, k *kernelSide) *kmallocDriver {
	d := &kmallocDriver{eng: eng, k: k}
	d.kTick = eng.Register("kernel.kmalloc_leak", d.onTick)
	return d
}

// add starts a leak: its first tick is at its start.
func (d *kmallocDriver) add(c *kmallocConfig) {
	d.leaks = append(d.leaks, &kmallocLeak{cfg: c})
	d.eng.Schedule(c.startNs, d.kTick, int64(len(d.leaks)-1), 0)
}

// onTick runs one tick of leak A: the objects due by now are allocated, a
// new slab (GFP_ATOMIC: no reclaim, may dip into the reserves, never the
// OOM killer) whenever the current one is full. A failed slab allocation
// fails the kmalloc calls it was for, as kmalloc(GFP_ATOMIC) returns NULL.
func (d *kmallocDriver) onTick(ev sim.Event) {
	l := d.leaks[ev.A]
	c := l.cfg
	if c.stopNs > 0 && ev.At >= c.stopNs {
		return
	}
	l.due += c.bytesPerTick
	for l.due >= float64(c.reqBytes) {
		if c.limitBytes > 0 && l.objects*c.reqBytes >= c.limitBytes {
			return
		}
		l.due -= float64(c.reqBytes)
		if l.freeInSlab == 0 {
			res, err := d.k.m.Alloc(kernel.AllocRequest{Node: c.node, Order: c.slabOrder, GFP: kernel.GFPAtomic, CPU: c.cpu})
			if err != nil {
				panic(err) // a malformed request: a bug, loudly
			}
			if !res.OK {
				l.failures++
				continue
			}
			l.slabs++
			l.freeInSlab = c.perSlab
		}
		l.freeInSlab--
		l.objects++
	}
	d.k.wakeKswapd(ev.At)
	d.eng.Schedule(ev.At+faultTickNs, d.kTick, ev.A, 0)
}

// appendSummaries appends one line per leak to out.
func (d *kmallocDriver) appendSummaries(out []KernelWorkloadSummary) []KernelWorkloadSummary {
	for _, l := range d.leaks {
		out = append(out, KernelWorkloadSummary{
			Name: l.cfg.name, Kind: scenario.KindKmallocLeak, ObjectsLeaked: l.objects,
			SlabPages: l.slabs << l.cfg.slabOrder, Failures: l.failures,
		})
	}
	return out
}
