package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"
)

// The files of deploy/ that the README shows, relative to this package.
const (
	k8sJobFile      = "../../deploy/k8s/sweep-job.yaml"
	slurmSbatchFile = "../../deploy/slurm/sweep.sbatch"
	slurmSubmitFile = "../../deploy/slurm/submit.sh"
)

// decodeJob decodes a Kubernetes Job manifest as strictly as the API
// server's strict field validation: an unknown or misspelt field, a
// duplicate key or a wrong type is an error.
func decodeJob(manifest []byte) (*batchv1.Job, error) {
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(manifest, &job); err != nil {
		return nil, err
	}
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		return nil, fmt.Errorf("apiVersion %q kind %q, want batch/v1 Job", job.APIVersion, job.Kind)
	}
	return &job, nil
}

// TestDecodeJobIsStrict shows that decodeJob refuses what the API server
// would, so that TestK8sJobManifest can fail.
func TestDecodeJobIsStrict(t *testing.T) {
	good, err := os.ReadFile(k8sJobFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"misspelt field", "completionMode:", "completionMod:", `unknown field "completionMod"`},
		{"misspelt container field", "image:", "imag:", `unknown field "imag"`},
		{"wrong type", "completions: 8", `completions: "8"`, "cannot unmarshal string"},
		{"duplicate key", "parallelism: 8", "parallelism: 8\n  parallelism: 4", "already set in map"},
		{"wrong kind", "kind: Job", "kind: CronJob", "want batch/v1 Job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(good), tc.old, tc.new, 1)
			if bad == string(good) {
				t.Fatalf("%s does not contain %q", k8sJobFile, tc.old)
			}
			if _, err := decodeJob([]byte(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("decodeJob: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// shardArg is the shape of the Indexed Job's --shard argument.
var shardArg = regexp.MustCompile(`^--shard=\$\(JOB_COMPLETION_INDEX\)/([0-9]+)$`)

// TestK8sJobManifest decodes deploy/k8s/sweep-job.yaml into the
// Kubernetes batch/v1 types (kubectl --dry-run=client needs a server) and
// checks that its pods cover the sweep: an Indexed Job whose completions
// equal the N of --shard=$(JOB_COMPLETION_INDEX)/N, and whose command,
// with each index put in as Kubernetes expands it, is one this sbmpsim
// accepts (run here with --dry-run) and together the shards run every run
// of the sweep exactly once.
func TestK8sJobManifest(t *testing.T) {
	data, err := os.ReadFile(k8sJobFile)
	if err != nil {
		t.Fatal(err)
	}
	job, err := decodeJob(data)
	if err != nil {
		t.Fatalf("%s: %v", k8sJobFile, err)
	}
	spec := job.Spec
	if mode := spec.CompletionMode; mode == nil || *mode != batchv1.IndexedCompletion {
		t.Fatalf("completionMode %s, want Indexed", ptrString(mode))
	}
	if spec.Completions == nil || spec.Parallelism == nil {
		t.Fatal("completions and parallelism must be set")
	}
	if cs := spec.Template.Spec.Containers; len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	c := spec.Template.Spec.Containers[0]
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(argv) < 2 || argv[0] != "sbmpsim" || argv[1] != "sweep" {
		t.Fatalf("container runs %q, want sbmpsim sweep ...", argv)
	}
	n := 0
	for _, a := range argv {
		if m := shardArg.FindStringSubmatch(a); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
	}
	if n == 0 {
		t.Fatalf("no --shard=$(JOB_COMPLETION_INDEX)/N in %q", argv)
	}
	if int(*spec.Completions) != n || *spec.Parallelism < 1 || *spec.Parallelism > int32(n) {
		t.Errorf("completions %d, parallelism %d; the command has %d shards", *spec.Completions, *spec.Parallelism, n)
	}
	checkShardsCoverSweep(t, argv[1:], n)
}

// ptrString is *p, or "unset".
func ptrString[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

var dryRunLine = regexp.MustCompile(`= ([0-9]+) runs; shard ([0-9]+)/([0-9]+) has ([0-9]+)`)

// checkShardsCoverSweep runs args (a sweep command line naming
// $(JOB_COMPLETION_INDEX)) for each index 0..n-1 with --dry-run and checks
// that shard I/n is run by pod I and that the shards' runs add up to the
// sweep's.
func checkShardsCoverSweep(t *testing.T, args []string, n int) {
	t.Helper()
	total, sum := -1, 0
	for i := range n {
		argv := make([]string, 0, len(args)+1)
		for _, a := range args {
			argv = append(argv, strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i)))
		}
		code, out, errOut := sbmpsim(t, append(argv, "--dry-run")...)
		if code != 0 {
			t.Fatalf("sbmpsim %s --dry-run: exit %d: %s", strings.Join(argv, " "), code, errOut)
		}
		m := dryRunLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("sbmpsim %s --dry-run printed no shard line:\n%s", strings.Join(argv, " "), out)
		}
		if m[2] != strconv.Itoa(i) || m[3] != strconv.Itoa(n) {
			t.Errorf("pod %d runs shard %s/%s", i, m[2], m[3])
		}
		runs, _ := strconv.Atoi(m[1])
		mine, _ := strconv.Atoi(m[4])
		if total >= 0 && runs != total {
			t.Errorf("pod %d sees %d runs, pod 0 %d", i, runs, total)
		}
		total, sum = runs, sum+mine
	}
	if sum != total || total == 0 {
		t.Errorf("the %d shards hold %d runs, the sweep has %d", n, sum, total)
	}
}

// TestREADMEShowsDeployFiles keeps the README's Slurm and Kubernetes
// recipes the committed files that the tests check and run, verbatim.
func TestREADMEShowsDeployFiles(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{slurmSbatchFile, slurmSubmitFile, k8sJobFile} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lang := map[string]string{".sbatch": "bash", ".sh": "sh", ".yaml": "yaml"}[filepath.Ext(f)]
		block := "```" + lang + "\n" + string(data) + "```\n"
		if !strings.Contains(string(readme), block) {
			t.Errorf("README.md does not show %s verbatim in a ```%s block", strings.TrimPrefix(f, "../../"), lang)
		}
	}
}
