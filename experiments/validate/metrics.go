package validate

import (
	"fmt"
	"math"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// MetricID names a compared quantity; it is its key in validation.json.
type MetricID string

// The metrics. The counters (scanned to THP fallbacks) are taken over
// the run's window: from its start to its first OOM kill, or to its end
// without one. After a kill the two sides diverge for reasons the
// comparison is not about (a real kernel may kill a second task while
// the first victim's memory is still being freed; a reader refills its
// cache), and the kill is the outcome the dynamics before it decide.
const (
	// FirstOOM is the time of the first OOM kill (s).
	FirstOOM MetricID = "first_oom_s"
	// Victim is the comm of the first OOM kill's victim ("none").
	Victim MetricID = "victim"
	// AnonAtKill and FileAtKill are the scope cgroup's anon and file
	// (memory.stat) at the first kill, or at the end of a run without
	// one (MiB).
	AnonAtKill MetricID = "anon_at_kill_mib"
	FileAtKill MetricID = "file_at_kill_mib"
	// Scanned and Stolen are pgscan_anon + pgscan_file and pgsteal_anon
	// + pgsteal_file (pages). These, unlike pgscan_kswapd and
	// pgscan_direct, count reclaim for a cgroup's limit too
	// (shrink_inactive_list counts PGSCAN_ANON + file for every reclaim,
	// and the kswapd/direct items only when !cgroup_reclaim(sc)).
	Scanned MetricID = "pgscan_pages"
	Stolen  MetricID = "pgsteal_pages"
	// SwappedOut is pswpout (pages).
	SwappedOut MetricID = "pswpout_pages"
	// Refaults is workingset_refault_anon + workingset_refault_file
	// (pages).
	Refaults MetricID = "refault_pages"
	// StallSome and StallFull are the memory stall time PSI reports,
	// /proc/pressure/memory's some and full totals (ms): the whole
	// host's for a real run, the modelled machine's for a simulation.
	StallSome MetricID = "psi_some_ms"
	StallFull MetricID = "psi_full_ms"
	// Thrash is how long the run thrashed (s): from the first sample at
	// which refaults over the last thrashWindowNs passed
	// thrashRefaultsPerS to the first kill (the run's end without one);
	// 0 when they never did.
	Thrash MetricID = "thrash_s"
	// THPAlloc and THPFallback are thp_fault_alloc and
	// thp_fault_fallback (faults).
	THPAlloc    MetricID = "thp_fault_alloc"
	THPFallback MetricID = "thp_fault_fallback"
)

// The thrash threshold: 10 MiB/s of refaults over 250 ms. A reader
// served from the page cache refaults nothing; one whose hot set no
// longer fits refaults at a good part of its read rate (tens to hundreds
// of MiB/s here). 250 ms is five samples at 50 ms, enough to keep a
// single sample's jitter from starting a thrash.
const (
	thrashRefaultsPerS = 2560 // pages
	thrashWindowNs     = 250_000_000
)

// Unit returns the unit the metric is reported in.
func (m MetricID) Unit() string {
	switch m {
	case FirstOOM, Thrash:
		return "s"
	case AnonAtKill, FileAtKill:
		return "MiB"
	case Scanned, Stolen, SwappedOut, Refaults:
		return "pages"
	case StallSome, StallFull:
		return "ms"
	case THPAlloc, THPFallback:
		return "faults"
	}
	return ""
}

// IsText reports whether the metric is a name compared for equality.
func (m MetricID) IsText() bool { return m == Victim }

// Observed is one run, real or simulated, reduced to what the metrics
// read.
type Observed struct {
	Seed uint64 `json:"seed"`
	// Kills are the run's OOM kills in time order.
	Kills []world.OOMEvent `json:"oom_events"`
	// EndNs is the run's length; EndAnonPages and EndFilePages are the
	// scope cgroup's memory.stat anon and file at its end.
	EndNs        int64 `json:"end_ns"`
	EndAnonPages int64 `json:"end_anon_pages"`
	EndFilePages int64 `json:"end_file_pages"`
	// Models are the models the simulation reports (nil for a real
	// run).
	Models []string `json:"models,omitempty"`
	// series is the run's time series: times and the counters since
	// the run's start, by column name.
	series series
}

// series is a time series with the columns the metrics read.
type series struct {
	timeNs []int64
	cols   map[string][]float64
}

// seriesColumns are the columns kept from a run's time series: the
// memory of the run's cgroups (for the timeline figures) and the
// counters the metrics read, named as timeseries.csv and real.csv name
// them.
var seriesColumns = []string{
	"anon_pages", "file_pages", "swap_used_pages",
	"pgscan_anon", "pgscan_file", "pgsteal_anon", "pgsteal_file", "pswpout",
	"workingset_refault_anon", "workingset_refault_file",
	"psi_some_total_us", "psi_full_total_us", "thp_fault_alloc", "thp_fault_fallback",
}

// newSeries keeps the time and seriesColumns of ts. A column ts lacks
// reads as zeros (a host whose vmstat has no such counter).
func newSeries(ts *world.Timeseries) (series, error) {
	s := series{cols: map[string][]float64{}}
	at := map[string]int{}
	for i, c := range ts.Columns {
		at[c] = i
	}
	ti, ok := at["time_ns"]
	if !ok {
		return s, fmt.Errorf("time series without a time_ns column")
	}
	for _, r := range ts.Rows {
		s.timeNs = append(s.timeNs, int64(r[ti]))
	}
	for _, c := range seriesColumns {
		col := make([]float64, len(ts.Rows))
		if i, ok := at[c]; ok {
			for j, r := range ts.Rows {
				col[j] = r[i]
			}
		}
		s.cols[c] = col
	}
	return s, nil
}

// at returns column c at the last sample at or before ns (0 before the
// first sample).
func (s *series) at(c string, ns int64) float64 {
	col := s.cols[c]
	v := 0.0
	for i, t := range s.timeNs {
		if t > ns {
			break
		}
		v = col[i]
	}
	return v
}

// sum returns the sum of columns cs at the last sample at or before ns.
func (s *series) sum(ns int64, cs ...string) float64 {
	v := 0.0
	for _, c := range cs {
		v += s.at(c, ns)
	}
	return v
}

// windowEndNs is the end of the run's window: its first kill, or its end.
func (o *Observed) windowEndNs() int64 {
	if len(o.Kills) > 0 {
		return o.Kills[0].TimeNs
	}
	return o.EndNs
}

// Value is one metric of one run: a number, or a name for text
// metrics. Defined is false when the run has no such value (no kill for
// the time of the first kill).
type Value struct {
	Num     float64
	Text    string
	Defined bool
}

func num(x float64) Value      { return Value{Num: x, Defined: true} }
func text(s string) Value      { return Value{Text: s, Defined: true} }
func pagesToMiB(p int64) Value { return num(float64(p) / 256) }

// Measure returns metric m of the run.
func (o *Observed) Measure(m MetricID) Value {
	end := o.windowEndNs()
	switch m {
	case FirstOOM:
		if len(o.Kills) == 0 {
			return Value{}
		}
		return num(float64(o.Kills[0].TimeNs) / 1e9)
	case Victim:
		if len(o.Kills) == 0 {
			return text("none")
		}
		return text(o.Kills[0].VictimComm)
	case AnonAtKill, FileAtKill:
		return o.memoryAtKill(m)
	case Scanned:
		return num(o.series.sum(end, "pgscan_anon", "pgscan_file"))
	case Stolen:
		return num(o.series.sum(end, "pgsteal_anon", "pgsteal_file"))
	case SwappedOut:
		return num(o.series.sum(end, "pswpout"))
	case Refaults:
		return num(o.series.sum(end, "workingset_refault_anon", "workingset_refault_file"))
	case StallSome:
		return num(o.series.sum(end, "psi_some_total_us") / 1000)
	case StallFull:
		return num(o.series.sum(end, "psi_full_total_us") / 1000)
	case Thrash:
		return num(o.thrashSeconds())
	case THPAlloc:
		return num(o.series.sum(end, "thp_fault_alloc"))
	case THPFallback:
		return num(o.series.sum(end, "thp_fault_fallback"))
	}
	panic(fmt.Sprintf("validate: no metric %q", m))
}

// memoryAtKill is the scope's anon or file at the first kill, or at the
// end without one, in MiB.
func (o *Observed) memoryAtKill(m MetricID) Value {
	if len(o.Kills) > 0 {
		if m == AnonAtKill {
			return pagesToMiB(o.Kills[0].ScopeAnonPages)
		}
		return pagesToMiB(o.Kills[0].ScopeFilePages)
	}
	if m == AnonAtKill {
		return pagesToMiB(o.EndAnonPages)
	}
	return pagesToMiB(o.EndFilePages)
}

// thrashSeconds measures Thrash: the refault rate at each sample is taken
// over the samples of the last thrashWindowNs (from the latest sample at
// least that old), and the thrash starts at the first sample where it
// passes thrashRefaultsPerS.
func (o *Observed) thrashSeconds() float64 {
	s := &o.series
	end := o.windowEndNs()
	refaults := func(i int) float64 {
		return s.cols["workingset_refault_anon"][i] + s.cols["workingset_refault_file"][i]
	}
	from := 0
	for i, t := range s.timeNs {
		if t > end {
			break
		}
		for from+1 < i && s.timeNs[from+1] <= t-thrashWindowNs {
			from++
		}
		dt := float64(t - s.timeNs[from])
		if t-s.timeNs[from] < thrashWindowNs || dt <= 0 {
			continue
		}
		if rate := (refaults(i) - refaults(from)) / (dt / 1e9); rate >= thrashRefaultsPerS {
			return math.Max(0, float64(end-t)/1e9)
		}
	}
	return 0
}
