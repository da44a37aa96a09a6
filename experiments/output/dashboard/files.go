package dashboard

// The SDK marks its classic dashboard model deprecated in favour of
// dashboardv2, Grafana 12's resource schema, which a file provider loads
// only with Grafana 12's new-layout feature flags. The classic JSON model
// is what every Grafana provisions, so the dashboards use it.
//
//lint:file-ignore SA1019 the classic dashboard JSON is the provisionable one (see above)

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// File is one file `sbmpsim dashboard` writes: its path under the output
// directory and its bytes.
type File struct {
	Path string
	Data []byte
}

// providerYAML provisions the dashboards from a directory (copy the JSON
// files there).
const providerYAML = `# Grafana dashboard provider for sbmpsim's dashboards: copy this file to
# /etc/grafana/provisioning/dashboards/ and the two JSON files to the path
# below (or change it).
apiVersion: 1
providers:
  - name: sbmpsim
    folder: sbmpsim
    type: file
    disableDeletion: false
    options:
      path: /var/lib/grafana/dashboards/sbmpsim
`

// datasourceYAML provisions the Prometheus that serves the backfilled
// blocks.
const datasourceYAML = `# Grafana data source for sbmpsim's dashboards: copy this file to
# /etc/grafana/provisioning/datasources/. The Prometheus serves the blocks
# that 'promtool tsdb create-blocks-from openmetrics metrics.om DATA_DIR'
# made: prometheus --storage.tsdb.path=DATA_DIR --web.listen-address=127.0.0.1:9090
apiVersion: 1
datasources:
  - name: sbmpsim-prometheus
    type: prometheus
    access: proxy
    url: http://127.0.0.1:9090
    isDefault: true
`

// Files are the dashboards as provisionable JSON, and example
// provisioning files, in a fixed order. The bytes depend on nothing but
// this package and the SDK's version.
func Files() ([]File, error) {
	var out []File
	for _, d := range []struct {
		path  string
		build func() (dashboard.Dashboard, error)
	}{{"sbmpsim-run.json", Run}, {"sbmpsim-ab.json", AB}} {
		dash, err := d.build()
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", d.path, err)
		}
		b, err := json.MarshalIndent(dash, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", d.path, err)
		}
		out = append(out, File{d.path, append(b, '\n')})
	}
	return append(out,
		File{"provisioning/dashboards/sbmpsim.yaml", []byte(providerYAML)},
		File{"provisioning/datasources/sbmpsim.yaml", []byte(datasourceYAML)},
	), nil
}
