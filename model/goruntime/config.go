package goruntime

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sbmpsim/sbmpsim/sim"
)

// Defaults that [Config.withDefaults] fills in for zero fields.
const (
	DefaultObjectSizeBytes   = 256
	DefaultRetainFraction    = 0.1
	DefaultMarkBytesPerNs    = 1.0 // about 1 GB/s of live heap per mark worker
	DefaultSweepTermBaseNs   = 10_000
	DefaultSweepTermPerPNs   = 1_000
	DefaultMarkTermBaseNs    = 15_000
	DefaultMarkTermPerPNs    = 2_000
	DefaultSweepBatchObjects = 1024
	DefaultTickNs            = 10_000_000 // 10 ms
	DefaultScavengeBytesPerS = 256 << 20
	DefaultLimiterWindowNs   = 1_000_000_000 // Go's limiter holds 1 CPU-second per P
	DefaultMaxGCRecords      = 1 << 18       // about 40 MiB of records
)

// GOGCOff is the GOGC value that turns the GOGC pacer off (GOGC=off).
const GOGCOff = -1

// Sizer draws object sizes. Implementations must be deterministic given the
// stream.
type Sizer interface {
	// SampleBytes returns the size of the next object, > 0.
	SampleBytes(s *sim.Stream) int64
	// MeanBytes is the mean of SampleBytes, > 0; it sets the arrival rate.
	MeanBytes() float64
}

// FixedSize is a [Sizer] whose objects all have the same size in bytes.
type FixedSize int64

// SampleBytes returns the fixed size; it draws nothing.
func (f FixedSize) SampleBytes(*sim.Stream) int64 { return int64(f) }

// MeanBytes returns the fixed size.
func (f FixedSize) MeanBytes() float64 { return float64(f) }

// SizeFunc adapts a function and its mean to a [Sizer].
type SizeFunc struct {
	Sample func(s *sim.Stream) int64
	Mean   float64
}

// SampleBytes calls f.Sample.
func (f SizeFunc) SampleBytes(s *sim.Stream) int64 { return f.Sample(s) }

// MeanBytes returns f.Mean.
func (f SizeFunc) MeanBytes() float64 { return f.Mean }

// Config describes the Go program. Fields marked "0: default" take the
// Default* constants; GOGC has no default because 0 is a valid GOGC (use
// [DefaultConfig] for a starting point).
type Config struct {
	AllocBytesPerS float64 // mutator allocation rate, bytes per simulated second; > 0
	Sizes          Sizer   // object sizes; nil: FixedSize(DefaultObjectSizeBytes)
	LiveBytes      int64   // steady live heap the program keeps; >= 0
	RetainFraction float64 // chance a steady-state object joins the live set; 0: default; in (0, 1]

	GOGC             int   // GOGC percent; GOGCOff (-1) turns it off; 0 is valid (collect continuously)
	MemoryLimitBytes int64 // GOMEMLIMIT; 0: none
	StacksBytes      int64 // goroutine stacks: scanned, counted in the GOGC goal and against the limit
	GlobalsBytes     int64 // globals: likewise

	LeakBytesPerS float64 // leak rate: objects that join the live set for ever; 0: none
	LeakFromNs    int64   // the leak starts this long after Start

	GOMAXPROCS int   // number of Ps; 0: len(CPUs), or 1 if CPUs is empty
	CPUs       []int // CPUs the goroutines allocate and sweep on; nil: 0..GOMAXPROCS-1

	MarkBytesPerNs    float64 // bytes of live heap one mark worker scans per ns; 0: default
	SweepTermBaseNs   int64   // sweep termination pause, fixed part; 0: default
	SweepTermPerPNs   int64   // sweep termination pause, per P; 0: default
	MarkTermBaseNs    int64   // mark termination pause, fixed part; 0: default
	MarkTermPerPNs    int64   // mark termination pause, per P; 0: default
	SweepBatchObjects int     // objects the sweeper frees per event; 0: default

	TickNs            int64   // period of the scavenger and limit-goal refresh; 0: default
	ScavengeOff       bool    // no scavenger
	ScavengeBytesPerS float64 // most the scavenger releases per second; 0: default
	LimiterWindowNs   int64   // GC CPU limiter bucket, in ns per P; 0: default

	MaxGCRecords int       // per-cycle records kept; later cycles are counted, not kept; 0: default
	GCTrace      io.Writer // receives one gctrace line per GC; nil: none

	// Loop is what the mutator does when an allocation takes long (the
	// heap stalled in reclaim or throttling, or waited for memory).
	Loop Loop
}

// Loop is the mutator's back-pressure: how an allocation's cost delays
// the next one.
type Loop int

const (
	// LoopClosed (the default): the goroutine that allocated is blocked
	// for the allocation's cost, so the next allocation comes that much
	// later.
	LoopClosed Loop = iota
	// LoopQueued: allocations keep their open-loop times but none starts
	// before the previous one finished; the wait is part of its cost.
	LoopQueued
	// LoopIgnore: the cost is counted (AllocNs) but delays nothing.
	LoopIgnore
)

// DefaultConfig returns a small service: 100 MiB/s of allocation, a 64 MiB
// live heap, GOGC=100, no limit, 4 Ps.
func DefaultConfig() Config {
	return Config{
		AllocBytesPerS: 100 << 20,
		LiveBytes:      64 << 20,
		GOGC:           100,
		GOMAXPROCS:     4,
	}
}

// withDefaults returns cfg with its zero fields filled, or an error naming
// the first invalid field.
func (cfg Config) withDefaults() (Config, error) {
	if err := cfg.validateWorkload(); err != nil {
		return cfg, err
	}
	if err := cfg.validateRuntime(); err != nil {
		return cfg, err
	}
	if cfg.Sizes == nil {
		cfg.Sizes = FixedSize(DefaultObjectSizeBytes)
	}
	if cfg.RetainFraction == 0 {
		cfg.RetainFraction = DefaultRetainFraction
	}
	if cfg.GOMAXPROCS == 0 {
		cfg.GOMAXPROCS = max(1, len(cfg.CPUs))
	}
	if len(cfg.CPUs) == 0 {
		cfg.CPUs = make([]int, cfg.GOMAXPROCS)
		for i := range cfg.CPUs {
			cfg.CPUs[i] = i
		}
	} else {
		cfg.CPUs = append([]int(nil), cfg.CPUs...) // the caller keeps its slice
	}
	fill := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	fill(&cfg.SweepTermBaseNs, DefaultSweepTermBaseNs)
	fill(&cfg.SweepTermPerPNs, DefaultSweepTermPerPNs)
	fill(&cfg.MarkTermBaseNs, DefaultMarkTermBaseNs)
	fill(&cfg.MarkTermPerPNs, DefaultMarkTermPerPNs)
	fill(&cfg.TickNs, DefaultTickNs)
	fill(&cfg.LimiterWindowNs, DefaultLimiterWindowNs)
	if cfg.MarkBytesPerNs == 0 {
		cfg.MarkBytesPerNs = DefaultMarkBytesPerNs
	}
	if cfg.ScavengeBytesPerS == 0 {
		cfg.ScavengeBytesPerS = DefaultScavengeBytesPerS
	}
	if cfg.SweepBatchObjects == 0 {
		cfg.SweepBatchObjects = DefaultSweepBatchObjects
	}
	if cfg.MaxGCRecords == 0 {
		cfg.MaxGCRecords = DefaultMaxGCRecords
	}
	return cfg, nil
}

func positiveFinite(x float64) bool { return x > 0 && !math.IsInf(x, 0) }

func (cfg Config) validateWorkload() error {
	switch {
	case !positiveFinite(cfg.AllocBytesPerS):
		return fmt.Errorf("goruntime: AllocBytesPerS is %v; set a positive allocation rate in bytes per second", cfg.AllocBytesPerS)
	case cfg.Sizes != nil && !positiveFinite(cfg.Sizes.MeanBytes()):
		return fmt.Errorf("goruntime: Sizes.MeanBytes() is %v; it must be positive", cfg.Sizes.MeanBytes())
	case cfg.LiveBytes < 0:
		return fmt.Errorf("goruntime: LiveBytes is %d; it must be >= 0", cfg.LiveBytes)
	case !(cfg.RetainFraction >= 0 && cfg.RetainFraction <= 1):
		return fmt.Errorf("goruntime: RetainFraction is %v; it must be in (0, 1], or 0 for the default", cfg.RetainFraction)
	case !(cfg.LeakBytesPerS >= 0) || math.IsInf(cfg.LeakBytesPerS, 0):
		return fmt.Errorf("goruntime: LeakBytesPerS is %v; it must be >= 0 and finite", cfg.LeakBytesPerS)
	case cfg.LeakFromNs < 0:
		return fmt.Errorf("goruntime: LeakFromNs is %d; it must be >= 0", cfg.LeakFromNs)
	}
	return nil
}

func (cfg Config) validateRuntime() error {
	if cfg.GOGC < GOGCOff {
		return fmt.Errorf("goruntime: GOGC is %d; use a percentage >= 0 or GOGCOff (-1)", cfg.GOGC)
	}
	if cfg.GOMAXPROCS < 0 {
		return fmt.Errorf("goruntime: GOMAXPROCS is %d; it must be >= 1, or 0 for len(CPUs)", cfg.GOMAXPROCS)
	}
	for i, c := range cfg.CPUs {
		if c < 0 {
			return fmt.Errorf("goruntime: CPUs[%d] is %d; CPU numbers are >= 0", i, c)
		}
	}
	ints := []struct {
		name string
		v    int64
	}{
		{"MemoryLimitBytes", cfg.MemoryLimitBytes}, {"StacksBytes", cfg.StacksBytes},
		{"GlobalsBytes", cfg.GlobalsBytes}, {"SweepTermBaseNs", cfg.SweepTermBaseNs},
		{"SweepTermPerPNs", cfg.SweepTermPerPNs}, {"MarkTermBaseNs", cfg.MarkTermBaseNs},
		{"MarkTermPerPNs", cfg.MarkTermPerPNs}, {"SweepBatchObjects", int64(cfg.SweepBatchObjects)},
		{"TickNs", cfg.TickNs}, {"LimiterWindowNs", cfg.LimiterWindowNs},
		{"MaxGCRecords", int64(cfg.MaxGCRecords)},
	}
	for _, f := range ints {
		if f.v < 0 {
			return fmt.Errorf("goruntime: %s is %d; it must be >= 0 (0 takes the default)", f.name, f.v)
		}
	}
	if !(cfg.MarkBytesPerNs >= 0) || math.IsInf(cfg.MarkBytesPerNs, 0) {
		return fmt.Errorf("goruntime: MarkBytesPerNs is %v; it must be positive, or 0 for the default", cfg.MarkBytesPerNs)
	}
	if !(cfg.ScavengeBytesPerS >= 0) || math.IsInf(cfg.ScavengeBytesPerS, 0) {
		return fmt.Errorf("goruntime: ScavengeBytesPerS is %v; it must be positive, or 0 for the default", cfg.ScavengeBytesPerS)
	}
	return nil
}

// errNoHeap is returned by New without a heap.
var errNoHeap = errors.New("goruntime: heap is nil; pass the heap the program allocates from")

// Streams are the random streams a [Program] draws from, one per purpose so
// that a change to one draw never shifts another.
type Streams struct {
	Arrivals  sim.Stream // gaps between allocations
	Sizes     sim.Stream // object sizes
	Fates     sim.Stream // whether an object joins the live set
	Placement sim.Stream // the CPU each allocation runs on
	Leaks     sim.Stream // leak gaps and sizes
}

// NewStreams derives a program's streams from seeds, named
// "go/NAME/arrivals" and so on.
func NewStreams(seeds sim.Seeds, name string) Streams {
	p := "go/" + name + "/"
	return Streams{
		Arrivals:  seeds.Stream(p + "arrivals"),
		Sizes:     seeds.Stream(p + "sizes"),
		Fates:     seeds.Stream(p + "fates"),
		Placement: seeds.Stream(p + "placement"),
		Leaks:     seeds.Stream(p + "leaks"),
	}
}
