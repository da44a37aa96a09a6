package tomlfile

import (
	"strings"
	"unicode/utf8"
)

// maxDescriptionRunes bounds a description, so that a list of files
// stays one line per file on a terminal.
const maxDescriptionRunes = 100

// Description returns a one-line description of the embedded file called
// name, from the comment it opens with: the first sentence of that
// comment's first paragraph. A sentence longer than 100 characters is cut
// at its first ": " (files open with a title, a colon, then the details)
// when that leaves at least 20 characters, else at its last comma or word
// boundary before that length, with "...". It returns "" for a file that opens with no comment, or no such
// file.
func (f Format) Description(name string) string {
	data, err := f.ReadEmbedded(name)
	if err != nil {
		return ""
	}
	return describeText(string(data))
}

// describeText is Description on the text of a file.
func describeText(text string) string {
	var words []string
	for line := range strings.Lines(strings.TrimPrefix(text, "\ufeff")) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "#")
		if !ok || strings.TrimSpace(rest) == "" {
			break // the end of the leading comment or of its first paragraph
		}
		words = append(words, strings.Fields(rest)...)
	}
	para := strings.Join(words, " ")
	sentence := para
	if i := strings.Index(para, ". "); i >= 0 {
		sentence = para[:i+1]
	}
	if utf8.RuneCountInString(sentence) <= maxDescriptionRunes {
		return sentence
	}
	if i := strings.Index(sentence, ": "); i >= 20 && utf8.RuneCountInString(sentence[:i]) <= maxDescriptionRunes {
		return sentence[:i]
	}
	cut := []rune(sentence)[:maxDescriptionRunes-3]
	s := string(cut)
	if i := strings.LastIndex(s, ", "); i >= maxDescriptionRunes/2 {
		s = s[:i] // a clause boundary reads better than a word's
	} else if i := strings.LastIndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, ",;:") + "..."
}
