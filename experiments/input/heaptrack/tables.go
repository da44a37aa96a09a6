package heaptrack

import "slices"

// traceNode is a "t" line: an instruction pointer index and the parent
// trace index, both 1-based with 0 meaning none.
type traceNode struct {
	ip     uint32
	parent uint32
}

// traceTables keeps what heaptrack_print needs to apply leak suppressions:
// the strings, which strings each instruction pointer refers to, and the
// trace tree. Only Summarize builds it.
type traceTables struct {
	strings      []string
	suppressions []string

	// opNewNames are the operator new signatures not yet seen; heaptrack
	// drops operator new frames from the top of traces.
	opNewNames   []string
	opNewStrings []uint32
	opNewIPs     []uint32

	ipStrings []uint32 // string indices of all instruction pointers, flat
	ipEnd     []int    // ipEnd[k] ends the strings of instruction pointer k+1
	traces    []traceNode
}

func newTraceTables() *traceTables {
	return &traceTables{
		suppressions: builtinSuppressions(),
		opNewNames: []string{
			"operator new(unsigned long)",
			"operator new[](unsigned long)",
			"operator new(unsigned int)",
			"operator new[](unsigned int)",
		},
	}
}

func (t *traceTables) addSuppressionLine(text []byte) {
	if pattern, ok := parseSuppression(text); ok {
		t.suppressions = append(t.suppressions, pattern)
	}
}

func (t *traceTables) addString(b []byte) {
	s := string(b)
	t.strings = append(t.strings, s)
	if k := slices.Index(t.opNewNames, s); k >= 0 {
		t.opNewStrings = append(t.opNewStrings, uint32(len(t.strings)))
		t.opNewNames = slices.Delete(t.opNewNames, k, k+1)
	}
}

// addIPString records one string index (module, function or file) of the
// instruction pointer being read; endIP finishes it.
func (t *traceTables) addIPString(index uint32) {
	t.ipStrings = append(t.ipStrings, index)
}

func (t *traceTables) endIP(function uint32) {
	t.ipEnd = append(t.ipEnd, len(t.ipStrings))
	if slices.Contains(t.opNewStrings, function) {
		t.opNewIPs = append(t.opNewIPs, uint32(len(t.ipEnd)))
	}
}

// addTrace stores a trace node, replacing operator new frames by their
// parent like heaptrack's reader does.
func (t *traceTables) addTrace(ip, parent uint32) {
	node := traceNode{ip: ip, parent: parent}
	// Stored nodes never point at operator new, so this runs at most
	// twice; the bound only guards against a mistake in that reasoning.
	for range len(t.traces) + 1 {
		if !slices.Contains(t.opNewIPs, node.ip) {
			break
		}
		node = t.findTrace(node.parent)
	}
	t.traces = append(t.traces, node)
}

func (t *traceTables) findTrace(index uint32) traceNode {
	if index == 0 || int64(index) > int64(len(t.traces)) {
		return traceNode{}
	}
	return t.traces[index-1]
}

// suppressedTraces reports, for each trace (index k for trace k+1), whether
// a suppression matches a string of it or of one of its callers. It
// returns nil when no string matches any suppression.
func (t *traceTables) suppressedTraces() []bool {
	stringMatch := make([]bool, len(t.strings))
	anyMatch := false
	for i, s := range t.strings {
		for _, pattern := range t.suppressions {
			if matchesSuppression(pattern, s) {
				stringMatch[i] = true
				anyMatch = true
				break
			}
		}
	}
	if !anyMatch {
		return nil
	}
	ipMatch := make([]bool, len(t.ipEnd))
	begin := 0
	for k, end := range t.ipEnd {
		for _, s := range t.ipStrings[begin:end] {
			if s >= 1 && int64(s) <= int64(len(stringMatch)) && stringMatch[s-1] {
				ipMatch[k] = true
				break
			}
		}
		begin = end
	}
	traceMatch := make([]bool, len(t.traces))
	for k, node := range t.traces {
		p, ip := int64(node.parent), int64(node.ip)
		traceMatch[k] = (p >= 1 && p <= int64(len(traceMatch)) && traceMatch[p-1]) ||
			(ip >= 1 && ip <= int64(len(ipMatch)) && ipMatch[ip-1])
	}
	return traceMatch
}
