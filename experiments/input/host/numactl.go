package host

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/model/numa"
)

// The text of `numactl --hardware`, as numactl's hardware() and
// print_distances() print it (numactl.c, checked against numactl 2.0.16,
// Debian's, and the current sources):
//
//	available: 2 nodes (0-1)
//	node 0 cpus: 0 1 2 3
//	node 0 size: 64326 MB
//	node 0 free: 60168 MB
//	node 1 cpus: 4 5 6 7
//	node 1 size: 64506 MB
//	node 1 free: 62001 MB
//	node distances:
//	node   0   1
//	  0:  10  21
//	  1:  21  10
//
// "size" and "free" are MemTotal and MemFree of the node's sysfs meminfo,
// shifted right by 20 bits: MiB, printed as "MB". A node without CPUs
// prints "node 2 cpus:" with nothing after it. Distance columns are
// printed with "% 3d " (numactl 2.0.19 and later: "% 4d "), so every
// distance line ends in a space and wide node ids shift the columns.
// numactl --cpu-compress (2.0.18 and later) prints CPU lists as ranges with
// a count: "node 0 cpus: 0-15, 32-47 (32)".

// MaxNumactlBytes bounds the size of numactl output ParseNumactl reads.
const MaxNumactlBytes = 4 << 20

// ParseError is a problem in `numactl --hardware` text, located by file
// and line. ParseNumactl returns it, or several joined with errors.Join.
type ParseError struct {
	// File is the name given to ParseNumactl.
	File string
	// Line is 1-based, or 0 when the problem is not on one line.
	Line int
	// Msg says what was expected and what was found.
	Msg string
}

// Error formats e as "FILE:LINE: MSG" (or "FILE: MSG" without a line).
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ParseNumactl parses the output of `numactl --hardware` read from r; name
// is used in errors and as the topology's Name. It accepts any number of
// nodes, sparse node ids, CPU lists in any order (also --cpu-compress
// ranges), CPU-less nodes, asymmetric distances, trailing spaces, blank
// lines and CPU lists wrapped onto continuation lines (as mail clients do
// to pasted output). Numactl does not print sockets: they are inferred
// (numa.InferSockets). "No distance information available." gives Linux's
// default distances, 10 local and numa.RemoteDistance (20) otherwise. The cost
// model is numa.DefaultCost and no media parameters are set.
//
// Every problem is a *ParseError naming the file and the line, and saying
// what was expected; ParseNumactl never panics. The result passes
// Topology.Validate.
func ParseNumactl(name string, r io.Reader) (numa.Topology, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxNumactlBytes+1))
	if err != nil {
		return numa.Topology{}, &ParseError{File: name, Msg: "read: " + err.Error()}
	}
	if len(data) > MaxNumactlBytes {
		return numa.Topology{}, &ParseError{File: name, Msg: fmt.Sprintf("more than %d bytes; this is not numactl --hardware output", MaxNumactlBytes)}
	}
	p := &numactlParser{file: name}
	if err := p.parse(data); err != nil {
		return numa.Topology{}, err
	}
	return p.topology()
}

// numactlParser holds the state of one ParseNumactl call.
type numactlParser struct {
	file  string
	lines []string // without line ends and trailing blanks
	next  int      // index of the next line to read
	line  int      // 1-based number of the last line read

	availableLine int
	ids           []int               // node ids of the "available:" line
	nodes         map[int]*parsedNode // by id
	distances     [][]int
	noDistances   bool // "No distance information available."
}

// parsedNode is what the node lines said about one node, with where.
type parsedNode struct {
	cpus                         []int
	hasCPUs, hasSize             bool
	memoryMB                     int64
	cpusLine, sizeLine, distLine int
}

func (p *numactlParser) errorf(line int, format string, args ...any) error {
	return &ParseError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// nextLine returns the next non-blank line, or ok false at the end.
func (p *numactlParser) nextLine() (string, bool) {
	for p.next < len(p.lines) {
		s := p.lines[p.next]
		p.next++
		p.line = p.next
		if s != "" {
			return s, true
		}
	}
	p.line = len(p.lines) + 1
	return "", false
}

// peekLine returns the next non-blank line and its number without
// consuming it.
func (p *numactlParser) peekLine() (string, int, bool) {
	for i := p.next; i < len(p.lines); i++ {
		if p.lines[i] != "" {
			return p.lines[i], i + 1, true
		}
	}
	return "", len(p.lines) + 1, false
}

// parse reads the whole text: the available line, the node lines and the
// distance matrix.
func (p *numactlParser) parse(data []byte) error {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxNumactlBytes+1)
	for sc.Scan() {
		p.lines = append(p.lines, strings.TrimRight(sc.Text(), " \t\r"))
	}
	if err := sc.Err(); err != nil {
		return p.errorf(0, "read: %v", err)
	}
	if err := p.parseAvailable(); err != nil {
		return err
	}
	if err := p.parseNodeLines(); err != nil {
		return err
	}
	if err := p.parseDistances(); err != nil {
		return err
	}
	if s, ok := p.nextLine(); ok {
		return p.errorf(p.line, "unexpected text after the distance matrix: %q", clip(s))
	}
	return nil
}

// parseAvailable reads "available: N nodes (LIST)".
func (p *numactlParser) parseAvailable() error {
	s, ok := p.nextLine()
	switch {
	case !ok:
		return p.errorf(0, "empty input: expected the output of numactl --hardware, starting with \"available: N nodes (LIST)\"")
	case strings.HasPrefix(s, "No NUMA available"):
		return p.errorf(p.line, "numactl reports no NUMA support on that system; model it with the %q preset or a one-node [machine]", numa.Preset1Node)
	}
	rest, ok := strings.CutPrefix(s, "available:")
	if !ok {
		return p.errorf(p.line, "expected \"available: N nodes (LIST)\", got %q", clip(s))
	}
	f := strings.Fields(rest)
	if len(f) != 3 || (f[1] != "nodes" && f[1] != "node") || !strings.HasPrefix(f[2], "(") || !strings.HasSuffix(f[2], ")") {
		return p.errorf(p.line, "expected \"available: N nodes (LIST)\", got %q", clip(s))
	}
	count, err := strconv.Atoi(f[0])
	if err != nil || count < 1 || count > numa.MaxNodes {
		return p.errorf(p.line, "node count must be a number in 1..%d, got %q", numa.MaxNodes, f[0])
	}
	list := strings.TrimSuffix(strings.TrimPrefix(f[2], "("), ")")
	ids, err := numa.ParseCPUList(list)
	if err != nil || len(ids) == 0 {
		return p.errorf(p.line, "node list %q is not a list of node ids such as (0-3) or (0,8,252-255)", list)
	}
	if ids[len(ids)-1] > numa.MaxNodeID {
		return p.errorf(p.line, "node id %d is out of range 0..%d", ids[len(ids)-1], numa.MaxNodeID)
	}
	if len(ids) != count {
		return p.errorf(p.line, "%d nodes announced but the list (%s) has %d", count, list, len(ids))
	}
	p.availableLine, p.ids = p.line, ids
	p.nodes = make(map[int]*parsedNode, len(ids))
	for _, id := range ids {
		p.nodes[id] = &parsedNode{}
	}
	return nil
}

// parseNodeLines reads "node K cpus:", "node K size:" and "node K free:"
// lines up to "node distances:".
func (p *numactlParser) parseNodeLines() error {
	var lastCPUs *parsedNode // node whose cpus line may continue
	for {
		s, at, ok := p.peekLine()
		if !ok {
			return p.errorf(at, "expected \"node distances:\" after the node lines, got the end of the input")
		}
		if s == "node distances:" || strings.HasPrefix(s, "No distance information") {
			return p.checkNodesComplete(at)
		}
		p.nextLine()
		if lastCPUs != nil && isCPUContinuation(s) {
			cpus, err := parseNumactlCPUs(s)
			if err == nil && len(lastCPUs.cpus)+len(cpus) > numa.MaxCPU+1 {
				err = fmt.Errorf("the node has more than %d CPUs", numa.MaxCPU+1)
			}
			if err != nil {
				return p.errorf(p.line, "continuation of the cpus line %d: %v", lastCPUs.cpusLine, err)
			}
			lastCPUs.cpus = append(lastCPUs.cpus, cpus...)
			continue
		}
		nd, field, value, err := p.nodeLine(s)
		if err != nil {
			return err
		}
		lastCPUs = nil
		switch field {
		case "cpus":
			if nd.hasCPUs {
				return p.errorf(p.line, "second cpus line for this node (the first is on line %d)", nd.cpusLine)
			}
			cpus, err := parseNumactlCPUs(value)
			if err != nil {
				return p.errorf(p.line, "cpus: %v", err)
			}
			nd.cpus, nd.hasCPUs, nd.cpusLine, lastCPUs = cpus, true, p.line, nd
		case "size":
			if nd.hasSize {
				return p.errorf(p.line, "second size line for this node (the first is on line %d)", nd.sizeLine)
			}
			mb, err := parseMB(value)
			if err != nil {
				return p.errorf(p.line, "size: %v", err)
			}
			nd.memoryMB, nd.hasSize, nd.sizeLine = mb, true, p.line
		case "free":
			// Free memory is the host's state at the time, not part of the
			// machine; it is checked for form only.
			if _, err := parseMB(value); err != nil && value != "<not available>" {
				return p.errorf(p.line, "free: %v", err)
			}
		}
	}
}

// nodeLine splits "node K FIELD: VALUE" and returns the node.
func (p *numactlParser) nodeLine(s string) (*parsedNode, string, string, error) {
	head, value, ok := strings.Cut(s, ":")
	f := strings.Fields(head)
	if !ok || len(f) != 3 || f[0] != "node" || (f[2] != "cpus" && f[2] != "size" && f[2] != "free") {
		return nil, "", "", p.errorf(p.line, "expected \"node K cpus: ...\", \"node K size: M MB\", \"node K free: M MB\" or \"node distances:\", got %q", clip(s))
	}
	id, err := strconv.Atoi(f[1])
	nd := p.nodes[id]
	if err != nil || nd == nil {
		return nil, "", "", p.errorf(p.line, "node %s is not in the list of available nodes (%s, line %d)", f[1], numa.FormatCPUList(p.ids), p.availableLine)
	}
	return nd, f[2], strings.TrimSpace(value), nil
}

// checkNodesComplete checks that every node had its cpus and size lines
// before the distances (on line at) and lists no CPU twice.
func (p *numactlParser) checkNodesComplete(at int) error {
	for _, id := range p.ids {
		nd := p.nodes[id]
		switch {
		case !nd.hasCPUs:
			return p.errorf(at, "node %d has no \"node %d cpus:\" line before \"node distances:\"", id, id)
		case !nd.hasSize:
			return p.errorf(at, "node %d has no \"node %d size: M MB\" line before \"node distances:\"", id, id)
		}
		slices.Sort(nd.cpus)
		if len(slices.Compact(slices.Clone(nd.cpus))) != len(nd.cpus) {
			return p.errorf(nd.cpusLine, "node %d lists a CPU twice", id)
		}
	}
	return nil
}

// parseDistances reads "node distances:", the header row and one row per
// node, or "No distance information available.".
func (p *numactlParser) parseDistances() error {
	s, _ := p.nextLine()
	if strings.HasPrefix(s, "No distance information") {
		p.noDistances = true
		return nil
	}
	header, ok := p.nextLine()
	if !ok {
		return p.errorf(p.line, "expected the header row \"node %s\" after \"node distances:\", got the end of the input", spaced(p.ids))
	}
	f := strings.Fields(header)
	if len(f) == 0 || f[0] != "node" || !sameIDs(f[1:], p.ids) {
		return p.errorf(p.line, "expected the header row \"node %s\" (the available nodes), got %q", spaced(p.ids), clip(header))
	}
	p.distances = make([][]int, len(p.ids))
	for i, id := range p.ids {
		row, ok := p.nextLine()
		if !ok {
			return p.errorf(p.line, "node distances row for node %d: expected \"%d:\" and %d distances, got the end of the input", id, id, len(p.ids))
		}
		f := strings.Fields(row)
		if len(f) == 0 || f[0] != strconv.Itoa(id)+":" {
			return p.errorf(p.line, "node distances row for node %d: expected it to start with \"%d:\", got %q", id, id, clip(row))
		}
		if len(f)-1 != len(p.ids) {
			return p.errorf(p.line, "node distances row for node %d: expected %d distances, got %d", id, len(p.ids), len(f)-1)
		}
		p.distances[i] = make([]int, len(p.ids))
		for j, tok := range f[1:] {
			d, err := strconv.Atoi(tok)
			if err != nil || d < 0 || d > 255 {
				return p.errorf(p.line, "node distances row for node %d: distance %d is %q, expected a number in 0..255", id, j+1, tok)
			}
			p.distances[i][j] = d
		}
		p.nodes[id].distLine = p.line
	}
	return nil
}

// topology builds and validates the result.
func (p *numactlParser) topology() (numa.Topology, error) {
	t := numa.Topology{Name: p.file, Cost: numa.DefaultCost()}
	for _, id := range p.ids {
		nd := p.nodes[id]
		t.Nodes = append(t.Nodes, numa.Node{ID: id, CPUs: nd.cpus, MemoryMB: nd.memoryMB})
	}
	if p.noDistances {
		p.distances = numa.DefaultDistances(len(p.ids))
	}
	t.Distances = p.distances
	for i, s := range numa.InferSockets(t.Nodes, t.Distances) {
		t.Nodes[i].Socket = s
	}
	err := t.Validate()
	if err == nil {
		return t, nil
	}
	var errs []error
	for _, e := range unjoin(err) {
		var fe *numa.FieldError
		if !errors.As(e, &fe) {
			errs = append(errs, &ParseError{File: p.file, Msg: e.Error()})
			continue
		}
		errs = append(errs, &ParseError{File: p.file, Line: p.lineOf(fe.Key), Msg: fe.Msg})
	}
	return numa.Topology{}, errors.Join(errs...)
}

// lineOf maps a numa.FieldError key to the line the value came from.
func (p *numactlParser) lineOf(key string) int {
	field, idx, ok := strings.Cut(key, ".")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil || i < 0 || i >= len(p.ids) {
		return 0
	}
	nd := p.nodes[p.ids[i]]
	switch field {
	case "cpus":
		return nd.cpusLine
	case "memory_mb":
		return nd.sizeLine
	case "distances":
		return nd.distLine
	case "node_ids":
		return p.availableLine
	}
	return 0
}

// parseNumactlCPUs parses the value of a cpus line: CPU numbers separated
// by spaces, in any order, or --cpu-compress ranges "0-15, 32-47 (32)".
func parseNumactlCPUs(s string) ([]int, error) {
	want := -1
	if i := strings.LastIndexByte(s, '('); i >= 0 && strings.HasSuffix(s, ")") {
		n, err := strconv.Atoi(s[i+1 : len(s)-1])
		if err != nil {
			return nil, fmt.Errorf("CPU count %q is not a number", s[i:])
		}
		want, s = n, s[:i]
	}
	var cpus []int
	for tok := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
		loText, hiText, isRange := strings.Cut(tok, "-")
		lo, err := numa.ParseCPUNumber(loText)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = numa.ParseCPUNumber(hiText); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, fmt.Errorf("range %q ends before it starts", tok)
			}
		}
		if len(cpus)+hi-lo+1 > numa.MaxCPU+1 {
			return nil, fmt.Errorf("more than %d CPUs", numa.MaxCPU+1)
		}
		for c := lo; c <= hi; c++ {
			cpus = append(cpus, c)
		}
	}
	if want >= 0 && want != len(cpus) {
		return nil, fmt.Errorf("the count says (%d) but the list has %d CPUs", want, len(cpus))
	}
	return cpus, nil
}

// isCPUContinuation reports whether s looks like the wrapped tail of a
// cpus line: only CPU numbers, separators and an optional count.
func isCPUContinuation(s string) bool {
	return strings.Trim(s, "0123456789 \t,-()") == "" && strings.ContainsAny(s, "0123456789") && !strings.Contains(s, ":")
}

// parseMB parses "M MB".
func parseMB(s string) (int64, error) {
	if s == "<not available>" {
		return 0, fmt.Errorf("numactl could not read the node's meminfo (\"<not available>\"); the model needs each node's memory size")
	}
	num, unit, ok := strings.Cut(s, " ")
	if !ok || strings.TrimSpace(unit) != "MB" {
		return 0, fmt.Errorf("expected \"M MB\", got %q", clip(s))
	}
	mb, err := strconv.ParseInt(num, 10, 64)
	if err != nil || mb < 0 || mb > numa.MaxMemoryMB {
		return 0, fmt.Errorf("expected a size in 0..%d MB, got %q", numa.MaxMemoryMB, num)
	}
	return mb, nil
}

// sameIDs reports whether the header tokens are exactly ids.
func sameIDs(tokens []string, ids []int) bool {
	if len(tokens) != len(ids) {
		return false
	}
	for i, tok := range tokens {
		if tok != strconv.Itoa(ids[i]) {
			return false
		}
	}
	return true
}

// spaced joins ints with spaces, for messages.
func spaced(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, " ")
}

// clip shortens s for error messages.
func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// FormatNumactl prints t the way `numactl --hardware` (numactl 2.0.16)
// prints a machine, so that ParseNumactl(FormatNumactl(t)) gives back the
// fields numactl carries: node ids, CPUs, memory sizes and distances
// (sockets come back through numa.InferSockets; media and cost parameters are
// not carried). "free" is printed equal to "size": a modelled machine
// starts with all its memory free.
func FormatNumactl(t numa.Topology) string {
	var b strings.Builder
	ids := t.NodeIDs()
	fmt.Fprintf(&b, "available: %d nodes (%s)\n", len(t.Nodes), numa.FormatCPUList(ids))
	for _, n := range t.Nodes {
		fmt.Fprintf(&b, "node %d cpus:", n.ID)
		for _, c := range n.CPUs {
			fmt.Fprintf(&b, " %d", c)
		}
		fmt.Fprintf(&b, "\nnode %d size: %d MB\nnode %d free: %d MB\n", n.ID, n.MemoryMB, n.ID, n.MemoryMB)
	}
	b.WriteString("node distances:\nnode ")
	for _, id := range ids {
		fmt.Fprintf(&b, "% 3d ", id)
	}
	b.WriteString("\n")
	for i, id := range ids {
		fmt.Fprintf(&b, "% 3d: ", id)
		for j := range ids {
			fmt.Fprintf(&b, "% 3d ", t.Distances[i][j])
		}
		b.WriteString("\n")
	}
	return b.String()
}
