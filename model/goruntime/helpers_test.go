package goruntime

import (
	"strings"
	"testing"
	"unsafe"
)

// traceBuffer collects gctrace output.
type traceBuffer struct{ strings.Builder }

func containsWord(s, w string) bool { return strings.Contains(s, w) }

// TestObjectSize: objects cost 16 bytes each in the live ring and the
// garbage lists.
func TestObjectSize(t *testing.T) {
	if n := unsafe.Sizeof(object{}); n != 16 {
		t.Errorf("object is %d bytes, want 16", n)
	}
}
