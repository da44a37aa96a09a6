package world

import "github.com/sbmpsim/sbmpsim/experiments/stats"

// Result is everything one run produced.
type Result struct {
	Summary    Summary
	Timeseries Timeseries
	// Scenario is the resolved scenario (defaults and overrides applied)
	// as canonical TOML: run it again to get the same result.
	Scenario []byte
	// Files are further outputs by file name, such as a go-runtime
	// workload's gctrace-NAME.txt.
	Files map[string][]byte
	// Latency is the histogram of every successful allocation's latency
	// (alloc_latency_ns summarises it), for CDF figures.
	Latency *stats.LatencyHist
	// Check counts what the checks of a checked run did (Options.
	// CheckEvery); it is not part of the summary.
	Check CheckStats
}

// finish ends a run whose engine reached endNs: the last sample, the Go
// programs' files, and the Result. atEnd, if set, is called first, while
// the whole simulation is still alive.
func finish(s *simulation, endNs int64, atEnd func()) (*Result, error) {
	s.books.advance(endNs)
	if atEnd != nil {
		atEnd()
	}
	if s.ts.lastTimeNs() != endNs {
		s.sample(endNs)
	}
	files := map[string][]byte{}
	for _, g := range s.progs {
		if g != nil {
			g.addFiles(files)
		}
	}
	if ps := s.books.probes; ps != nil {
		files["probes.csv"] = ps.csv(s.cfg.workloadNames)
	}
	lat := s.books.lat
	return &Result{Summary: s.summary(endNs), Timeseries: s.ts, Scenario: s.cfg.encoded, Files: files, Latency: &lat}, nil
}
