package console

import (
	"bytes"
	"errors"
	"html/template"
	"io"
	"strings"
)

// Report writes a rehearsal report: one self-contained HTML file (uPlot,
// charts.js and the data inlined; nothing fetched) that plots the
// rehearsal's JSON — the bytes otactl rehearse --output json prints —
// over the simulated time: executions by status, things notified per
// minute, maintenance windows shaded, retries and the abort marked; text
// (the textual timeline) goes below the charts.
func Report(w io.Writer, title string, rehearsalJSON []byte, text string) error {
	if !bytes.HasPrefix(bytes.TrimSpace(rehearsalJSON), []byte("{")) {
		return errors.New("console: a report needs the rehearsal's JSON object")
	}
	read := func(name string) string {
		b, err := files.ReadFile(name)
		if err != nil {
			panic(err) // embedded: cannot be missing
		}
		return string(b)
	}
	// Inside <script>, "<" only occurs in JSON strings, where \u003c is the
	// same character: no "</script>" can end the element early.
	data := strings.ReplaceAll(string(bytes.TrimSpace(rehearsalJSON)), "<", `\u003c`)
	return reportTmpl.Execute(w, map[string]any{
		"Title":   title,
		"Text":    text,
		"CSS":     template.CSS(read("assets/vendor/uPlot.min.css")),
		"UPlot":   template.JS(read("assets/vendor/uPlot.iife.min.js")),
		"Charts":  template.JS(read("assets/charts.js")),
		"Data":    template.JS(data),
		"License": read("assets/vendor/uPlot.LICENSE"),
	})
}

var reportTmpl = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em 2em; color: #1d1d1f; }
h1 { font-size: 1.4em; } figure { margin: 1em 0; } figcaption { font-weight: 600; }
pre { background: #f5f5f7; padding: 1em; overflow: auto; }
.legend-note { color: #6b6b70; font-size: 12px; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="legend-note">Simulated time in UTC. Shaded: maintenance windows. Orange ticks: retries. Dashed red line: the abort.</p>
<figure><figcaption>Executions by status</figcaption><div id="status-chart"></div></figure>
<figure><figcaption>Rollout: things notified per minute</figcaption><div id="rate-chart"></div></figure>
<h2>Timeline</h2>
<pre id="timeline">{{.Text}}</pre>
<script type="application/json" id="rehearsal">{{.Data}}</script>
<script>{{.UPlot}}</script>
<script>{{.Charts}}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById("rehearsal").textContent);
  otaCharts.draw(document.getElementById("status-chart"), "status", d, true);
  otaCharts.draw(document.getElementById("rate-chart"), "rate", d, true);
})();
</script>
<footer><details><summary class="legend-note">Charts drawn with uPlot 1.6.32, inlined (MIT licence)</summary><pre>{{.License}}</pre></details></footer>
</body>
</html>
`))
