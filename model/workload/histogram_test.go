package workload

import (
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseHistogram(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []HistogramRow
	}{
		{"exact sizes", "64,1\n128,2\n", []HistogramRow{{64, 64, 1}, {128, 128, 2}}},
		{"range", "1,8,0.5", []HistogramRow{{1, 8, 0.5}}},
		{"mixed, no final newline", "16,3\n17,32,1e2", []HistogramRow{{16, 16, 3}, {17, 32, 100}}},
		{"comments and blanks", "# c\n\n  # indented\n64,1 # trailing\n\t\n", []HistogramRow{{64, 64, 1}}},
		{"spaces around fields", " 64 ,\t1 \n 1 , 2 , 3 \n", []HistogramRow{{64, 64, 1}, {1, 2, 3}}},
		{"CRLF", "size_bytes,weight\r\n64,1\r\n", []HistogramRow{{64, 64, 1}}},
		{"BOM and header", "\uFEFFlo_bytes,hi_bytes,weight\n1,2,1\n", []HistogramRow{{1, 2, 1}}},
		{"header after comments", "# x\n\nsize_bytes , weight\n8,1\n", []HistogramRow{{8, 8, 1}}},
		{"zero weight rows kept", "8,0\n9,1\n", []HistogramRow{{8, 8, 0}, {9, 9, 1}}},
		{"repeats and overlaps", "8,1\n8,1\n1,10,1\n5,6,1\n", []HistogramRow{{8, 8, 1}, {8, 8, 1}, {1, 10, 1}, {5, 6, 1}}},
		{"largest size", "281474976710656,1\n", []HistogramRow{{MaxSizeBytes, MaxSizeBytes, 1}}},
	}
	for _, tt := range tests {
		h, err := ParseHistogram("h.csv", strings.NewReader(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(h.Rows, tt.want) || h.Source != "h.csv" {
			t.Errorf("%s: got %+v from %q, want rows %+v", tt.name, h, tt.in, tt.want)
		}
	}
}

// TestParseHistogramErrors checks malformed files: the message, and that
// the line number is the offending line's.
func TestParseHistogramErrors(t *testing.T) {
	tests := []struct {
		in   string
		line int
		msg  string
	}{
		{"", 0, "no rows; write lines of size_bytes,weight or lo_bytes,hi_bytes,weight"},
		{"# only a comment\n\n", 0, "no rows"},
		{"size_bytes,weight\n", 0, "no rows"},
		{"8,0\n9,0\n", 0, "every weight is 0"},
		{"64\n", 1, "1 fields; want size_bytes,weight or lo_bytes,hi_bytes,weight"},
		{"64,1\n1,2,3,4\n", 2, "4 fields"},
		{"64,1\n\n# c\n,1\n", 4, `size_bytes "" is not a whole number of bytes in [1, 281474976710656]`},
		{"0,1\n", 1, `size_bytes "0" is not a whole number`},
		{"-8,1\n", 1, `size_bytes "-8"`},
		{"+8,1\n", 1, `size_bytes "+8"`},
		{"0x10,1\n", 1, `size_bytes "0x10"`},
		{"1_000,1\n", 1, `size_bytes "1_000"`},
		{"8.5,1\n", 1, `size_bytes "8.5"`},
		{"281474976710657,1\n", 1, "size_bytes \"281474976710657\""},
		{"99999999999999999999,1\n", 1, "size_bytes \"99999999999999999999\""},
		{"8,1\n9,x\n", 2, `weight "x" is not a finite number >= 0`},
		{"8,-1\n", 1, `weight "-1"`},
		{"8,NaN\n", 1, `weight "NaN"`},
		{"8,inf\n", 1, `weight "inf"`},
		{"8,1e999\n", 1, `weight "1e999"`},
		{"8,0x1p3\n", 1, `weight "0x1p3"`},
		{"8,\n", 1, `weight ""`},
		{"a,b,1\n", 1, `lo_bytes "a"`},
		{"1,b,1\n", 1, `hi_bytes "b"`},
		{"8,4,1\n", 1, "hi_bytes 4 is below lo_bytes 8"},
		{"8,1\nsize_bytes,weight\n", 2, `header "size_bytes,weight" is allowed only as the first row`},
		{"size_bytes,weight\nlo_bytes,hi_bytes,weight\n", 2, "header"},
		{"Size_Bytes,Weight\n", 1, `size_bytes "Size_Bytes"`},
		{"8;1\n", 1, "1 fields"},
		{"8,1e308\n9,1e308\n", 2, "the weights sum to more than"},
		{"8,1\r\n9,1\r\n10\r\n", 3, "1 fields"},
		{"8,1\n" + strings.Repeat("x", 5000) + "\n", 2, "line is longer than the limit 4096 bytes"},
		{strings.Repeat(" ", 4097) + "\n", 1, "line is 4097 bytes long, more than the limit 4096"},
		{"8,1\n\x00\xff,1\n", 2, `size_bytes "\x00\xff"`},
		{"8,1\n" + strings.Repeat("9", 60) + ",1\n", 2, `size_bytes "` + strings.Repeat("9", 40) + `"... is not`},
	}
	for _, tt := range tests {
		_, err := ParseHistogram("sizes.csv", strings.NewReader(tt.in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v, want a *ParseError", tt.in, err)
			continue
		}
		want := "sizes.csv: " + tt.msg
		if tt.line > 0 {
			want = "sizes.csv:" + strconv.Itoa(tt.line) + ": " + tt.msg
		}
		if pe.File != "sizes.csv" || pe.Line != tt.line || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q:\n got %v (line %d)\nwant %s... (line %d)", tt.in, err, pe.Line, want, tt.line)
		}
	}
}

func TestParseHistogramReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("8,1\n9,1\n"), iotest.ErrReader(boom))
	_, err := ParseHistogram("h.csv", r)
	if !errors.Is(err, boom) || err.Error() != "h.csv:3: read: disk on fire" {
		t.Errorf("error %v, want h.csv:3: read: disk on fire, wrapping the read error", err)
	}
}

func TestParseHistogramRowLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an 8 MB file")
	}
	var b bytes.Buffer
	for i := range maxTableRows + 1 {
		b.WriteString(strconv.Itoa(i%1000+1) + ",1\n")
	}
	_, err := ParseHistogram("big.csv", &b)
	want := "big.csv:" + strconv.Itoa(maxTableRows+1) + ": more than 1048576 rows"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %s", err, want)
	}
}

// FuzzParseHistogram checks that any input either parses into rows that
// HistogramSize accepts and whose draws stay in range, or fails with a
// *ParseError whose line is within the file; and never panics. Run it
// with -fuzzminimizetime=3s or so: the default minute spent minimizing
// each new input shows as a stall ("0/sec") on a busy machine.
func FuzzParseHistogram(f *testing.F) {
	for _, s := range []string{
		histogramText,
		"64,1\n128,2\n",
		"\uFEFFlo_bytes,hi_bytes,weight\r\n1,281474976710656,1e-300\r\n",
		"8,1e308\n9,1e308\n",
		"size_bytes,weight\nsize_bytes,weight\n",
		"1,2,3,4\n#,\n,,\n",
		"8,0\n",
		strings.Repeat("x", 4100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := ParseHistogram("fuzz.csv", bytes.NewReader(in))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			lines := bytes.Count(in, []byte("\n")) + 1
			if pe.File != "fuzz.csv" || pe.Line < 0 || pe.Line > lines || pe.Msg == "" {
				t.Fatalf("bad ParseError %+v for a file of %d lines", pe, lines)
			}
			return
		}
		s, err := HistogramSize(h)
		if err != nil {
			t.Fatalf("ParseHistogram accepted rows HistogramSize rejects: %v", err)
		}
		lo, hi := int64(math.MaxInt64), int64(0)
		for _, row := range h.Rows {
			if row.Weight > 0 {
				lo, hi = min(lo, row.LoBytes), max(hi, row.HiBytes)
			}
		}
		if m := s.Mean(); !(m >= float64(lo)*(1-1e-12) && m <= float64(hi)*(1+1e-12)) {
			t.Fatalf("Mean %v outside the sizes [%d, %d]", m, lo, hi)
		}
		r := testStream("fuzz")
		for range 16 {
			if v := s.Draw(&r); v < lo || v > hi {
				t.Fatalf("draw %d outside the positive-weight sizes [%d, %d]", v, lo, hi)
			}
		}
	})
}
