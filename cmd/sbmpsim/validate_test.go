package main

import (
	"strings"
	"testing"
)

// TestValidateInvocation: bad invocations exit 2 with a message that
// says what to change, before anything runs; list names every case.
func TestValidateInvocation(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"validate"}, "validate needs a command"},
		{[]string{"validate", "fake"}, `unknown validate command "fake"`},
		{[]string{"validate", "real", "--case", "mlok"}, `did you mean "mlock"`},
		{[]string{"validate", "real", "--runs", "0"}, "--runs 0: need at least 1"},
		{[]string{"validate", "real", "extra"}, "name cases with --case"},
		{[]string{"validate", "real", "--bogus"}, "unknown flag"},
	} {
		code, _, stderr := sbmpsim(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	code, stdout, _ := sbmpsim(t, "validate", "list")
	if code != 0 || !strings.Contains(stdout, "thrash-hot-cache") || !strings.Contains(stdout, "memory-high") {
		t.Errorf("validate list: exit %d, %q", code, stdout)
	}
	code, stdout, _ = sbmpsim(t, "validate", "real", "--help")
	if code != 0 || !strings.Contains(stdout, "Exit codes:") || !strings.Contains(stdout, "Examples:") {
		t.Errorf("validate real --help: exit %d, %q", code, stdout)
	}
}
