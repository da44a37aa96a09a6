package scenario

import (
	"strings"
	"testing"
)

func TestParseGFP(t *testing.T) {
	tests := []struct {
		in      string
		want    GFP
		wantErr string
	}{
		{in: "GFP_KERNEL", want: GFP{}},
		{in: "GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN | __GFP_COMP", want: GFP{NoRetry: true}},
		{in: "GFP_ATOMIC|__GFP_HIGH", want: GFP{Atomic: true, High: true}},
		{in: " GFP_KERNEL |__GFP_ACCOUNT|__GFP_RETRY_MAYFAIL ", want: GFP{Account: true, RetryMayFail: true}},
		{in: "", wantErr: "empty flag"},
		{in: "__GFP_NORETRY", wantErr: "no base"},
		{in: "GFP_KERNEL | GFP_ATOMIC", wantErr: "two bases"},
		{in: "GFP_KERNEL | __GFP_NORETRY | __GFP_NORETRY", wantErr: "appears twice"},
		{in: "GFP_KERNEL | __GFP_NOFAIL", wantErr: `unknown flag "__GFP_NOFAIL"`},
		{in: "GFP_KERNEL || __GFP_NOWARN", wantErr: "empty flag"},
		{in: "GFP_KERNEL | __GFP_NORETRY | __GFP_RETRY_MAYFAIL", wantErr: "exclude each other"},
	}
	for _, tt := range tests {
		got, err := ParseGFP(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseGFP(%q) = %+v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseGFP(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseGFP: any string parses or is refused, and what parses prints
// back to a mask that parses to the same flags.
func FuzzParseGFP(f *testing.F) {
	for _, s := range []string{"GFP_KERNEL", "GFP_ATOMIC|__GFP_HIGH", "GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN", "|", "GFP_KERNEL||"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGFP(s)
		if err != nil {
			return
		}
		again, err := ParseGFP(g.String())
		if err != nil || again != g {
			t.Fatalf("%q parsed to %+v, printed %q, parsed again to %+v, %v", s, g, g.String(), again, err)
		}
	})
}
