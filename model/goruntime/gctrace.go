package goruntime

import "strconv"

// trace writes the gctrace line of the cycle in p.cur, if tracing is on.
// A write error stops tracing and is noted in Stats.
func (p *Program) trace(now int64) {
	w := p.cfg.GCTrace
	if w == nil || p.st.GCTraceWriteError {
		return
	}
	util := 0
	if elapsed := now - p.startNs; elapsed > 0 {
		util = int(float64(p.st.GCCPUNs) / (float64(elapsed) * float64(p.cfg.GOMAXPROCS)) * 100)
	}
	line := appendTrace(nil, p.cur, traceContext{
		sinceNs: p.cur.StartNs - p.startNs, utilPct: util, procs: p.cfg.GOMAXPROCS,
		stacksBytes: p.cfg.StacksBytes, globalsBytes: p.cfg.GlobalsBytes,
	})
	if _, err := w.Write(line); err != nil {
		p.st.GCTraceWriteError = true
	}
}

// traceContext is what a gctrace line needs beyond the cycle's record.
type traceContext struct {
	sinceNs      int64 // cycle start relative to program start
	utilPct      int   // GC CPU fraction since start, percent, truncated
	procs        int
	stacksBytes  int64
	globalsBytes int64
}

// appendTrace appends the GODEBUG=gctrace=1 line of r, in the format of
// Go 1.21+ (mgc.go, gcMarkTermination):
//
//	gc # @#s #%: #+#+# ms clock, #+#/#/#+# ms cpu, #->#-># MB, # MB goal, # MB stacks, # MB globals, # P
//
// The clock times are sweep termination, mark and mark termination; the
// CPU times are sweep termination, assist, background and idle mark
// (always 0 here), and mark termination. Pauses use all Ps.
func appendTrace(b []byte, r GCRecord, c traceContext) []byte {
	procs := int64(c.procs)
	b = append(b, "gc "...)
	b = strconv.AppendInt(b, r.Num, 10)
	b = append(b, " @"...)
	b = appendDecimal(b, uint64(c.sinceNs)/1e6, 3)
	b = append(b, "s "...)
	b = strconv.AppendInt(b, int64(c.utilPct), 10)
	b = append(b, "%: "...)
	b = appendMS(b, r.MarkStartNs-r.StartNs)
	b = append(b, '+')
	b = appendMS(b, r.MarkEndNs-r.MarkStartNs)
	b = append(b, '+')
	b = appendMS(b, r.EndNs-r.MarkEndNs)
	b = append(b, " ms clock, "...)
	b = appendMS(b, procs*(r.MarkStartNs-r.StartNs))
	b = append(b, '+')
	b = appendMS(b, r.AssistNs)
	b = append(b, '/')
	b = appendMS(b, r.MarkCPUNs-r.AssistNs)
	b = append(b, "/0+"...)
	b = appendMS(b, procs*(r.EndNs-r.MarkEndNs))
	b = append(b, " ms cpu, "...)
	b = appendMB(b, r.HeapBefore, "->")
	b = appendMB(b, r.HeapAtMarkEnd, "->")
	b = appendMB(b, r.HeapMarked, " MB, ")
	b = appendMB(b, r.HeapGoal, " MB goal, ")
	b = appendMB(b, c.stacksBytes, " MB stacks, ")
	b = appendMB(b, c.globalsBytes, " MB globals, ")
	b = strconv.AppendInt(b, procs, 10)
	b = append(b, " P"...)
	if r.Forced {
		b = append(b, " (forced)"...)
	}
	return append(b, '\n')
}

func appendMB(b []byte, bytes int64, suffix string) []byte {
	b = strconv.AppendInt(b, bytes>>20, 10)
	return append(b, suffix...)
}

// appendMS formats ns as milliseconds the way the runtime does: whole
// milliseconds from 10 ms up, else two significant digits (of whole
// microseconds) with at most three decimals; 0 below 1 µs.
func appendMS(b []byte, ns int64) []byte {
	if ns < 0 {
		ns = 0
	}
	u := uint64(ns)
	if u >= 10e6 {
		return strconv.AppendUint(b, u/1e6, 10)
	}
	x := u / 1e3
	if x == 0 {
		return append(b, '0')
	}
	dec := 3
	for x >= 100 {
		x /= 10
		dec--
	}
	return appendDecimal(b, x, dec)
}

// appendDecimal appends v / 10^dec with exactly dec decimals.
func appendDecimal(b []byte, v uint64, dec int) []byte {
	digits := strconv.FormatUint(v, 10)
	for len(digits) <= dec {
		digits = "0" + digits
	}
	cut := len(digits) - dec
	b = append(b, digits[:cut]...)
	if dec > 0 {
		b = append(b, '.')
		b = append(b, digits[cut:]...)
	}
	return b
}
