package scenario

import (
	"fmt"
	"slices"
	"strings"
)

// GFP is a parsed GFP mask of a kernel-placement page request: the base
// it starts from and the modifiers the model acts on.
type GFP struct {
	// Atomic: GFP_ATOMIC (no direct reclaim; may use the reserves)
	// rather than GFP_KERNEL.
	Atomic bool
	// NoRetry is __GFP_NORETRY, RetryMayFail __GFP_RETRY_MAYFAIL, High
	// __GFP_HIGH, Account __GFP_ACCOUNT (charge the memcg).
	NoRetry, RetryMayFail, High, Account bool
}

// gfpModifiers are the modifiers a mask may carry; __GFP_NOWARN and
// __GFP_COMP are accepted and change nothing the model does.
var gfpModifiers = []string{"__GFP_NORETRY", "__GFP_RETRY_MAYFAIL", "__GFP_HIGH", "__GFP_ACCOUNT", "__GFP_NOWARN", "__GFP_COMP"}

// ParseGFP parses a mask such as "GFP_KERNEL | __GFP_NORETRY": exactly
// one base, GFP_KERNEL or GFP_ATOMIC, and modifiers, each at most once;
// __GFP_NORETRY and __GFP_RETRY_MAYFAIL exclude each other, as the
// kernel's own checks in __alloc_pages_slowpath treat them as opposite
// retry policies.
func ParseGFP(s string) (GFP, error) {
	var g GFP
	base := ""
	seen := map[string]bool{}
	for _, tok := range strings.Split(s, "|") {
		tok = strings.TrimSpace(tok)
		switch {
		case tok == "":
			return GFP{}, fmt.Errorf("empty flag in %q (flags are joined by |)", s)
		case seen[tok]:
			return GFP{}, fmt.Errorf("%s appears twice", tok)
		case tok == "GFP_KERNEL" || tok == "GFP_ATOMIC":
			if base != "" {
				return GFP{}, fmt.Errorf("two bases, %s and %s: give one", base, tok)
			}
			base, g.Atomic = tok, tok == "GFP_ATOMIC"
		case !slices.Contains(gfpModifiers, tok):
			return GFP{}, fmt.Errorf("unknown flag %q (known: GFP_KERNEL, GFP_ATOMIC, %s)", tok, strings.Join(gfpModifiers, ", "))
		}
		seen[tok] = true
	}
	if base == "" {
		return GFP{}, fmt.Errorf("no base in %q: start with GFP_KERNEL or GFP_ATOMIC", s)
	}
	g.NoRetry, g.RetryMayFail = seen["__GFP_NORETRY"], seen["__GFP_RETRY_MAYFAIL"]
	g.High, g.Account = seen["__GFP_HIGH"], seen["__GFP_ACCOUNT"]
	if g.NoRetry && g.RetryMayFail {
		return GFP{}, fmt.Errorf("__GFP_NORETRY and __GFP_RETRY_MAYFAIL exclude each other")
	}
	return g, nil
}

// String is the mask in the kernel's notation, base first.
func (g GFP) String() string {
	parts := []string{"GFP_KERNEL"}
	if g.Atomic {
		parts[0] = "GFP_ATOMIC"
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{g.NoRetry, "__GFP_NORETRY"}, {g.RetryMayFail, "__GFP_RETRY_MAYFAIL"}, {g.High, "__GFP_HIGH"}, {g.Account, "__GFP_ACCOUNT"}} {
		if f.on {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, " | ")
}
