package fieldref

import (
	"regexp"
	"strings"
)

// Table renders a Markdown table. A "|" in a cell is escaped and a
// line break becomes a space, so any text fits in a cell.
func Table(header []string, rows [][]string) string {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + strings.ReplaceAll(oneLine(c), "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

// identifier matches a Go identifier as a whole word.
var identifier = regexp.MustCompile(`\b[A-Za-z_][A-Za-z0-9_]*\b`)

// renameFields rewrites a doc comment for the JSON reader: a comment
// that starts with the field's own Go name (self) starts with its key
// instead, and the Go names of the struct's other fields (names, Go
// name to key) become their keys. Only compound names (two capitals and
// a lower-case letter at least, such as ObjectsLost or OOMRuns) are
// rewritten inside a sentence, so that ordinary words that happen to
// name a field (Rate, Name, SBMP) are left alone.
func renameFields(doc, self string, names map[string]string) string {
	if self != "" {
		if rest, ok := strings.CutPrefix(doc, self+" "); ok {
			doc = "`" + names[self] + "` " + rest
		}
	}
	return replaceIdents(doc, func(w string) (string, bool) {
		key, ok := names[w]
		return key, ok && compound(w)
	})
}

// replaceIdents replaces the identifiers of text for which rename says
// so with their new names in backquotes. An identifier after a dot is
// another type's field (runtime.MemStats.PauseTotalNs) and stays.
func replaceIdents(text string, rename func(string) (string, bool)) string {
	var b strings.Builder
	last := 0
	for _, loc := range identifier.FindAllStringIndex(text, -1) {
		if loc[0] > 0 && text[loc[0]-1] == '.' {
			continue
		}
		if v, ok := rename(text[loc[0]:loc[1]]); ok {
			b.WriteString(text[last:loc[0]])
			b.WriteString("`" + v + "`")
			last = loc[1]
		}
	}
	b.WriteString(text[last:])
	return b.String()
}

// compound reports whether name has two upper-case letters and a
// lower-case one.
func compound(name string) bool {
	upper, lower := 0, 0
	for _, r := range name {
		switch {
		case r >= 'A' && r <= 'Z':
			upper++
		case r >= 'a' && r <= 'z':
			lower++
		}
	}
	return upper >= 2 && lower >= 1
}

// RenameIdents replaces every whole-word occurrence of a key of names
// in text with its value in backquotes: Go names in a doc comment
// become the names a reader of the output sees.
func RenameIdents(text string, names map[string]string) string {
	return replaceIdents(text, func(w string) (string, bool) {
		v, ok := names[w]
		return v, ok
	})
}
