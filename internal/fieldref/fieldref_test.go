package fieldref

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// sample is a file's type for the tests: every way a field can be
// declared.
type sample struct {
	// Name is the sample's name.
	Name string `json:"name"`
	// CountTotal counts things; see OtherField.
	CountTotal int64   `json:"count_total,omitempty"`
	OtherField float64 `json:"other"` // A line comment.
	Undoc      bool    `json:"undoc"`
	// Inner is one inner.
	Inner *inner `json:"inner"`
	// List holds inners.
	List []inner `json:"list"`
	// ByName holds inners by name.
	ByName map[string][]inner `json:"by_name"`
	// Anon is an anonymous struct.
	Anon struct {
		// X is x.
		X int `json:"x"`
	} `json:"anon"`
	flat
	// Skipped is never written.
	Skipped int `json:"-"`
	// Gen is generic.
	Gen generic[inner] `json:"gen"`
	// Plain has no tag.
	Plain uint8
}

// inner is a nested struct type.
type inner struct {
	// Rate is a ratio.
	Rate float64 `json:"rate"`
}

// flat is embedded in sample: its fields are sample's in JSON.
type flat struct {
	// FlatField is flattened.
	FlatField string `json:"flat_field"`
}

// generic is a generic struct type.
type generic[T any] struct {
	// Value is a T.
	Value T `json:"value"`
}

// kind is a typed constant for the Consts test.
type kind int

// The kinds.
const (
	// KindA and KindB are the first two.
	KindA kind = iota
	KindB
	KindC // KindC has a line comment.
	// NrKinds counts them.
	NrKinds
	// kindLimit is untyped, in the same block: not a kind.
	kindLimit = 3
)

func render(t *testing.T) (string, *Generator) {
	t.Helper()
	g, err := New(".")
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.JSON("sample.json", reflect.TypeFor[sample]())
	if err != nil {
		t.Fatal(err)
	}
	return out, g
}

func TestJSONRows(t *testing.T) {
	out, _ := render(t)
	for _, want := range []string{
		"## `sample.json`\n",
		"| `name` | string | `name` is the sample's name. |\n",
		"| `count_total` | integer (`int64`), optional | `count_total` counts things; see `other`. |\n",
		"| `other` | number (`float64`) | A line comment. |\n",
		"| `undoc` | boolean | (undocumented) |\n",
		"| `inner` | object [inner](#fieldref-inner) or null | `inner` is one inner. |\n",
		"| `list` | array of object [inner](#fieldref-inner) | `list` holds inners. |\n",
		"| `by_name` | object of array of object [inner](#fieldref-inner) | `by_name` holds inners by name. |\n",
		"| `anon` | [object](#fieldref-sample-anon) | `anon` is an anonymous struct. |\n",
		"| `flat_field` | string | `flat_field` is flattened. |\n",
		"| `gen` | object [generic[inner]](#fieldref-generic-inner) | `gen` is generic. |\n",
		"| `Plain` | integer (`uint8`) | `Plain` has no tag. |\n",
		"### inner\n\n<a id=\"fieldref-inner\"></a>\nAt `inner`, `list[]`, `by_name.*[]`, `gen.value`.\n",
		"### `anon`\n",
		"| `x` | integer (`int`) | `x` is x. |\n",
		"### generic[inner]\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the reference lacks %q:\n%s", want, out)
		}
	}
	for _, absent := range []string{"Skipped", "skipped", "`flat`", "unexported"} {
		if strings.Contains(out, absent) {
			t.Errorf("the reference shows %q, which JSON does not", absent)
		}
	}
	if n := strings.Count(out, "### inner"); n != 1 {
		t.Errorf("inner has %d sections, want 1", n)
	}
}

func TestUndocumented(t *testing.T) {
	_, g := render(t)
	if got, want := g.Undocumented(), []string{"fieldref.sample.Undoc"}; !slices.Equal(got, want) {
		t.Errorf("Undocumented() = %q, want %q", got, want)
	}
}

// TestLinkedOnceDocumented: a type documented with an earlier file is
// linked from a later one, not repeated.
func TestLinkedOnceDocumented(t *testing.T) {
	_, g := render(t)
	out, err := g.JSON("again.json", reflect.TypeFor[generic[inner]]())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "### inner") || !strings.Contains(out, "object [inner](#fieldref-inner)") {
		t.Errorf("inner is not linked to its earlier section:\n%s", out)
	}
}

func TestRenameFields(t *testing.T) {
	names := map[string]string{"Rate": "rate", "ObjectsLost": "objects_lost", "OOMRuns": "oom_runs", "SBMP": "sbmp"}
	for _, c := range []struct{ doc, self, want string }{
		{"Rate is a ratio.", "Rate", "`rate` is a ratio."},
		{"Rate and ObjectsLost.", "", "Rate and `objects_lost`."},
		{"SBMP's OOMRuns.", "", "SBMP's `oom_runs`."},
		{"RateX is not Rate.", "Rate", "RateX is not Rate."},
		{"MemStats.ObjectsLost, not ObjectsLost.", "", "MemStats.ObjectsLost, not `objects_lost`."},
	} {
		if got := renameFields(c.doc, c.self, names); got != c.want {
			t.Errorf("renameFields(%q, %q) = %q, want %q", c.doc, c.self, got, c.want)
		}
	}
}

func TestConsts(t *testing.T) {
	g, err := New(".")
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Consts("github.com/sbmpsim/sbmpsim/internal/fieldref", "kind")
	if err != nil {
		t.Fatal(err)
	}
	want := []ConstDoc{
		{"KindA", "KindA and KindB are the first two."},
		{"KindB", "KindA and KindB are the first two."},
		{"KindC", "KindC has a line comment."},
		{"NrKinds", "NrKinds counts them."},
	}
	if !slices.Equal(got, want) || kindLimit != int(NrKinds) {
		t.Errorf("Consts = %q, want %q (and NrKinds %d)", got, want, NrKinds)
	}
}

func TestTable(t *testing.T) {
	got := Table([]string{"a", "b"}, [][]string{{"x|y", "two\nlines"}})
	want := "| a | b |\n| --- | --- |\n| x\\|y | two lines |\n"
	if got != want {
		t.Errorf("Table = %q, want %q", got, want)
	}
}

func TestParseExposition(t *testing.T) {
	prom := "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"}\"} 3\na_total{z=\"2\"} 4\n" +
		"# HELP b_bytes Size.\n# TYPE b_bytes gauge\nb_bytes 7\n"
	om := "# TYPE a counter\n# UNIT a \n# HELP a Things.\na_total{x=\"1\"} 3 1.5\na_total{x=\"1\"} 4 2.5\n" +
		"# TYPE b_bytes gauge\n# UNIT b_bytes bytes\n# HELP b_bytes Size.\nb_bytes{y=\"2\"} 7 1.5\n# EOF\n"
	for _, c := range []struct {
		name, text string
		want       []Family
	}{
		{"prometheus text", prom, []Family{
			{Name: "a_total", Type: "counter", Help: "Things.", Labels: []string{"x", "y", "z"}},
			{Name: "b_bytes", Type: "gauge", Help: "Size."},
		}},
		{"openmetrics", om, []Family{
			{Name: "a_total", Type: "counter", Help: "Things.", Labels: []string{"x"}},
			{Name: "b_bytes", Type: "gauge", Unit: "bytes", Help: "Size.", Labels: []string{"y"}},
		}},
	} {
		got, err := ParseExposition([]byte(c.text))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
	if _, err := ParseExposition([]byte("# TYPE a counter\na_total{x=1} 3\n# EOF\n")); err == nil {
		t.Error("a malformed exposition parsed without error")
	}
}

func TestModulePath(t *testing.T) {
	for _, c := range []struct{ gomod, want string }{
		{"module example.com/m\n\ngo 1.26\n", "example.com/m"},
		{"// c\nmodule \"example.com/q\" // why\n", "example.com/q"},
		{"go 1.26\n", ""},
		{"modulex foo\n", ""},
	} {
		if got := modulePath([]byte(c.gomod)); got != c.want {
			t.Errorf("modulePath(%q) = %q, want %q", c.gomod, got, c.want)
		}
	}
}

func TestSeriesKey(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"a_total 3\n", "a_total"},
		{"a_total 3 1.5\n", "a_total"},
		{`a_total{x="1 2"} 3 1.5` + "\n", `a_total{x="1 2"}`},
		{`a{x="y"} +Inf`, `a{x="y"}`},
		{`a{x="y 7"} NaN 12`, `a{x="y 7"}`},
	} {
		if got := seriesKey(c.line); got != c.want {
			t.Errorf("seriesKey(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}
