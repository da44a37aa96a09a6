package sweep

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// bareWord matches a string that `--set` reads back as that same string
// for a key of any type: it starts with a letter, so it is no TOML number,
// and the TOML words that start with a letter (true, false, inf, nan) are
// excluded separately.
var bareWord = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:/+-]*$`)

// maxDepth bounds the nesting of axis values, so that a hostile document
// cannot exhaust the stack.
const maxDepth = 64

// literal returns the text of an axis value as `scenario.Set` takes it
// after "KEY=": integers and floats as TOML numbers (a float always with a
// '.' or an exponent, so 1.0 stays a float), a string as a bare word when
// that reads back as the same string and quoted otherwise, arrays and
// inline tables as TOML with their table keys sorted. The text depends
// only on the value, so equal values give equal texts.
func literal(v any) (string, error) {
	return literalAt(v, true, 0)
}

func literalAt(v any, top bool, depth int) (string, error) {
	if depth > maxDepth {
		return "", fmt.Errorf("nested more than %d deep", maxDepth)
	}
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("%v is not a finite number", x)
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return s, nil
	case bool:
		return strconv.FormatBool(x), nil
	case string:
		if top && bareWord.MatchString(x) && !slices.Contains([]string{"true", "false", "inf", "nan"}, x) {
			return x, nil
		}
		return quote(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := literalAt(e, false, depth+1)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case []map[string]any:
		elems := make([]any, len(x))
		for i, e := range x {
			elems[i] = e
		}
		return literalAt(elems, top, depth)
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		parts := make([]string, len(keys))
		for i, k := range keys {
			s, err := literalAt(x[k], false, depth+1)
			if err != nil {
				return "", err
			}
			parts[i] = toml.Key{k}.String() + " = " + s
		}
		return "{" + strings.Join(parts, ", ") + "}", nil
	case time.Time:
		return "", fmt.Errorf("a date-time is no scenario value")
	default:
		return "", fmt.Errorf("unsupported TOML value %v (%T)", v, v)
	}
}

// quote returns s as a TOML basic string.
func quote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("string %q is not valid UTF-8", s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// describe names the TOML type of a decoded value for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case int64:
		return "integer " + strconv.FormatInt(x, 10)
	case float64:
		return "float " + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case string:
		return "string " + strconv.Quote(x)
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date-time"
	default:
		return fmt.Sprintf("%T", v)
	}
}
