package tomlfile

import (
	"errors"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/pelletier/go-toml/v2/unstable"
)

// FuzzScan checks that Scan and KeyAt never panic, that every position
// lies in the document, and that every top-level key of a document both
// parsers accept has a position.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"", "[run]\nseed = 1\n", "[[workload]]\n[[workload]]\nrate_per_s = 1x\n",
		"kernel = { swappiness = 1, bad = {x = 2} }\nworkload = [{}, {cpus = \"1\", x = 2}]\n",
		"q = [ # x ]\n  '''x\n]''',\n  {b = 2, c = [1,\n 2]},\n [[], [3]], # ,]\n]\n",
		"\"re fill\" = 1\n'lit.eral' = 2\n\"swap\\u0070iness\" = 3\n",
		"[run]\nname = \"\"\"\nfake = 1 [kernel] \"\"\"\nseed = 1\n",
		"\xef\xbb\xbfa.b . c = 1\n[a.d]\n[[a.e]]\n",
		"t = {\n  a = 1, # one\n  b = [2],\n}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		text := trimBOM(data)
		for k, o := range Scan(data) {
			if o.Line < 1 || o.Col < 1 || o.Offset < 0 || o.Offset > len(text) {
				t.Fatalf("%s at %+v, outside the document", k, o)
			}
		}
		KeyAt(data, len(data)/2)
		var raw map[string]any
		_, err := toml.Decode(string(data), &raw)
		var pe toml.ParseError
		if errors.As(err, &pe) {
			KeyAt(text, pe.Position.Start)
			return
		}
		if err != nil || !accepted(text) {
			return
		}
		pos := Scan(data)
		for k := range raw {
			if _, ok := pos[Key(k)]; !ok {
				t.Fatalf("top-level key %q has no position", k)
			}
		}
	})
}

// accepted reports whether go-toml's parser reads all of data.
func accepted(data []byte) bool {
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
	}
	return p.Error() == nil
}
