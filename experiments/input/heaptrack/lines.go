package heaptrack

import "math"

// parseLine handles one line. ok reports whether it produced an Op.
func (r *Reader) parseLine(line []byte) (op Op, ok bool, err error) {
	if len(line) == 0 || line[0] == '#' {
		return Op{}, false, nil
	}
	kind := line[0]
	if len(line) > 1 && line[1] != ' ' {
		return Op{}, false, r.errorf("malformed line: type %q must be followed by a space", kind)
	}
	var args []byte
	if len(line) > 2 {
		args = line[2:]
	}
	switch kind {
	case '+':
		return r.parseAlloc(args)
	case '-':
		return r.parseFree(args)
	case 'c':
		return r.parseTime(args)
	case 'R':
		return r.parseRSS(args)
	case 'A':
		if len(line) != 1 {
			return Op{}, false, r.errorf("malformed 'A' line: it takes no fields")
		}
		return Op{Kind: KindAttach}, true, nil
	}
	return Op{}, false, r.parseMetaLine(kind, line, args)
}

// parseMetaLine handles the lines that describe the trace rather than
// events in it.
func (r *Reader) parseMetaLine(kind byte, line, args []byte) error {
	switch kind {
	case 'v':
		return r.parseVersion(args)
	case 'X':
		if r.sawCommand {
			return r.errorf("duplicated debuggee entry ('X' line); heaptrack rejects such files too")
		}
		r.sawCommand = true
		r.command = string(args)
		return nil
	case 'I':
		var f [2]uint64
		if err := r.exactHexFields(kind, args, f[:], "page size, physical pages"); err != nil {
			return err
		}
		if f[0] > math.MaxInt64 || f[1] > math.MaxInt64 {
			return r.errorf("malformed 'I' line: value out of range")
		}
		r.pageSizeBytes, r.physPages = f[0], f[1]
		return nil
	case 'S':
		if r.tables != nil {
			r.tables.addSuppressionLine(args)
		}
		return nil
	case 's':
		return r.parseString(line, args)
	case 'i':
		return r.parseIP(args)
	case 't':
		return r.parseTrace(args)
	case 'a':
		return r.parseAllocInfo(args)
	}
	return r.errorf("unknown line type %q (not a heaptrack trace, or a raw file not run through heaptrack_interpret)", kind)
}

// parseVersion handles "v HEAPTRACK_VERSION [FILE_VERSION]".
func (r *Reader) parseVersion(args []byte) error {
	if r.sawVersion {
		return r.errorf("duplicate version ('v') line")
	}
	if r.sawData {
		return r.errorf("version ('v') line after data lines")
	}
	r.sawVersion = true
	var f [2]uint64
	n, err := r.parseHexFields('v', args, f[:])
	if err != nil {
		return err
	}
	if n == 0 {
		return r.errorf("malformed 'v' line: want the heaptrack version and file version")
	}
	if f[0] > maxIndex || f[1] > maxIndex {
		return r.errorf("malformed 'v' line: version out of range")
	}
	r.heaptrackVersion = uint32(f[0])
	switch {
	case n == 2:
		r.fileVersion = int(f[1])
	case f[0] == 0x010200:
		// Before 1.0.0 heaptrack wrote 0x010200 alone; heaptrack reads
		// that as file version 1.
		r.fileVersion = 1
	}
	if r.fileVersion > MaxFileVersion {
		return r.errorf("file format version %d is newer than this reader understands (%d); written by heaptrack %x",
			r.fileVersion, MaxFileVersion, r.heaptrackVersion)
	}
	return nil
}

// parseString handles "s LEN TEXT" (file version 3) or "s TEXT".
func (r *Reader) parseString(line, args []byte) error {
	r.sawData = true
	if len(line) < 2 {
		return r.errorf("malformed 's' line: missing the string")
	}
	str := args
	if r.fileVersion >= 3 {
		lenField, rest := args, []byte(nil)
		for i, c := range args {
			if c == ' ' {
				lenField, rest = args[:i], args[i+1:]
				break
			}
		}
		n, problem := parseHex(lenField)
		if problem != "" {
			return r.errorf("malformed 's' line: string length: %s", problem)
		}
		if n != uint64(len(rest)) {
			return r.errorf("malformed 's' line: string length %d but %d bytes follow (a newline in the string?)", n, len(rest))
		}
		str = rest
	}
	if r.numStrings == maxIndex {
		return r.errorf("too many strings")
	}
	r.numStrings++
	if r.tables != nil {
		r.tables.addString(str)
	}
	return nil
}

// parseIP handles "i IP MODULE [FUNCTION [FILE LINE [FUNCTION FILE LINE]...]]".
func (r *Reader) parseIP(args []byte) error {
	r.sawData = true
	s := newFieldScanner(args)
	n := 0
	var function uint64
	for field, ok := s.next(); ok; field, ok = s.next() {
		v, problem := parseHex(field)
		if problem != "" {
			return r.errorf("malformed 'i' line: %s", problem)
		}
		// Fields 1, 2, 3, 5, 6, 8, 9, ... are string indices (module,
		// function, file, then function and file of each inlined frame);
		// fields 4, 7, ... are line numbers.
		isString := n == 1 || (n >= 2 && (n-2)%3 != 2)
		if isString && v > r.numStrings {
			return r.errorf("'i' line field %d names string %d, but only %d strings are defined", n+1, v, r.numStrings)
		}
		if n >= 1 && v > maxIndex {
			return r.errorf("malformed 'i' line: field %d out of range", n+1)
		}
		if n == 2 {
			function = v
		}
		if isString && r.tables != nil {
			r.tables.addIPString(uint32(v))
		}
		n++
	}
	if n != 2 && n != 3 && (n < 5 || (n-5)%3 != 0) {
		return r.errorf("malformed 'i' line: %d fields; want IP MODULE [FUNCTION [FILE LINE [FUNCTION FILE LINE]...]]", n)
	}
	if r.numIPs == maxIndex {
		return r.errorf("too many instruction pointers")
	}
	r.numIPs++
	if r.tables != nil {
		r.tables.endIP(uint32(function))
	}
	return nil
}

// parseTrace handles "t IP_INDEX PARENT_TRACE_INDEX".
func (r *Reader) parseTrace(args []byte) error {
	r.sawData = true
	var f [2]uint64
	if err := r.exactHexFields('t', args, f[:], "instruction pointer index, parent trace index"); err != nil {
		return err
	}
	if f[0] > r.numIPs {
		return r.errorf("'t' line names instruction pointer %d, but only %d are defined", f[0], r.numIPs)
	}
	if f[1] > r.numTraces {
		return r.errorf("'t' line names parent trace %d, but only %d are defined", f[1], r.numTraces)
	}
	if r.numTraces == maxIndex {
		return r.errorf("too many traces")
	}
	r.numTraces++
	depth := uint32(1)
	if f[1] > 0 {
		depth += r.depths[f[1]-1]
	}
	r.depths = append(r.depths, depth)
	if r.tables != nil {
		r.tables.addTrace(uint32(f[0]), uint32(f[1]))
	}
	return nil
}

// parseAllocInfo handles "a SIZE TRACE_INDEX".
func (r *Reader) parseAllocInfo(args []byte) error {
	r.sawData = true
	if r.fileVersion < 1 {
		return r.errorf("'a' line in a file of format version 0 (which records sizes on '+' lines)")
	}
	var f [2]uint64
	if err := r.exactHexFields('a', args, f[:], "size, trace index"); err != nil {
		return err
	}
	return r.addInfo(f[0], f[1])
}

// addInfo appends an allocation info after checking its trace index.
func (r *Reader) addInfo(size, trace uint64) error {
	if trace > r.numTraces {
		return r.errorf("allocation info names trace %d, but only %d are defined", trace, r.numTraces)
	}
	if uint64(len(r.infos)) > maxIndex {
		return r.errorf("too many allocation infos")
	}
	var depth uint32
	if trace > 0 {
		depth = r.depths[trace-1]
	}
	r.infos = append(r.infos, infoState{AllocInfo: AllocInfo{SizeBytes: size, Trace: uint32(trace), StackDepth: depth}})
	return nil
}

// parseTime handles "c ELAPSED_MS".
func (r *Reader) parseTime(args []byte) (Op, bool, error) {
	var f [1]uint64
	if err := r.exactHexFields('c', args, f[:], "elapsed milliseconds"); err != nil {
		return Op{}, false, err
	}
	// heaptrack's run time is the last time stamp plus one, so the
	// largest int64 is out of range too.
	if f[0] >= math.MaxInt64 {
		return Op{}, false, r.errorf("malformed 'c' line: time stamp out of range")
	}
	if int64(f[0]) < r.timeMs {
		return Op{}, false, r.errorf("time stamp %d ms is earlier than the previous one (%d ms)", f[0], r.timeMs)
	}
	r.timeMs = int64(f[0])
	return Op{Kind: KindTime}, true, nil
}

// parseRSS handles "R RSS_PAGES".
func (r *Reader) parseRSS(args []byte) (Op, bool, error) {
	var f [1]uint64
	if err := r.exactHexFields('R', args, f[:], "resident pages"); err != nil {
		return Op{}, false, err
	}
	if f[0] > math.MaxInt64 {
		return Op{}, false, r.errorf("malformed 'R' line: value out of range")
	}
	return Op{Kind: KindRSS, RSSPages: f[0]}, true, nil
}
