package canon

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/output"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Out collects what one experiment writes.
type Out struct {
	exp   Experiment
	md    strings.Builder
	html  strings.Builder
	files map[string][]byte
	// inputs are the runs the experiment asked for (RunExperiment).
	inputs []Input
}

// NewOut starts the output of e.
func NewOut(e Experiment) *Out {
	o := &Out{exp: e, files: map[string][]byte{}}
	fmt.Fprintf(&o.md, "# %s\n\n*%s* — `%s`\n\n", e.Title, e.Spec, e.Name)
	fmt.Fprintf(&o.html, "<section id=%q>\n<h2>%s</h2>\n<p class=\"spec\">%s — <code>%s</code></p>\n",
		e.Name, html.EscapeString(e.Title), html.EscapeString(e.Spec), html.EscapeString(e.Name))
	return o
}

// P adds a paragraph. Backquoted spans become code.
func (o *Out) P(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	fmt.Fprintf(&o.md, "%s\n\n", text)
	fmt.Fprintf(&o.html, "<p>%s</p>\n", codeSpans(text))
}

// Cmd records the exact command that regenerates the experiment.
func (o *Out) Cmd(cmd string) {
	fmt.Fprintf(&o.md, "Regenerate:\n\n```sh\n%s\n```\n\n", cmd)
	fmt.Fprintf(&o.html, "<p class=\"cmd\">Regenerate: <code>%s</code></p>\n", html.EscapeString(cmd))
}

// codeSpans escapes text for HTML and turns `x` into <code>x</code>.
func codeSpans(text string) string {
	parts := strings.Split(text, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + html.EscapeString(p) + "</code>")
		} else {
			if i%2 == 1 {
				b.WriteString("`")
			}
			b.WriteString(html.EscapeString(p))
		}
	}
	return b.String()
}

// Table adds a table, written as NAME.csv too.
func (o *Out) Table(name, caption string, header []string, rows [][]string) {
	var csv bytes.Buffer
	writeCSVRow(&csv, header)
	for _, r := range rows {
		writeCSVRow(&csv, r)
	}
	o.files[name+".csv"] = csv.Bytes()
	fmt.Fprintf(&o.md, "%s (`%s.csv`):\n\n| %s |\n|%s\n", caption, name, strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, r := range rows {
		fmt.Fprintf(&o.md, "| %s |\n", strings.Join(r, " | "))
	}
	o.md.WriteString("\n")
	fmt.Fprintf(&o.html, "<table>\n<caption>%s (<code>%s.csv</code>)</caption>\n<tr>", html.EscapeString(caption), html.EscapeString(name))
	for _, h := range header {
		fmt.Fprintf(&o.html, "<th>%s</th>", html.EscapeString(h))
	}
	o.html.WriteString("</tr>\n")
	for _, r := range rows {
		o.html.WriteString("<tr>")
		for _, c := range r {
			fmt.Fprintf(&o.html, "<td>%s</td>", html.EscapeString(c))
		}
		o.html.WriteString("</tr>\n")
	}
	o.html.WriteString("</table>\n")
}

// CSV stores the numbers behind a figure as NAME.csv.
func (o *Out) CSV(name string, header []string, rows [][]string) {
	var csv bytes.Buffer
	writeCSVRow(&csv, header)
	for _, r := range rows {
		writeCSVRow(&csv, r)
	}
	o.files[name+".csv"] = csv.Bytes()
}

func writeCSVRow(b *bytes.Buffer, cells []string) {
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(',')
		}
		if strings.ContainsAny(c, ",\"\n") {
			c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		b.WriteString(c)
	}
	b.WriteByte('\n')
}

// Figure renders plots (a grid, rows of columns) as NAME.png and
// NAME.svg and adds them with a caption. The numbers behind it go in a
// CSV via CSV.
func (o *Out) Figure(name, caption string, width, height vg.Length, grid [][]*plot.Plot) error {
	render := func(format string) ([]byte, error) {
		c, err := draw.NewFormattedCanvas(width, height, format)
		if err != nil {
			return nil, err
		}
		dc := draw.New(c)
		tiles := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadX: vg.Points(10), PadY: vg.Points(10),
			PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(10)}
		cs := plot.Align(grid, tiles, dc)
		for i, row := range grid {
			for j, p := range row {
				if p != nil {
					p.Draw(cs[i][j])
				}
			}
		}
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	png, err := render("png")
	if err != nil {
		return fmt.Errorf("figure %s: %w", name, err)
	}
	svg, err := render("svg")
	if err != nil {
		return fmt.Errorf("figure %s: %w", name, err)
	}
	o.files[name+".png"] = png
	o.files[name+".svg"] = svg
	fmt.Fprintf(&o.md, "![%s](%s.png)\n\n*%s* ([SVG](%s.svg))\n\n", name, name, caption, name)
	fmt.Fprintf(&o.html, "<figure><img alt=%q src=\"data:image/png;base64,%s\"><figcaption>%s <a href=\"%s/%s.svg\">SVG</a></figcaption></figure>\n",
		name, base64.StdEncoding.EncodeToString(png), codeSpans(caption), o.exp.Name, name)
	return nil
}

// File stores a further file of the experiment under name (a JSON
// document beside its tables, say), written with the rest by Write.
func (o *Out) File(name string, data []byte) { o.files[name] = data }

// Files returns everything the experiment writes, by file name, including
// README.md and section.html.
func (o *Out) Files() map[string][]byte {
	files := make(map[string][]byte, len(o.files)+2)
	for k, v := range o.files {
		files[k] = v
	}
	files["README.md"] = []byte(o.md.String())
	files["section.html"] = []byte(o.html.String() + "</section>\n")
	return files
}

// Write writes the experiment's files into root/NAME, replacing what an
// earlier run left there. Every file goes through a temporary name.
func (o *Out) Write(root string) error {
	dir := filepath.Join(root, o.exp.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := o.Files()
	old, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range old {
		if _, keep := files[e.Name()]; !keep && !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := output.WriteFileAtomic(filepath.Join(dir, n), files[n]); err != nil {
			return err
		}
	}
	return nil
}
