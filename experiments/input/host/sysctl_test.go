package host

import (
	"strings"
	"testing"
)

func TestParseTHPMode(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "always [madvise] never\n", want: "madvise"},
		{in: "always defer defer+madvise [madvise] never\n", want: "madvise"},
		{in: "[always] madvise never", want: "always"},
		{in: "always defer [defer+madvise] madvise never", want: "defer+madvise"},
		{in: "always madvise never", err: "no selected value"},
		{in: "[always] [never]", err: "two selected values"},
		{in: "", err: "no selected value"},
	}
	for _, tt := range tests {
		got, err := ParseTHPMode(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseTHPMode(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseTHPMode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseTHPMode(f *testing.F) {
	f.Add("always [madvise] never")
	f.Add("[")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTHPMode(s)
		if err == nil && (got == "" || !strings.Contains(s, "["+got+"]")) {
			t.Fatalf("ParseTHPMode(%q) = %q", s, got)
		}
	})
}
