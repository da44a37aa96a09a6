package canon

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// ValidationSection is the report's last section: the sim-to-real
// validation (experiments/validate writes it under root/validation/). It
// is not a canonical experiment: its real runs need root and measure
// this host's kernel, so they are neither rerun with the experiments nor
// deterministic; the report shows the outputs last written.
func ValidationSection() Experiment {
	return Experiment{
		Name:  "validation",
		Title: "Sim-to-real validation: this host's kernel as the oracle",
		Spec:  "real runs against simulations of the same scenarios",
	}
}

// BuildLine is index.html's line saying which build wrote the page.
func BuildLine(v buildinfo.Version) string {
	return fmt.Sprintf("<p class=\"build\">Written by sbmpsim %s.</p>\n", html.EscapeString(v.String()))
}

// Report assembles root/index.html from the section.html of each of exps
// found under root, in that order: one self-contained page (figures
// inline). It reports which experiments had no outputs.
func Report(root string, exps []Experiment) (missing []string, err error) {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sbmpsim: canonical experiments</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
section{border-top:1px solid #ccc;margin-top:2rem}
figure{margin:1rem 0}img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9rem;color:#444}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}
caption{text-align:left;font-size:.9rem;color:#444}
code{background:#f4f4f4;padding:0 .2rem}
.spec{color:#666}.cmd{font-size:.9rem}
</style></head><body>
<h1>sbmpsim: canonical experiments</h1>
<p>Each section is one canonical experiment: the figures, the numbers behind them (CSV beside each in its directory) and the command that regenerates it. Every number comes from the simulator, and the same command and seeds give the same bytes, except in the last section, the validation, whose real runs are what this host's kernel did.</p>
`)
	// The build line is the one line of the page that depends on the build
	// rather than on the experiments (BuildLine; the regeneration check
	// compares the page without it).
	b.WriteString(BuildLine(buildinfo.Current()))
	b.WriteString("<ul>\n")
	var sections []string
	for _, e := range exps {
		sec, err := os.ReadFile(filepath.Join(root, e.Name, "section.html"))
		if err != nil {
			if os.IsNotExist(err) {
				missing = append(missing, e.Name)
				continue
			}
			return nil, err
		}
		fmt.Fprintf(&b, "<li><a href=\"#%s\">%s</a> (%s)</li>\n", e.Name, html.EscapeString(e.Title), html.EscapeString(e.Spec))
		sections = append(sections, string(sec))
	}
	b.WriteString("</ul>\n")
	b.WriteString(strings.Join(sections, "\n"))
	// For headless checks: once loaded, the body says how many of its
	// images decoded (TestReportLoadsInChromium reads it).
	b.WriteString(`<script>
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } }
  document.body.setAttribute("data-images", ok + "/" + imgs.length);
});
</script>
`)
	b.WriteString("</body></html>\n")
	if len(sections) == 0 {
		return missing, fmt.Errorf("report: no experiment outputs under %s; run `sbmpsim experiment run all` first", root)
	}
	return missing, output.WriteFileAtomic(filepath.Join(root, "index.html"), []byte(b.String()))
}
