package scenario

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// origin says where a value came from: a position in the scenario file, or
// a --set override (set). line and col are 1-based (col in bytes); offset is
// the byte offset, used only to order keys as they appear in the file.
type origin struct {
	set               bool
	line, col, offset int
}

// keyPositions finds where every key of a TOML document starts, keyed by the
// dotted key with array-of-tables indices ("workload.1.rate_per_s"), the
// form used in errors. Table headers are keyed too ("kernel",
// "workload.1"). For a key given more than once along a dotted path, the
// first occurrence wins.
//
// BurntSushi/toml keeps key positions to itself, and keys them without
// array indices, so we scan for them. The input must already have parsed
// without error: the scanner is lenient and only needs to tell keys from
// strings, comments and values. On anything unexpected it skips a line, so
// at worst a position is missing and the error is reported without one.
func keyPositions(data string) map[string]origin {
	sc := &posScanner{
		src:    strings.TrimPrefix(data, "\xef\xbb\xbf"),
		line:   1,
		pos:    make(map[string]origin),
		arrays: make(map[string]int),
	}
	sc.document()
	return sc.pos
}

// maxScanDepth bounds the nesting of arrays and inline tables the scanner
// follows; deeper values are skipped without recording positions.
const maxScanDepth = 64

// posScanner is the state of keyPositions.
type posScanner struct {
	src       string
	i         int // byte offset of the next byte to read
	line      int // line of src[i]
	lineStart int // offset of the first byte of the current line
	pos       map[string]origin
	arrays    map[string]int // indexed path of an array of tables → elements seen
}

func (sc *posScanner) eof() bool  { return sc.i >= len(sc.src) }
func (sc *posScanner) peek() byte { return sc.src[sc.i] }

// advance consumes one byte, counting lines.
func (sc *posScanner) advance() {
	if sc.src[sc.i] == '\n' {
		sc.line++
		sc.lineStart = sc.i + 1
	}
	sc.i++
}

func (sc *posScanner) here() origin {
	return origin{line: sc.line, col: sc.i - sc.lineStart + 1, offset: sc.i}
}

// record notes the position of a key unless an earlier one is known.
func (sc *posScanner) record(path []string, o origin) {
	k := toml.Key(path).String()
	if _, ok := sc.pos[k]; !ok {
		sc.pos[k] = o
	}
}

// skipSpace skips blanks on the current line.
func (sc *posScanner) skipSpace() {
	for !sc.eof() && (sc.peek() == ' ' || sc.peek() == '\t') {
		sc.advance()
	}
}

// skipLine skips to the start of the next line.
func (sc *posScanner) skipLine() {
	for !sc.eof() && sc.peek() != '\n' {
		sc.advance()
	}
	if !sc.eof() {
		sc.advance()
	}
}

// skipBlank skips blanks, newlines and comments.
func (sc *posScanner) skipBlank() {
	for !sc.eof() {
		switch sc.peek() {
		case ' ', '\t', '\r', '\n':
			sc.advance()
		case '#':
			for !sc.eof() && sc.peek() != '\n' {
				sc.advance()
			}
		default:
			return
		}
	}
}

// document scans top-level lines: table headers and key/value pairs.
func (sc *posScanner) document() {
	var table []string // current table, with array indices
	for {
		sc.skipBlank()
		if sc.eof() {
			return
		}
		start := sc.i
		if sc.peek() == '[' {
			if t, ok := sc.header(); ok {
				table = t
			}
		} else {
			sc.keyValue(table, 0)
		}
		sc.skipSpace()
		if !sc.eof() && sc.peek() != '\n' && sc.peek() != '\r' && sc.peek() != '#' || sc.i == start {
			sc.skipLine() // confused or stuck: resynchronise on the next line
		}
	}
}

// header scans "[a.b]" or "[[a.b]]" and returns the table it opens.
func (sc *posScanner) header() ([]string, bool) {
	open := sc.here()
	sc.advance()
	isArray := !sc.eof() && sc.peek() == '['
	if isArray {
		sc.advance()
	}
	segs, at, ok := sc.key()
	if !ok {
		return nil, false
	}
	var path []string
	for j, seg := range segs {
		path = append(path, seg)
		last := j == len(segs)-1
		if last && isArray {
			n := sc.arrays[toml.Key(path).String()]
			sc.arrays[toml.Key(path).String()] = n + 1
			sc.record(path, at[j])
			path = append(path, strconv.Itoa(n))
			sc.record(path, open)
			continue
		}
		sc.record(path, at[j])
		// A prefix naming an array of tables means its latest element.
		if n, ok := sc.arrays[toml.Key(path).String()]; ok && !last {
			path = append(path, strconv.Itoa(n-1))
		}
	}
	sc.skipSpace()
	closing := "]"
	if isArray {
		closing = "]]"
	}
	if !strings.HasPrefix(sc.src[sc.i:], closing) {
		return nil, false
	}
	for range closing {
		sc.advance()
	}
	return path, true
}

// keyValue scans "a.b = value" inside table, recording the key and any keys
// inside the value.
func (sc *posScanner) keyValue(table []string, depth int) {
	segs, at, ok := sc.key()
	if !ok {
		return
	}
	path := append([]string(nil), table...)
	for j, seg := range segs {
		path = append(path, seg)
		sc.record(path, at[j])
	}
	sc.skipSpace()
	if sc.eof() || sc.peek() != '=' {
		return
	}
	sc.advance()
	sc.skipSpace()
	sc.value(path, depth)
}

// key scans a possibly dotted, possibly quoted key, returning its segments
// and where each starts.
func (sc *posScanner) key() ([]string, []origin, bool) {
	var segs []string
	var at []origin
	for {
		sc.skipSpace()
		if sc.eof() {
			return nil, nil, false
		}
		o := sc.here()
		var seg string
		switch sc.peek() {
		case '"':
			seg = unescapeBasic(sc.basicString())
		case '\'':
			seg = sc.literalString()
		default:
			start := sc.i
			for !sc.eof() && isBareKeyByte(sc.peek()) {
				sc.advance()
			}
			if sc.i == start {
				return nil, nil, false
			}
			seg = sc.src[start:sc.i]
		}
		segs = append(segs, seg)
		at = append(at, o)
		sc.skipSpace()
		if sc.eof() || sc.peek() != '.' {
			return segs, at, true
		}
		sc.advance()
	}
}

// value skips one value, recording the keys of inline tables inside it
// (array elements are indexed like arrays of tables).
func (sc *posScanner) value(path []string, depth int) {
	if sc.eof() {
		return
	}
	switch sc.peek() {
	case '"':
		sc.basicString()
	case '\'':
		sc.literalString()
	case '[':
		sc.array(path, depth+1)
	case '{':
		sc.inlineTable(path, depth+1)
	default:
		for !sc.eof() && !strings.ContainsRune(",]}#\r\n", rune(sc.peek())) {
			sc.advance()
		}
	}
}

// array skips "[v, v, ...]".
func (sc *posScanner) array(path []string, depth int) {
	sc.advance()
	for n := 0; ; {
		sc.skipBlank()
		if sc.eof() {
			return
		}
		switch sc.peek() {
		case ']':
			sc.advance()
			return
		case ',':
			sc.advance()
			continue
		}
		start := sc.i
		if depth > maxScanDepth {
			sc.skipLine()
			return
		}
		sc.value(appendPath(path, strconv.Itoa(n)), depth)
		n++
		if sc.i == start {
			sc.advance()
		}
	}
}

// inlineTable skips "{k = v, ...}", recording its keys.
func (sc *posScanner) inlineTable(path []string, depth int) {
	sc.advance()
	for {
		sc.skipBlank()
		if sc.eof() {
			return
		}
		switch sc.peek() {
		case '}':
			sc.advance()
			return
		case ',':
			sc.advance()
			continue
		}
		start := sc.i
		if depth > maxScanDepth {
			sc.skipLine()
			return
		}
		sc.keyValue(path, depth)
		if sc.i == start {
			sc.advance()
		}
	}
}

// basicString consumes a "..." or """...""" string and returns its raw
// (still escaped) contents.
func (sc *posScanner) basicString() string {
	return sc.quoted('"', true)
}

// literalString consumes a '...' or ”'...”' string and returns its
// contents.
func (sc *posScanner) literalString() string {
	return sc.quoted('\'', false)
}

// quoted consumes a string delimited by q (single or tripled). Backslash
// escapes are honoured when escapes is set. A tripled delimiter may be
// followed by up to two more quote characters that belong to the contents.
func (sc *posScanner) quoted(q byte, escapes bool) string {
	triple := strings.Repeat(string(q), 3)
	multi := strings.HasPrefix(sc.src[sc.i:], triple)
	open := 1
	if multi {
		open = 3
	}
	for range open {
		sc.advance()
	}
	start := sc.i
	for !sc.eof() {
		c := sc.peek()
		switch {
		case escapes && c == '\\':
			sc.advance()
			if !sc.eof() {
				sc.advance()
			}
		case !multi && c == q:
			s := sc.src[start:sc.i]
			sc.advance()
			return s
		case !multi && c == '\n':
			return sc.src[start:sc.i] // unterminated; cannot happen in valid TOML
		case multi && strings.HasPrefix(sc.src[sc.i:], triple):
			extra := 0
			for extra < 2 && sc.i+3+extra < len(sc.src) && sc.src[sc.i+3+extra] == q {
				extra++
			}
			for range extra {
				sc.advance()
			}
			s := sc.src[start:sc.i]
			for range 3 {
				sc.advance()
			}
			return s
		default:
			sc.advance()
		}
	}
	return sc.src[start:]
}

// isBareKeyByte reports whether c may appear in a bare TOML key.
func isBareKeyByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// unescapeBasic decodes the escapes of a TOML basic string (a quoted key).
// Invalid escapes cannot occur in a document that parsed; they are kept
// verbatim.
func unescapeBasic(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case 'e':
			b.WriteByte(0x1b)
		case '"', '\\':
			b.WriteByte(c)
		case 'x', 'u', 'U':
			n := 2
			if c == 'u' {
				n = 4
			} else if c == 'U' {
				n = 8
			}
			if i+1+n > len(s) {
				b.WriteString(`\` + s[i:])
				return b.String()
			}
			r, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
			if err != nil || !utf8.ValidRune(rune(r)) {
				b.WriteString(`\` + s[i:i+1+n])
			} else {
				b.WriteRune(rune(r))
			}
			i += n
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String()
}
