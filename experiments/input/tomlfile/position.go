package tomlfile

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Position is where a key, or an array element, is written in a document.
type Position struct {
	// Line and Col are 1-based; Col counts bytes.
	Line, Col int
	// Offset is the byte offset, for ordering keys as they are written.
	Offset int
	// Element marks an array element, which has no key of its own
	// ("axis.0.values.2", where the value starts).
	Element bool
}

// Positions maps the dotted keys of a document, with array indices as
// segments ("workload.1.rate_per_s", "axis.0.values.2"), to where they
// are written. Segments are quoted as TOML needs (toml.Key.String):
// `policy."re fill"`.
type Positions map[string]Position

// Nearest returns the position of key or, when key has none (a value
// that kept its default, an element of an array), of its nearest
// enclosing key that has one.
func (p Positions) Nearest(key string) (Position, bool) {
	for k := key; ; {
		if o, ok := p[k]; ok {
			return o, true
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			return Position{}, false
		}
		k = k[:i]
	}
}

// Key formats a key path as Positions keys it: segments joined by dots,
// quoted where TOML needs quotes.
func Key(path ...string) string { return toml.Key(path).String() }

// maxScanDepth bounds the nesting of arrays and inline tables whose
// contents Scan records; deeper values are skipped.
const maxScanDepth = 64

// maxKeySegments bounds the segments of a key path Scan records (table,
// key and array indices together). Deeper keys are skipped: recording
// every prefix of a path costs its length squared.
const maxKeySegments = 64

// Scan finds where every key of a TOML document is written: the keys of
// key/value pairs (each prefix of a dotted key too), table headers
// ("kernel", at the name), the elements of arrays of tables ("workload.1",
// at the "[[" of its header), keys inside inline tables, and the elements
// of arrays (marked Element; inline tables in arrays are indexed like
// arrays of tables: "workload.1.cpus"). When a key is written more than
// once along dotted paths, the first occurrence wins. A leading byte order
// mark is skipped and not counted in columns.
//
// BurntSushi/toml, the decoder, keeps positions to itself; the positions
// come from go-toml's unstable parser. A document that parser rejects
// yields the positions of the expressions before the error.
func Scan(data []byte) Positions {
	sc := newScanner(trimBOM(data))
	sc.scan(sc.data, 0)
	return sc.pos
}

// KeyAt returns the key a syntax error at byte offset of data is about:
// the last key written on the error's line before the offset, with array
// indices, the keys of the expression the error cuts short included (see
// partial). KeyAt returns false when no key starts on that line. offset counts from the start of data, a byte order
// mark included.
func KeyAt(data []byte, offset int) (string, bool) {
	text := trimBOM(data)
	offset -= len(data) - len(text)
	if offset < 0 || offset > len(text) {
		return "", false
	}
	sc := newScanner(text[:offset])
	if end, complete := sc.scan(sc.data, 0); !complete {
		sc.partial(skipBlank(sc.data, end, ""))
	}
	line := sc.line(offset)
	best, bestOffset := "", -1
	for k, o := range sc.pos {
		if !o.Element && o.Line == line && (o.Offset > bestOffset || o.Offset == bestOffset && k > best) {
			best, bestOffset = k, o.Offset
		}
	}
	return best, bestOffset >= 0
}

func trimBOM(data []byte) []byte {
	if len(data) >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf {
		return data[3:]
	}
	return data
}

// scanner records the positions of one document, expression by
// expression.
type scanner struct {
	data       []byte // the document, for lines and columns
	lineStarts []int  // offsets of the first byte of every line
	pos        Positions
	table      []string       // the current table, with array indices
	tooDeep    bool           // the current table's path has more than maxKeySegments segments
	arrays     map[string]int // elements seen of each array of tables, by indexed path
}

func newScanner(data []byte) *scanner {
	sc := &scanner{data: data, lineStarts: []int{0}, pos: Positions{}, arrays: map[string]int{}}
	for i, c := range data {
		if c == '\n' {
			sc.lineStarts = append(sc.lineStarts, i+1)
		}
	}
	return sc
}

// line returns the 1-based line of a byte offset.
func (sc *scanner) line(offset int) int {
	return sort.Search(len(sc.lineStarts), func(i int) bool { return sc.lineStarts[i] > offset })
}

// record notes where path is written unless an earlier position is known.
func (sc *scanner) record(path []string, offset int, element bool) {
	k := Key(path...)
	if _, ok := sc.pos[k]; ok {
		return
	}
	line := sc.line(offset)
	sc.pos[k] = Position{Line: line, Col: offset - sc.lineStarts[line-1] + 1, Offset: offset, Element: element}
}

// scan parses src, whose byte 0 is byte base of the document, and records
// its expressions. It returns the offset just past the last expression
// it parsed and whether it parsed all of src.
func (sc *scanner) scan(src []byte, base int) (end int, complete bool) {
	var p unstable.Parser
	p.Reset(src)
	end = base
	for p.NextExpression() {
		e := p.Expression()
		var at int
		switch e.Kind {
		case unstable.KeyValue:
			sc.keyValue(src, base, sc.table, e, 0)
			at = int(e.Raw.Offset + e.Raw.Length)
		case unstable.Table, unstable.ArrayTable:
			at = sc.header(src, base, e)
		default:
			continue
		}
		end = base + at
	}
	return end, p.Error() == nil
}

// header records a "[a.b]" or "[[a.b]]" header and makes its table the
// current one. It returns the offset in src just past the header.
func (sc *scanner) header(src []byte, base int, e *unstable.Node) int {
	var keys []*unstable.Node
	for it := e.Key(); it.Next(); {
		keys = append(keys, it.Node())
	}
	last := keys[len(keys)-1]
	end := skipBlank(src, int(last.Raw.Offset+last.Raw.Length), "") + 1 // past "]"
	if e.Kind == unstable.ArrayTable {
		end++ // past the second "]"
	}
	// Each segment may add an array index.
	if sc.tooDeep = 2*len(keys) > maxKeySegments; sc.tooDeep {
		sc.table = nil
		return end
	}
	var path []string
	for j, k := range keys {
		if j > 0 {
			// A prefix naming an array of tables means its latest element.
			if n, ok := sc.arrays[Key(path...)]; ok {
				path = append(path, strconv.Itoa(n-1))
			}
		}
		path = append(path, string(k.Data))
		sc.record(path, base+int(k.Raw.Offset), false)
	}
	if e.Kind == unstable.ArrayTable {
		n := sc.arrays[Key(path...)]
		sc.arrays[Key(path...)] = n + 1
		path = append(path, strconv.Itoa(n))
		// The element is located at its "[[": back over the blanks
		// between it and the first key.
		open := int(keys[0].Raw.Offset)
		for open > 0 && (src[open-1] == ' ' || src[open-1] == '\t') {
			open--
		}
		sc.record(path, base+open-2, false)
	}
	sc.table = path
	return end
}

// keyValue records the key of a key/value pair inside table, each prefix
// of a dotted key included, and the keys and elements inside its value.
func (sc *scanner) keyValue(src []byte, base int, table []string, e *unstable.Node, depth int) {
	if sc.tooDeep {
		return
	}
	path := append([]string(nil), table...)
	keyEnd := 0
	for it := e.Key(); it.Next(); {
		if len(path) == maxKeySegments {
			return
		}
		k := it.Node()
		path = append(path, string(k.Data))
		sc.record(path, base+int(k.Raw.Offset), false)
		keyEnd = int(k.Raw.Offset + k.Raw.Length)
	}
	if len(path) < maxKeySegments {
		v := e.Value()
		sc.value(src, base, path, v, startOf(src, v, keyEnd), depth+1)
	}
}

// value records the keys and elements inside a value that starts at
// offset start of src, and returns the offset just past it. Below
// maxScanDepth it records nothing, only finds the end.
func (sc *scanner) value(src []byte, base int, path []string, v *unstable.Node, start, depth int) int {
	deep := depth > maxScanDepth
	switch v.Kind {
	case unstable.Array:
		i := start + 1
		n := 0
		for it := v.Children(); it.Next(); n++ {
			c := it.Node()
			at := startOf(src, c, i)
			var elem []string
			if !deep {
				elem = append(append([]string(nil), path...), strconv.Itoa(n))
				sc.record(elem, base+at, true)
			}
			i = sc.value(src, base, elem, c, at, depth+1)
		}
		return skipBlank(src, i, ",") + 1 // past the "]"
	case unstable.InlineTable:
		i := start + 1
		for it := v.Children(); it.Next(); {
			kv := it.Node()
			if !deep {
				sc.keyValue(src, base, path, kv, depth)
			}
			i = int(kv.Raw.Offset + kv.Raw.Length)
		}
		return skipBlank(src, i, ",") + 1 // past the "}"
	}
	return int(v.Raw.Offset + v.Raw.Length)
}

// startOf returns where value v starts. The parser gives every value but
// an array its bytes; an array starts at the first byte after from that
// is neither blank, comment, "=" nor ",".
func startOf(src []byte, v *unstable.Node, from int) int {
	if v.Kind != unstable.Array {
		return int(v.Raw.Offset)
	}
	return skipBlank(src, from, "=,")
}

// skipBlank returns the offset of the first byte at or after i that is
// not a blank, a newline, part of a comment, or one of the bytes of also.
func skipBlank(src []byte, i int, also string) int {
	for i < len(src) {
		switch c := src[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || strings.IndexByte(also, c) >= 0:
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

// partial records the keys of the expression that starts at offset start
// and that the document cuts short (the rest of it holds a syntax error).
// The expression is completed and parsed: a table header with its
// closing brackets; a key/value pair with what closes its open string,
// arrays and inline tables, and a value or " = value" where one is
// missing. When that fails, only the pair's own key is recorded, or
// nothing.
func (sc *scanner) partial(start int) {
	frag := sc.data[start:]
	if len(frag) == 0 {
		return
	}
	if frag[0] == '[' {
		frag = bytes.TrimRight(frag, " \t\r\n]")
		closer := "]"
		if len(frag) > 1 && frag[1] == '[' {
			closer = "]]"
		}
		sc.scan(concat(frag, closer), start)
		return
	}
	for _, text := range completions(frag) {
		if _, complete := sc.scan(text, start); complete {
			return
		}
	}
	// The key ends at one of the "=" (not one inside a quoted key), or the
	// error cuts the key itself short.
	tries := 0
	for j, c := range frag {
		if c != '=' {
			continue
		}
		if _, complete := sc.scan(concat(frag[:j], "= 0"), start); complete {
			return
		}
		if tries++; tries == maxRepairs {
			return
		}
	}
	sc.scan(concat(frag, " = 0"), start)
}

// maxRepairs bounds the attempts partial makes to find where a key ends.
const maxRepairs = 8

// completions returns texts that may complete frag, the beginning of a
// key/value pair, into a whole pair, most faithful first.
func completions(frag []byte) [][]byte {
	stack, quote, comment := openAt(frag)
	if comment {
		frag = concat(frag, "\n")
	}
	closing := make([]byte, 0, len(stack))
	for i := len(stack) - 1; i >= 0; i-- {
		closing = append(closing, stack[i]+2) // "[" + 2 is "]", "{" + 2 is "}"
	}
	c := string(closing)
	if quote != "" {
		return [][]byte{concat(frag, quote+c), concat(frag, quote+" = 0"+c)}
	}
	// A token the error cuts short ("1e", "tr") is dropped for a value.
	token := bytes.TrimRight(frag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+.: \t")
	return [][]byte{concat(frag, c), concat(frag, "0"+c), concat(frag, " = 0"+c), concat(token, "0"+c), concat(token, " = 0"+c)}
}

// openAt returns the arrays and inline tables open at the end of frag
// ("[" and "{", outermost first), the delimiter of the string frag ends
// in ("" when none), and whether it ends in a comment.
func openAt(frag []byte) (stack []byte, quote string, comment bool) {
	for i := 0; i < len(frag); {
		c := frag[i]
		switch {
		case quote != "":
			switch {
			case c == '\\' && quote[0] == '"':
				i += 2
			case bytes.HasPrefix(frag[i:], []byte(quote)):
				i += len(quote)
				if len(quote) == 3 {
					// A multi-line string ends with the last three of up
					// to five quotes.
					for n := 0; n < 2 && i < len(frag) && frag[i] == quote[0]; n++ {
						i++
					}
				}
				quote = ""
			default:
				i++
			}
		case c == '"' || c == '\'':
			quote = string(c)
			if bytes.HasPrefix(frag[i:], []byte{c, c, c}) {
				quote = strings.Repeat(quote, 3)
			}
			i += len(quote)
		case c == '#':
			for i < len(frag) && frag[i] != '\n' {
				i++
			}
			comment = i == len(frag)
		case c == '[' || c == '{':
			stack = append(stack, c)
			i++
		case (c == ']' || c == '}') && len(stack) > 0:
			stack = stack[:len(stack)-1]
			i++
		default:
			i++
		}
	}
	return stack, quote, comment
}

func concat(b []byte, s string) []byte { return append(append([]byte(nil), b...), s...) }
