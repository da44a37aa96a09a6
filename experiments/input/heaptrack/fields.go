package heaptrack

import "bytes"

// maxHexDigits is the most digits a 64-bit hex field can have.
const maxHexDigits = 16

// fieldScanner walks the space-separated fields of one line. heaptrack
// writes exactly one space between fields and none at the end.
type fieldScanner struct {
	rest []byte
	done bool
}

func newFieldScanner(args []byte) fieldScanner {
	return fieldScanner{rest: args, done: len(args) == 0}
}

// next returns the next field; ok is false when no field is left.
func (s *fieldScanner) next() (field []byte, ok bool) {
	if s.done {
		return nil, false
	}
	i := bytes.IndexByte(s.rest, ' ')
	if i < 0 {
		field, s.rest, s.done = s.rest, nil, true
		return field, true
	}
	field, s.rest = s.rest[:i], s.rest[i+1:]
	return field, true
}

// parseHex parses one lowercase hexadecimal field as heaptrack writes it.
// It returns a description of the problem when the field is not one.
func parseHex(field []byte) (uint64, string) {
	if len(field) == 0 {
		return 0, "empty field (two spaces, or a space at the end of the line)"
	}
	if len(field) > maxHexDigits {
		return 0, "field " + quoteField(field) + " has more than 16 hex digits"
	}
	var v uint64
	for _, c := range field {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, "field " + quoteField(field) + " is not a lowercase hex number"
		}
	}
	return v, ""
}

// parseHexFields parses all fields of args into dst and returns how many
// there were. More fields than len(dst) is an error.
func (r *Reader) parseHexFields(kind byte, args []byte, dst []uint64) (int, error) {
	s := newFieldScanner(args)
	n := 0
	for {
		field, ok := s.next()
		if !ok {
			return n, nil
		}
		if n == len(dst) {
			return n, r.errorf("malformed %q line: want at most %d fields", kind, len(dst))
		}
		v, problem := parseHex(field)
		if problem != "" {
			return n, r.errorf("malformed %q line: %s", kind, problem)
		}
		dst[n] = v
		n++
	}
}

// exactHexFields parses exactly len(dst) fields; what names them for the
// error message.
func (r *Reader) exactHexFields(kind byte, args []byte, dst []uint64, what string) error {
	n, err := r.parseHexFields(kind, args, dst)
	if err != nil {
		return err
	}
	if n != len(dst) {
		return r.errorf("malformed %q line: want %d hex fields (%s), got %d", kind, len(dst), what, n)
	}
	return nil
}
