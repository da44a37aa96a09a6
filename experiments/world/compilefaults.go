package world

import (
	"fmt"
	"slices"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/policies"
)

// compileFaults resolves each [[fault]] against the machine's nodes, the
// workloads and the policies.
func (c *config) compileFaults(sc *scenario.Scenario) error {
	for i, f := range sc.Faults {
		fc := faultConfig{index: i, kind: f.Kind, startNs: f.AtMs * 1e6}
		if f.DurationMs > 0 {
			fc.endNs = fc.startNs + f.DurationMs*1e6
		}
		where := fmt.Sprintf("fault %d (%s)", i, f.Kind)
		var err error
		switch f.Kind {
		case scenario.FaultNUMALatency:
			err = c.compileLatencyFault(&fc, &f, where)
		case scenario.FaultNodeOffline:
			fc.kernelNode = c.machine.kernelNodeOfID(f.Node)
			if fc.kernelNode < 0 {
				err = fmt.Errorf("%s: node %d is not a node with memory on the machine", where, f.Node)
			}
		case scenario.FaultLeak:
			err = c.compileLeakFault(sc, &fc, &f, where)
		case scenario.FaultPolicySwap:
			fc.process, fc.swapTo = f.Process, compilePolicy(swappedPolicy(sc.Policy, f))
		}
		if err != nil {
			return err
		}
		c.faults = append(c.faults, fc)
	}
	return nil
}

// compileLatencyFault resolves the nodes a numa-latency fault slows down:
// the links between the nodes of its set (every node when it names none).
func (c *config) compileLatencyFault(fc *faultConfig, f *scenario.Fault, where string) error {
	fc.latencyFactor, fc.bandwidthFactor = f.LatencyFactor, f.BandwidthFactor
	fc.inSet = make([]bool, len(c.machine.memNodeIDs))
	if f.Nodes == "" {
		for k := range fc.inSet {
			fc.inSet[k] = true
		}
		return nil
	}
	ids, err := scenario.ParseCPUList(f.Nodes)
	if err != nil {
		return fmt.Errorf("%s: nodes: %w", where, err)
	}
	for _, id := range ids {
		k := c.machine.kernelNodeOfID(id)
		if k < 0 {
			return fmt.Errorf("%s: nodes: node %d is not a node with memory on the machine", where, id)
		}
		fc.inSet[k] = true
	}
	return nil
}

// compileLeakFault resolves a leak's target: a Go program (its leak rate
// is set) or a synthetic workload (leaked objects of its sizes arrive as
// a Poisson process from the fault's own streams).
func (c *config) compileLeakFault(sc *scenario.Scenario, fc *faultConfig, f *scenario.Fault, where string) error {
	fc.target = slices.IndexFunc(sc.Workloads, func(w scenario.Workload) bool { return w.Name == f.Workload })
	if fc.target < 0 {
		return fmt.Errorf("%s: no workload named %q", where, f.Workload)
	}
	fc.bytesPerS = f.RateMBPerS * (1 << 20)
	if slices.ContainsFunc(c.programs, func(p programConfig) bool { return p.index == fc.target }) {
		fc.goTarget = true
		return nil
	}
	i := slices.IndexFunc(c.synthetic, func(s syntheticConfig) bool { return s.index == fc.target })
	if i < 0 {
		return fmt.Errorf("%s: workload %q cannot leak", where, f.Workload)
	}
	fc.leakGapNs = c.synthetic[i].sizes.Mean() / (f.RateMBPerS * (1 << 20)) * 1e9
	fc.streamsName = fmt.Sprintf("fault/%d/", fc.index)
	return nil
}

// swappedPolicy is base with the policies a policy-swap fault names; a
// kind whose policy changes gets that policy's default parameters.
func swappedPolicy(base scenario.Policy, f scenario.Fault) scenario.Policy {
	p := base
	for _, kind := range policies.Kinds() {
		if name := f.Policy(kind); name != "" && name != p.Name(kind) {
			p = p.With(kind, name)
		}
	}
	return p
}
