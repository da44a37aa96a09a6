package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/output/dashboard"
	"github.com/sbmpsim/sbmpsim/internal/slowtest"
)

// TestDashboardsAreCurrent: `sbmpsim dashboard --out DIR` writes exactly
// the files committed in dashboards/, byte for byte. After changing the
// dashboards, regenerate them with
//
//	go run ./cmd/sbmpsim dashboard --out dashboards
func TestDashboardsAreCurrent(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := sbmpsim(t, "dashboard", "--out", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, want := readFiles(t, dir), readFiles(t, filepath.Join("..", "..", "dashboards"))
	for name, b := range got {
		if !bytes.Equal(b, want[name]) {
			t.Errorf("dashboards/%s is not what the generator writes: run go run ./cmd/sbmpsim dashboard --out dashboards", name)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("dashboards/%s is not the generator's: remove it", name)
		}
	}
	if code, _, stderr := sbmpsim(t, "dashboard"); code != 2 || !strings.Contains(stderr, "--out DIR is required") {
		t.Errorf("dashboard without --out: exit %d, %q; want 2 and a message", code, stderr)
	}
}

// readFiles returns every file under dir by slash path.
func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDashboardsOnPrometheus backfills a run (oom-crisis, seed 1: an OOM
// kill, failed allocations, degrade) and a two-seed A/B experiment into
// one TSDB with promtool, serves it with Debian's prometheus on loopback,
// and runs every PromQL query of both dashboards (every panel's and the
// OOM annotation's, the template variables substituted as Grafana would)
// through /api/v1/query_range over the runs' minute: each must return
// series with a number in them. The variables' label_values queries must
// find the run's scenario for the run dashboard and the A/B's for the A/B
// one, and not the other (the run dashboard leaves out series with an
// arm).
func TestDashboardsOnPrometheus(t *testing.T) {
	slowtest.Require(t, "backfills runs into a Prometheus server and runs every dashboard query")
	promtool := slowtest.Tool(t, "promtool", "prometheus")
	prom := slowtest.Tool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	runDir, abDir, data := filepath.Join(dir, "run"), filepath.Join(dir, "ab"), filepath.Join(dir, "data")
	for _, args := range [][]string{
		{"run", "oom-crisis", "--out", runDir},
		{"ab", "oom-crisis-user", "--seeds", "2", "--workers", "2", "--a", "policy.refill=fixed-batch", "--b", "policy.refill=adaptive-batch", "--metrics", "--out", abDir},
	} {
		if code, _, stderr := sbmpsim(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	for _, d := range []string{runDir, abDir} {
		backfill(t, promtool, filepath.Join(d, "metrics.om"), data)
	}
	api := startPrometheus(t, prom, data, dir)
	files, err := dashboard.Files()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]map[string]string{
		"sbmpsim-run.json": {"scenario": "oom-crisis", "seed": "1", "node": "(0|1)", "rate_window": "5s"},
		"sbmpsim-ab.json":  {"scenario": "oom-crisis-user", "arm": "(a|b)", "seed": "(1|2)", "node": "(0|1)", "rate_window": "5s"},
	}
	queried := 0
	for _, f := range files[:2] {
		qs, labelQueries := dashboardQueries(t, f.Data)
		answered := 0
		for _, q := range qs {
			expr := substitute(t, q.expr, vars[f.Path])
			if n := queryRange(t, api, expr); n == 0 {
				t.Errorf("%s: %s: no series for %s", f.Path, q.title, expr)
			} else {
				answered++
			}
		}
		checkVariables(t, api, f.Path, labelQueries, vars[f.Path])
		queried += len(qs)
		t.Logf("%s: %d of %d queries (panels and annotation) answered with data; %d variable queries checked", f.Path, answered, len(qs), len(labelQueries))
	}
	if queried < 20 {
		t.Errorf("only %d queries found in the dashboards", queried)
	}
}

// dashQuery is one PromQL query of a dashboard and where it is.
type dashQuery struct{ title, expr string }

// dashboardQueries returns the PromQL of every panel target and
// annotation of a dashboard's JSON, and its variables' queries by
// variable name.
func dashboardQueries(t *testing.T, data []byte) ([]dashQuery, map[string]string) {
	t.Helper()
	var d struct {
		Panels []struct {
			Type, Title string
			Targets     []struct{ Expr string }
		}
		Annotations struct {
			List []struct{ Name, Expr string }
		}
		Templating struct {
			List []struct{ Name, Type, Query string }
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	var out []dashQuery
	for _, p := range d.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			out = append(out, dashQuery{p.Title, tg.Expr})
		}
	}
	for _, a := range d.Annotations.List {
		out = append(out, dashQuery{"annotation " + a.Name, a.Expr})
	}
	labels := map[string]string{}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			labels[v.Name] = v.Query
		}
	}
	return out, labels
}

var dashVar = regexp.MustCompile(`\$([a-z_]+)`)

// substitute replaces the dashboard variables in expr by their values;
// a variable without a value fails the test.
func substitute(t *testing.T, expr string, vars map[string]string) string {
	t.Helper()
	return dashVar.ReplaceAllStringFunc(expr, func(m string) string {
		v, ok := vars[m[1:]]
		if !ok {
			t.Errorf("%s: no value for %s", expr, m)
		}
		return v
	})
}

// queryTime is the runs' time range: the default metrics epoch and the
// minute after it.
var queryStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// queryRange runs expr over the runs' minute at a 1 s step and returns
// the number of series with at least one finite value.
func queryRange(t *testing.T, api, expr string) int {
	t.Helper()
	q := url.Values{"query": {expr}, "start": {strconv.FormatInt(queryStart.Unix(), 10)},
		"end": {strconv.FormatInt(queryStart.Add(time.Minute).Unix(), 10)}, "step": {"1"}}
	var resp struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Values [][2]any
			}
		}
	}
	getJSON(t, api+"/api/v1/query_range?"+q.Encode(), &resp)
	if resp.Status != "success" {
		t.Fatalf("%s: %s %s", expr, resp.Status, resp.Error)
	}
	n := 0
	for _, s := range resp.Data.Result {
		for _, v := range s.Values {
			if x, err := strconv.ParseFloat(fmt.Sprint(v[1]), 64); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
				n++
				break
			}
		}
	}
	return n
}

var labelValues = regexp.MustCompile(`^label_values\((.*), ([a-z_]+)\)$`)

// checkVariables runs each label_values variable query through
// /api/v1/label/NAME/values; each must find the value the test gives the
// variable (scenario exactly that one).
func checkVariables(t *testing.T, api, name string, queries, vars map[string]string) {
	t.Helper()
	for v, query := range queries {
		m := labelValues.FindStringSubmatch(query)
		if m == nil {
			t.Errorf("%s: variable %s: %q is not label_values(SELECTOR, LABEL)", name, v, query)
			continue
		}
		q := url.Values{"match[]": {substitute(t, m[1], vars)}, "start": {strconv.FormatInt(queryStart.Unix(), 10)},
			"end": {strconv.FormatInt(queryStart.Add(time.Minute).Unix(), 10)}}
		var resp struct {
			Status string
			Data   []string
		}
		getJSON(t, api+"/api/v1/label/"+m[2]+"/values?"+q.Encode(), &resp)
		want := strings.Trim(vars[v], "()")
		if got := strings.Join(resp.Data, "|"); resp.Status != "success" || got != want {
			t.Errorf("%s: variable %s (%s) finds %q, want %q", name, v, query, got, want)
		}
	}
}

// getJSON decodes the JSON answer of a GET.
func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	r, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// startPrometheus serves the TSDB in data with prometheus on a free
// loopback port, and stops it when the test ends, whether it passed or
// not. It returns the server's base URL once it is ready.
func startPrometheus(t *testing.T, prom, data, dir string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  evaluation_interval: 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prom, "--config.file="+cfg, "--storage.tsdb.path="+data, "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("prometheus log:\n%s", b)
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := http.Get(base + "/-/ready")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus on %s not ready after 60 s: %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
