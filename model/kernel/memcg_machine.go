package kernel

import (
	"fmt"
	"slices"
)

// This file joins the machine's pages to the cgroup v2 memory controller
// (memcg.go): every user page is charged to its task's cgroup before it
// is allocated (mem_cgroup_charge -> try_charge_memcg), reclaim uncharges
// what it frees and charges swap for what it swaps, and a charge that
// reclaim cannot make room for ends in the memcg OOM killer, scoped to the
// cgroup whose memory.max was hit.

// AddCgroup creates a cgroup (its parent must exist) with its limits.
func (m *Machine) AddCgroup(path string, limits CgroupLimits) error {
	if len(m.cgPaths) >= maxCgroups {
		return fmt.Errorf("kernel: cgroup %q: the model keeps at most %d cgroups", path, maxCgroups)
	}
	if err := m.cgroups.Create(path, limits); err != nil {
		return err
	}
	return m.addCgroupIndex(path)
}

// CgroupPaths returns the cgroups, "/" first, parents before children.
func (m *Machine) CgroupPaths() []string { return slices.Clone(m.cgPaths) }

// Cgroup returns a snapshot of a cgroup's counters and events; its Stat
// is memory.stat in pages (and events), kept from the machine's pages.
func (m *Machine) Cgroup(path string) (Cgroup, bool) { return m.cgroups.Get(path) }

// CgroupFile renders one of a cgroup's memory controller files as
// cgroupfs shows it (Cgroups.File): memory.stat, memory.events,
// memory.current and the rest.
func (m *Machine) CgroupFile(path, name string) (string, error) { return m.cgroups.File(path, name) }

// uncharge returns pages of cgroup cg's charge; a failure is a model bug.
func (m *Machine) uncharge(cg int, pages int64) {
	if err := m.cgroups.Uncharge(m.cgPaths[cg], pages); err != nil {
		panic("kernel: " + err.Error())
	}
}

// canSwap reports whether a page of cgroup cg may go to swap: free slots
// on the device and room under memory.swap.max of cg and its ancestors.
func (m *Machine) canSwap(cg int) bool {
	free := m.cfg.SwapPages - m.swap.used
	if free <= 0 {
		return false
	}
	avail, err := m.cgroups.SwapAvailable(m.cgPaths[cg], free)
	return err == nil && avail > 0
}

// chargeSwap charges one swap slot to cgroup cg; canSwap said it fits.
func (m *Machine) chargeSwap(cg int) {
	if ok, _, err := m.cgroups.TryChargeSwap(m.cgPaths[cg], 1); !ok || err != nil {
		panic(fmt.Sprintf("kernel: swap charge refused after canSwap: %v", err))
	}
}

// unchargeSwap returns swap slots of cgroup cg.
func (m *Machine) unchargeSwap(cg int, pages int64) {
	if pages == 0 {
		return
	}
	if err := m.cgroups.UnchargeSwap(m.cgPaths[cg], pages); err != nil {
		panic("kernel: " + err.Error())
	}
}

// memcgReclaimer is try_to_free_mem_cgroup_pages for the charge path:
// do_try_to_free_pages aimed at the cgroup, over every node in index
// order (the model does not know the charging CPU's node, whose zonelist
// the kernel walks); its cost accumulates in *stallNs.
func (m *Machine) memcgReclaimer(stallNs *int64, cpu int) MemcgReclaimer {
	return func(r MemcgReclaim) int64 {
		sc := scanControl{target: r.NrToReclaimPages, root: m.cgIndex[r.Cgroup], cgroupReclaim: true, movable: true, noSwap: !r.MaySwap}
		sc.setCPU(cpu)
		m.doTryToFreePages(m.nodeOrder, &sc)
		*stallNs += sc.res.costNs
		return sc.res.reclaimed
	}
}

// chargeUser charges one page to task slot's cgroup. On success it also
// handles memory.high throttling (mem_cgroup_handle_over_high) once the
// task has gathered a charge batch over high. On failure the OOM event,
// if the memcg OOM killer ran, says whom it killed.
func (m *Machine) chargeUser(slot int, noOOM bool) (ok bool, stallNs int64, oom *OOMEvent) {
	return m.chargePages(slot, 1, ChargeOptions{RetryMayFail: noOOM})
}

// chargePages is chargeUser for n pages at once with the gfp mask's
// options, as mem_cgroup_charge charges a large folio.
func (m *Machine) chargePages(slot int, n int64, opts ChargeOptions) (ok bool, stallNs int64, oom *OOMEvent) {
	t := &m.tasks[slot]
	opts.Dying = t.killed
	ok, stallNs, oom, over := m.charge(t.cg, slot, n, opts)
	if !ok {
		return false, stallNs, oom
	}
	t.overHighPages += over
	if t.overHighPages > MemcgChargeBatch {
		h, err := m.cgroups.HandleOverHigh(m.cgPaths[t.cg], t.overHighPages, HighOptions{Dying: t.killed}, m.memcgReclaimer(&stallNs, t.cpu))
		if err != nil {
			panic("kernel: " + err.Error())
		}
		t.overHighPages = 0
		stallNs += h.StallNs
		m.stats.MemcgHighStallNs += h.StallNs
	}
	return true, stallNs, nil
}

// chargeCg charges n pages to cgroup cg for a kernel allocation
// (__memcg_kmem_charge_page -> obj_cgroup_charge_pages ->
// try_charge_memcg), by the task at slot allocating (-1: none, for the
// memcg OOM killer's choice). memory.high's overage is left to the
// task's next user page charge.
func (m *Machine) chargeCg(cg, allocating int, n int64, opts ChargeOptions) (ok bool, stallNs int64, oom *OOMEvent) {
	if allocating >= 0 {
		opts.Dying = m.tasks[allocating].killed
	}
	ok, stallNs, oom, over := m.charge(cg, allocating, n, opts)
	if ok && allocating >= 0 {
		m.tasks[allocating].overHighPages += over
	}
	return ok, stallNs, oom
}

// charge is try_charge_memcg of n pages to cgroup cg with its memcg
// reclaim, and the memcg OOM killer when it asks for one; it returns the
// pages to add to the charging task's over-high count.
func (m *Machine) charge(cg, allocating int, n int64, opts ChargeOptions) (ok bool, stallNs int64, oom *OOMEvent, overHigh int64) {
	cpu := -1
	if allocating >= 0 {
		cpu = m.tasks[allocating].cpu
	}
	res, err := m.cgroups.Charge(m.cgPaths[cg], n, opts, m.memcgReclaimer(&stallNs, cpu))
	if err != nil {
		panic("kernel: " + err.Error())
	}
	if !res.Charged {
		if res.InvokeOOM {
			oom = m.memcgOOM(res.Over, allocating)
		}
		return false, stallNs, oom, 0
	}
	return true, stallNs, nil, res.OverHighPages
}

// memcgOOM is mem_cgroup_out_of_memory: the victim is chosen among the
// tasks in over's subtree, with totalpages from the cgroup's limit.
func (m *Machine) memcgOOM(over string, allocating int) *OOMEvent {
	ctrl, err := m.cgroups.OOMControl(over, m.cfg.SwapPages, m.cfg.Swappiness)
	if err != nil {
		panic("kernel: " + err.Error())
	}
	ctrl.Allocating = allocating
	d := SelectVictim(m.Tasks(), ctrl)
	ev := &OOMEvent{Scope: "memcg:" + over, Action: d.Action, Points: d.Points, Reason: d.Reason}
	if d.Action != OOMKill {
		return ev
	}
	v := &m.tasks[d.Victim]
	v.OOMVictim, v.Exiting, v.killed = true, true, true
	ev.VictimPID, ev.VictimComm = v.PID, v.Comm
	if err := m.cgroups.RecordOOMKill(v.Cgroup); err != nil {
		panic("kernel: " + err.Error())
	}
	m.stats.OOMKills++
	m.vmstat[VMOOMKill]++
	return ev
}
