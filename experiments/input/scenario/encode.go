package scenario

import (
	"bytes"
	"fmt"
	"math"

	"github.com/BurntSushi/toml"
)

// encodeHeader opens every encoded scenario.
const encodeHeader = "# sbmpsim scenario, resolved: every key with its value.\n\n"

// Encode returns the canonical TOML of the resolved scenario: every key of
// every section with its value, sections and keys in a fixed order, one
// [[workload]] table per workload. The bytes depend only on the values, so
// equal scenarios encode identically, and Parse(Encode(s)) equals s for a
// scenario that passes Validate. Source is not encoded.
func (s *Scenario) Encode() ([]byte, error) {
	if s.Run.Seed > math.MaxInt64 {
		return nil, &Error{File: s.Source, Key: "run.seed", Msg: fmt.Sprintf("%d does not fit a TOML integer (at most %d)", s.Run.Seed, int64(math.MaxInt64))}
	}
	var buf bytes.Buffer
	buf.WriteString(encodeHeader)
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", s.Source, err)
	}
	return buf.Bytes(), nil
}
