package kernel

// This file is the per-CPU charge stock (consume_stock, refill_stock,
// drain_stock): pages charged ahead in batches, so that most charges touch
// no shared counter.

// memcgStock is struct memcg_stock_pcp for pages: the cgroup whose charge
// it caches (-1 for none) and how many pages.
type memcgStock struct {
	cached int32
	pages  int64
}

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
