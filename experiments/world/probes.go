package world

import (
	"bytes"
	"strconv"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/sbmp"
	"github.com/sbmpsim/sbmpsim/sim"
)

// Probes ([[probe]], SPEC 3.2 and 4.2) watch SBMP allocations of the
// workloads at their final outcome (after any degrade waits): an "alloc"
// probe records every allocation or a sample of them; a "span" probe
// records the allocations Tier-2 served from the page allocator, always
// those above spanSmallBytes and a sample of the small ones, each with its
// size in pages and the allocating stack's depth, and flags them past
// SPEC 4.2's thresholds. Sampling draws from a stream of the probe's own,
// so probes change nothing in the run. What they record is probes.csv
// (Result.Files); their counts are summary.json's probes.

// SPEC 4.2's thresholds for span allocations, and what "small" is.
const (
	// spanFlagRatePerS flags a span allocation when more than this many
	// were made in the second up to and including it.
	spanFlagRatePerS = 1000
	// spanFlagPages flags a single request above 512 pages (2 MiB).
	spanFlagPages = 512
	// spanFlagStack flags a stack of 12 frames or more.
	spanFlagStack = 12
	// spanSmallBytes: requests up to 32 KiB are small (Go's largest small
	// size class, maxSmallSize, and SPEC 2.5's page-cache bound) and
	// sampled at the probe's rate; larger spans are always recorded.
	spanSmallBytes = 32 << 10
	// maxProbeRecords bounds what probes hold for probes.csv (64 MiB of
	// records at most); beyond it they count what they drop.
	maxProbeRecords = 1 << 20
)

// Span flags, as probes.csv spells them.
const (
	probeFlagRate uint8 = 1 << iota
	probeFlagSize
	probeFlagStack
)

// probeConfig is one compiled [[probe]].
type probeConfig struct {
	name, kind string
	rate       float64
	workload   int // the watched workload's index, -1 for all
}

// compileProbes resolves the scenario's probes.
func compileProbes(sc *scenario.Scenario) []probeConfig {
	var out []probeConfig
	for _, p := range sc.Probes {
		c := probeConfig{name: p.Name, kind: p.Kind, rate: p.EffectiveSampleRate(), workload: -1}
		for i, w := range sc.Workloads {
			if p.Workload != "" && w.Name == p.Workload {
				c.workload = i
			}
		}
		out = append(out, c)
	}
	return out
}

// probeRecord is one recorded allocation: a row of probes.csv.
type probeRecord struct {
	timeNs, sizeBytes, latencyNs int64
	probe, workload, cpu         int32
	stackDepth                   int32 // -1: the workload kind has no stacks
	tier                         int8  // -1: the allocation failed
	flags                        uint8
}

// probeRun is one probe's state in a run.
type probeRun struct {
	cfg      probeConfig
	index    int32
	rng      sim.Stream
	seen     uint64 // allocations it saw (spans, for a span probe)
	recorded uint64
	dropped  uint64 // recorded past maxProbeRecords
	flagged  [3]uint64
	// window holds the times of the spans of the last second, from
	// head on.
	window []int64
	head   int
}

// probeSet is a run's probes.
type probeSet struct {
	probes  []*probeRun
	records []probeRecord
}

func newProbeSet(cfgs []probeConfig, seeds sim.Seeds) *probeSet {
	ps := &probeSet{}
	for i, c := range cfgs {
		ps.probes = append(ps.probes, &probeRun{cfg: c, index: int32(i), rng: seeds.Stream("probe/" + c.name)})
	}
	return ps
}

// observe shows one allocation of workload wi, asked on cpu, to every
// probe watching it: size bytes, its result, its latency from the first
// request (waits included), and its stack depth (-1 when unknown).
func (ps *probeSet) observe(now int64, wi, cpu int, size int64, res sbmp.AllocResult, latencyNs int64, depth int32) {
	if ps == nil {
		return
	}
	for _, p := range ps.probes {
		if p.cfg.workload >= 0 && p.cfg.workload != wi {
			continue
		}
		rec := probeRecord{timeNs: now, sizeBytes: size, latencyNs: latencyNs, probe: p.index, workload: int32(wi),
			cpu: int32(cpu), stackDepth: depth, tier: int8(res.Tier)}
		if !res.OK {
			rec.tier = -1
		}
		always := false // recorded without sampling
		switch p.cfg.kind {
		case scenario.ProbeSpan:
			if !res.OK || res.Tier != 2 {
				continue
			}
			p.seen++
			rec.flags = p.spanFlags(now, size, depth)
			for b := range p.flagged {
				if rec.flags&(1<<b) != 0 {
					p.flagged[b]++
				}
			}
			always = size > spanSmallBytes
		default:
			p.seen++
		}
		if !always && p.cfg.rate < 1 && p.rng.Float64() >= p.cfg.rate {
			continue
		}
		p.recorded++
		if len(ps.records) >= maxProbeRecords {
			p.dropped++
			continue
		}
		ps.records = append(ps.records, rec)
	}
}

// spanFlags are SPEC 4.2's flags of a span of size bytes at now.
func (p *probeRun) spanFlags(now, size int64, depth int32) (flags uint8) {
	for p.head < len(p.window) && p.window[p.head] <= now-1e9 {
		p.head++
	}
	if p.head > 1024 && p.head > len(p.window)/2 {
		p.window = p.window[:copy(p.window, p.window[p.head:])]
		p.head = 0
	}
	p.window = append(p.window, now)
	if len(p.window)-p.head > spanFlagRatePerS {
		flags |= probeFlagRate
	}
	if (size+4095)/4096 > spanFlagPages {
		flags |= probeFlagSize
	}
	if depth >= spanFlagStack {
		flags |= probeFlagStack
	}
	return flags
}

// ProbeSummary is one probe's line in summary.json.
type ProbeSummary struct {
	// Name is the probe's name ([[probe]] name, default "probe" and its
	// index): probes.csv's probe column.
	Name string `json:"name"`
	// Kind is "alloc" (SPEC 3.2's allocation-entry probe) or "span"
	// (SPEC 4.2's probe on the allocations Tier-2 served).
	Kind string `json:"kind"`
	// SampleRate is the fraction of the allocations it sees that it
	// records (a span probe records those above 32 KiB always): the
	// scenario's sample_rate, or 1 for alloc and 0.01 for span by default.
	SampleRate float64 `json:"sample_rate"`
	// Workload is the watched workload, "" for all.
	Workload string `json:"workload"`
	// Seen counts the allocations the probe saw, at their final outcome
	// (a span probe: the successful ones Tier-2 served).
	Seen uint64 `json:"seen"`
	// Recorded counts those it recorded (sampled, or recorded always).
	Recorded uint64 `json:"recorded"`
	// Dropped counts those it recorded past the bound on probes.csv's
	// rows (1,048,576 over all probes): counted, not written.
	Dropped uint64 `json:"dropped"`
	// FlaggedRate counts a span probe's allocations past SPEC 4.2's rate
	// threshold, more than 1,000 spans in the second up to and including
	// it (every span seen, sampled or not).
	FlaggedRate uint64 `json:"flagged_rate"`
	// FlaggedSize counts its spans of more than 512 pages (2 MiB).
	FlaggedSize uint64 `json:"flagged_size"`
	// FlaggedStack counts its spans allocated 12 stack frames deep or
	// more (heaptrack replays have stacks; other kinds never flag).
	FlaggedStack uint64 `json:"flagged_stack"`
}

// summary is the probes' lines.
func (ps *probeSet) summary(workloads []string) []ProbeSummary {
	var out []ProbeSummary
	for _, p := range ps.probes {
		w := ""
		if p.cfg.workload >= 0 {
			w = workloads[p.cfg.workload]
		}
		out = append(out, ProbeSummary{Name: p.cfg.name, Kind: p.cfg.kind, SampleRate: p.cfg.rate, Workload: w,
			Seen: p.seen, Recorded: p.recorded, Dropped: p.dropped,
			FlaggedRate: p.flagged[0], FlaggedSize: p.flagged[1], FlaggedStack: p.flagged[2]})
	}
	return out
}

// ProbesCSVHeader is the header of probes.csv: per recorded allocation,
// the probe's name, the simulated time, the workload, the CPU that asked,
// the size in bytes and in 4 KiB pages, the tier that served it (-1:
// failed), ok (1 or 0), the latency from the first request in ns (waits
// included), the stack depth (-1: not modelled for the workload's kind;
// a heaptrack trace has it) and SPEC 4.2's flags (rate|size|stack, empty
// for none).
const ProbesCSVHeader = "probe,time_ns,workload,cpu,size_bytes,pages,tier,ok,latency_ns,stack_depth,flags\n"

// csv renders the records as probes.csv.
func (ps *probeSet) csv(workloads []string) []byte {
	var b bytes.Buffer
	b.WriteString(ProbesCSVHeader)
	var line []byte
	for _, r := range ps.records {
		line = append(line[:0], ps.probes[r.probe].cfg.name...)
		line = append(line, ',')
		line = strconv.AppendInt(line, r.timeNs, 10)
		line = append(line, ',')
		line = append(line, workloads[r.workload]...)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(r.cpu), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, r.sizeBytes, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, (r.sizeBytes+4095)/4096, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(r.tier), 10)
		if r.tier >= 0 {
			line = append(line, ",1,"...)
		} else {
			line = append(line, ",0,"...)
		}
		line = strconv.AppendInt(line, r.latencyNs, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(r.stackDepth), 10)
		line = append(line, ',')
		sep := ""
		for i, name := range [3]string{"rate", "size", "stack"} {
			if r.flags&(1<<i) != 0 {
				line = append(line, sep...)
				line = append(line, name...)
				sep = "|"
			}
		}
		line = append(line, '\n')
		b.Write(line)
	}
	return b.Bytes()
}
