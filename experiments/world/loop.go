package world

import "github.com/sbmpsim/sbmpsim/experiments/input/scenario"

// loopMode is what a workload's threads do when an allocation stalls
// them ([[workload]] loop): the back-pressure of a blocked allocator.
type loopMode uint8

const (
	// loopClosed: the thread blocks for the stall, and work that would
	// reach it meanwhile is not issued (its clients wait on it). This is
	// how memory.high throttling keeps a bursty workload from reaching
	// memory.max: the throttled allocator is the back-pressure.
	loopClosed loopMode = iota
	// loopQueued: work keeps its open-loop times and queues behind the
	// blocked thread; the wait is part of its latency.
	loopQueued
	// loopIgnore: stalls are charged to the allocation but delay nothing.
	loopIgnore
)

// loopOf is the loop mode a scenario names (validated already).
func loopOf(name string) loopMode {
	switch name {
	case scenario.LoopQueued:
		return loopQueued
	case scenario.LoopIgnore:
		return loopIgnore
	}
	return loopClosed
}
