package kernel

// This file is the charge path: charging and uncharging memory pages
// (page_counter_try_charge, uncharge_batch) and try_charge_memcg with its
// reclaim, retry and OOM decisions (mm/memcontrol.c, Linux 6.12).

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
	margin := max(m.max-m.usage, 0)
	if c.memsw {
		// v1: the memsw counter's room bounds it too.
		s := &c.cgs[i].swap
		margin = min(margin, max(satAdd(m.max, s.max)-m.usage-s.usage, 0))
	}
	return margin
}

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
// machine's. cgroup v1's memsw counter is modelled (SetMemsw: the memsw
// try-charge first, reclaim without swap when it fails, its room in the
// margin). Not modelled: the v1 OOM lock and charge moving, and the OOM
// killer's margin recheck inside
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
