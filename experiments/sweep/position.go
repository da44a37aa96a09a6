package sweep

import (
	"strconv"
	"strings"
)

// keyLines maps every key of a TOML document that toml.Decode accepted to
// the 1-based line it is written on, as an indexed dotted path:
// "seeds", "axis.1.key", "axis.1.values.2", "set.0". Array elements get
// the line their value starts on, so an error about one value of a
// multi-line array points at that value.
//
// BurntSushi/toml keeps key positions private and its MetaData.Keys does
// not tell [[axis]] tables apart, so the sweep decoder finds lines here. It
// relies on the document being valid TOML (it runs after toml.Decode) and
// degrades to fewer entries, never to a panic, on anything else.
func keyLines(data string) map[string]int {
	sc := &lineScanner{src: data, line: 1, lines: map[string]int{}, tables: map[string]int{}}
	sc.document()
	return sc.lines
}

// lineScanner walks a TOML document byte by byte.
type lineScanner struct {
	src   string
	i     int
	line  int
	lines map[string]int
	// tables counts the [[NAME]] headers seen so far, by NAME.
	tables map[string]int
}

func (sc *lineScanner) eof() bool  { return sc.i >= len(sc.src) }
func (sc *lineScanner) peek() byte { return sc.src[sc.i] }

// advance moves one byte on, counting lines.
func (sc *lineScanner) advance() {
	if sc.src[sc.i] == '\n' {
		sc.line++
	}
	sc.i++
}

func (sc *lineScanner) record(path []string) {
	k := strings.Join(path, ".")
	if _, seen := sc.lines[k]; !seen {
		sc.lines[k] = sc.line
	}
}

// skipSpace skips blanks on the current line.
func (sc *lineScanner) skipSpace() {
	for !sc.eof() && (sc.peek() == ' ' || sc.peek() == '\t') {
		sc.i++
	}
}

// skipBlank skips blanks, newlines and comments.
func (sc *lineScanner) skipBlank() {
	for !sc.eof() {
		switch sc.peek() {
		case ' ', '\t', '\r', '\n':
			sc.advance()
		case '#':
			for !sc.eof() && sc.peek() != '\n' {
				sc.i++
			}
		default:
			return
		}
	}
}

// document reads headers and key/value lines to the end.
func (sc *lineScanner) document() {
	var table []string
	for steps := 0; steps <= len(sc.src); steps++ {
		sc.skipBlank()
		if sc.eof() {
			return
		}
		start := sc.i
		if sc.peek() == '[' {
			table = sc.header()
		} else {
			sc.keyValue(table)
		}
		if sc.i == start { // not TOML after all: give up quietly
			return
		}
	}
}

// header reads "[a.b]" or "[[a]]" and returns the table path it opens,
// with the index of the array element for "[[...]]".
func (sc *lineScanner) header() []string {
	sc.i++
	array := !sc.eof() && sc.peek() == '['
	if array {
		sc.i++
	}
	sc.skipSpace()
	path := sc.key()
	for !sc.eof() && sc.peek() != '\n' && sc.peek() != '#' {
		sc.i++
	}
	if array {
		name := strings.Join(path, ".")
		n := sc.tables[name]
		sc.tables[name] = n + 1
		path = append(path, strconv.Itoa(n))
	}
	sc.record(path)
	return path
}

// keyValue reads "key = value" inside table.
func (sc *lineScanner) keyValue(table []string) {
	key := sc.key()
	if len(key) == 0 {
		return
	}
	path := append(append([]string{}, table...), key...)
	sc.record(path)
	sc.skipSpace()
	if sc.eof() || sc.peek() != '=' {
		return
	}
	sc.i++
	sc.skipSpace()
	sc.value(path, 0)
}

// key reads a dotted key of bare and quoted parts.
func (sc *lineScanner) key() []string {
	var parts []string
	for !sc.eof() {
		sc.skipSpace()
		if sc.eof() {
			break
		}
		switch c := sc.peek(); {
		case c == '"' || c == '\'':
			parts = append(parts, sc.str())
		case isBareKeyByte(c):
			start := sc.i
			for !sc.eof() && isBareKeyByte(sc.peek()) {
				sc.i++
			}
			parts = append(parts, sc.src[start:sc.i])
		default:
			return parts
		}
		sc.skipSpace()
		if sc.eof() || sc.peek() != '.' {
			return parts
		}
		sc.i++
	}
	return parts
}

// maxDepth bounds nesting so that a hostile document cannot exhaust the
// stack; toml.Decode has accepted the document already.
const maxDepth = 64

// value reads one value, recording the lines of array elements and inline
// table keys beneath path.
func (sc *lineScanner) value(path []string, depth int) {
	if sc.eof() || depth > maxDepth {
		return
	}
	switch sc.peek() {
	case '[':
		sc.i++
		for n := 0; ; n++ {
			sc.skipBlank()
			if sc.eof() || sc.peek() == ']' {
				break
			}
			elem := append(append([]string{}, path...), strconv.Itoa(n))
			sc.record(elem)
			start := sc.i
			sc.value(elem, depth+1)
			sc.skipBlank()
			if !sc.eof() && sc.peek() == ',' {
				sc.i++
				continue
			}
			if sc.i == start {
				return
			}
			break
		}
		if !sc.eof() {
			sc.i++
		}
	case '{':
		sc.i++
		for {
			sc.skipBlank()
			if sc.eof() || sc.peek() == '}' {
				break
			}
			key := sc.key()
			if len(key) == 0 {
				return
			}
			elem := append(append([]string{}, path...), key...)
			sc.record(elem)
			sc.skipSpace()
			if sc.eof() || sc.peek() != '=' {
				return
			}
			sc.i++
			sc.skipSpace()
			sc.value(elem, depth+1)
			sc.skipBlank()
			if !sc.eof() && sc.peek() == ',' {
				sc.i++
			}
		}
		if !sc.eof() {
			sc.i++
		}
	case '"', '\'':
		sc.str()
	default:
		for !sc.eof() && !strings.ContainsRune(",]}\n#", rune(sc.peek())) {
			sc.i++
		}
	}
}

// str reads a basic, literal or multi-line string and returns its text
// with escapes left as written (only keys use the result, and keys with
// escapes are rare enough that an approximate name is fine).
func (sc *lineScanner) str() string {
	q := sc.peek()
	delim := string(q)
	if strings.HasPrefix(sc.src[sc.i:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	sc.i += len(delim)
	start := sc.i
	for !sc.eof() {
		if q == '"' && sc.peek() == '\\' && sc.i+1 < len(sc.src) {
			sc.advance()
			sc.advance()
			continue
		}
		if strings.HasPrefix(sc.src[sc.i:], delim) {
			end := sc.i
			sc.i += len(delim)
			// A multi-line string may end with up to two extra quotes.
			for len(delim) == 3 && !sc.eof() && sc.peek() == q {
				sc.i++
				end++
			}
			return sc.src[start:end]
		}
		sc.advance()
	}
	return sc.src[start:]
}

func isBareKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
