package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/jobs"
	"github.com/otactl/otactl/local/wire"
)

// The pages. Each handler gathers a view from the services and renders
// its template inside the layout; a request with the X-Console-Fragment
// header (console.js, after a change event) gets only the live part.

const (
	maxRows = 500 // rows of a table before "… and N more"
)

type pages struct {
	c    *Console
	tmpl map[string]*template.Template
}

var funcs = template.FuncMap{
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"lower":   strings.ToLower,
	"pathesc": url.PathEscape,
	"details": func(m map[string]string) string {
		if len(m) == 0 {
			return ""
		}
		b, _ := json.Marshal(m)
		return string(b)
	},
}

func newPages(c *Console) *pages {
	p := &pages{c: c, tmpl: map[string]*template.Template{}}
	for _, name := range []string{"overview", "job", "execution", "streams", "objects", "signing", "error"} {
		p.tmpl[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	return p
}

// page is what every template gets.
type page struct {
	Title string
	Nav   string
	CSRF  string
	Data  any
}

func (p *pages) render(w http.ResponseWriter, r *http.Request, name, title, nav string, data any) {
	p.renderStatus(w, r, http.StatusOK, name, title, nav, data)
}

func (p *pages) renderStatus(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	pg := page{Title: title, Nav: nav, CSRF: p.c.csrf.token(p.c.csrf.session(w, r)), Data: data}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	tmpl := "layout"
	if r.Header.Get("X-Console-Fragment") != "" {
		tmpl = "live"
	}
	if err := p.tmpl[name].ExecuteTemplate(w, tmpl, pg); err != nil {
		fmt.Fprintf(w, "<p class=error>template %s: %s</p>", name, template.HTMLEscapeString(err.Error()))
	}
}

func (p *pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	var we *wire.Error
	if errors.As(err, &we) {
		status = we.Status
	}
	p.renderStatus(w, r, status, "error", "Error", "", map[string]any{"Status": status, "Error": err.Error()})
}

// counter is one status of a job's process details, under AWS's member name.
type counter struct {
	Status, Member string
	Count          int
	Pct            float64
}

func counters(c iot.ProcessDetails) (out []counter, total int) {
	out = []counter{
		{"SUCCEEDED", "numberOfSucceededThings", c.Succeeded, 0},
		{"FAILED", "numberOfFailedThings", c.Failed, 0},
		{"TIMED_OUT", "numberOfTimedOutThings", c.TimedOut, 0},
		{"REJECTED", "numberOfRejectedThings", c.Rejected, 0},
		{"CANCELED", "numberOfCanceledThings", c.Canceled, 0},
		{"REMOVED", "numberOfRemovedThings", c.Removed, 0},
		{"IN_PROGRESS", "numberOfInProgressThings", c.InProgress, 0},
		{"QUEUED", "numberOfQueuedThings", c.Queued, 0},
	}
	for _, x := range out {
		total += x.Count
	}
	for i := range out {
		if total > 0 {
			out[i].Pct = float64(out[i].Count) * 100 / float64(total)
		}
	}
	return out, total
}

type jobRow struct {
	iot.Job
	Counters []counter
	Total    int
}

func (p *pages) overview(w http.ResponseWriter, r *http.Request) {
	d := p.c.deps.Jobs
	js, err := d.Jobs("")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	things, err := d.ThingSummaries()
	if err != nil {
		p.fail(w, r, err)
		return
	}
	groups, err := d.GroupSummaries()
	if err != nil {
		p.fail(w, r, err)
		return
	}
	rows := make([]jobRow, len(js))
	for i, j := range js {
		cs, total := counters(j.Counts)
		rows[i] = jobRow{j, cs, total}
	}
	more := 0
	if len(things) > maxRows {
		more, things = len(things)-maxRows, things[:maxRows]
	}
	p.render(w, r, "overview", "otactl local", "overview", map[string]any{
		"Jobs": rows, "Things": things, "MoreThings": more, "ThingCount": len(things) + more, "Groups": groups})
}

// execRow is an execution with its download progress, from the OTA agent's
// statusDetails {"receive": "R/N"} (blocks received of N).
type execRow struct {
	iot.Execution
	Received, Blocks int
	Pct              float64
	Cancelable       bool
}

func rowOf(x iot.Execution) execRow {
	row := execRow{Execution: x, Cancelable: !iot.Terminal(x.Status)}
	if rv, ok := x.StatusDetails["receive"]; ok {
		a, b, _ := strings.Cut(rv, "/")
		r, err1 := strconv.Atoi(a)
		n, err2 := strconv.Atoi(b)
		if err1 == nil && err2 == nil && n > 0 && r >= 0 && r <= n {
			row.Received, row.Blocks, row.Pct = r, n, float64(r)*100/float64(n)
		}
	}
	if x.Status == iot.StatusSucceeded {
		row.Pct = 100
	}
	return row
}

var execStatuses = []string{"QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED"}

func (p *pages) job(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d := p.c.deps.Jobs
	j, err := d.Job(id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	status, thing := q.Get("status"), q.Get("thing")
	if status != "" && !contains(execStatuses, status) {
		status = ""
	}
	xs, err := d.Executions(id, status)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var rows []execRow
	matched := 0
	for _, x := range xs {
		if thing != "" && !strings.Contains(x.ThingName, thing) {
			continue
		}
		matched++
		if len(rows) < maxRows {
			rows = append(rows, rowOf(x))
		}
	}
	cs, total := counters(j.Counts)
	_, timeline := p.c.live.series(j)
	p.render(w, r, "job", "Job "+id, "overview", map[string]any{
		"Job": j, "Counters": cs, "Total": total, "Config": configOf(j), "Timeline": timeline,
		"Execs": rows, "Matched": matched, "More": matched - len(rows), "Status": status, "Thing": thing,
		"Statuses": execStatuses, "Cancelable": j.Status == iot.JobInProgress || j.Status == iot.JobScheduled})
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func (p *pages) execution(w http.ResponseWriter, r *http.Request) {
	id, thing := r.PathValue("id"), r.PathValue("thing")
	x, err := p.c.deps.Jobs.Execution(thing, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	earlier, err := p.c.deps.Jobs.EarlierAttempts(thing, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	attempts := make([]execRow, len(earlier))
	for i, a := range earlier {
		attempts[len(earlier)-1-i] = rowOf(a) // newest first, under the latest
	}
	p.render(w, r, "execution", thing+" · "+id, "overview", map[string]any{
		"Exec": rowOf(x), "Attempts": attempts})
}

// Series is what the charts plot, in the shape of otactl rehearse's JSON
// (progress, timeline, maintenanceWindows), so that console.js draws the
// console's live charts and the rehearsal report alike.
type Series struct {
	Progress           []jobs.Sample `json:"progress"`
	Timeline           []jobs.Event  `json:"timeline"`
	MaintenanceWindows []jobs.Span   `json:"maintenanceWindows,omitempty"`
	Now                time.Time     `json:"now"`
}

func (p *pages) series(w http.ResponseWriter, r *http.Request) {
	j, err := p.c.deps.Jobs.Job(r.PathValue("id"))
	if err != nil {
		wire.WriteError(w, err)
		return
	}
	s := Series{Now: p.c.deps.Now().UTC()}
	s.Progress, s.Timeline = p.c.live.series(j)
	if from := j.CreatedAt; j.SchedulingConfig != nil {
		s.MaintenanceWindows = jobs.WindowSpans(j.SchedulingConfig, from, s.Now.Add(24*time.Hour))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(s)
}

func (p *pages) streams(w http.ResponseWriter, r *http.Request) {
	ss, err := p.c.deps.Jobs.Streams()
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, "streams", "Streams", "streams", map[string]any{"Streams": ss})
}

type bucketView struct {
	Name     string
	Versions []ObjectVersion
	More     int
	Err      string
}

func (p *pages) objects(w http.ResponseWriter, r *http.Request) {
	var out []bucketView
	if o := p.c.deps.Objects; o != nil {
		names, err := o.Buckets()
		if err != nil {
			p.fail(w, r, err)
			return
		}
		for _, b := range names {
			bv := bucketView{Name: b}
			vs, err := o.Versions(b)
			if err != nil {
				bv.Err = err.Error()
			}
			if len(vs) > maxRows {
				bv.More, vs = len(vs)-maxRows, vs[:maxRows]
			}
			bv.Versions = vs
			out = append(out, bv)
		}
	}
	p.render(w, r, "objects", "S3 objects", "objects", map[string]any{"Buckets": out})
}

func (p *pages) signing(w http.ResponseWriter, r *http.Request) {
	var js []SigningJob
	if s := p.c.deps.Signer; s != nil {
		var err error
		if js, err = s.SigningJobs(); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	p.render(w, r, "signing", "Signing jobs", "signing", map[string]any{"Jobs": js})
}

// cancelJob is CancelJob without force, as the API's default.
func (p *pages) cancelJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := p.c.deps.Jobs.CancelJob(id, r.PostFormValue("force") == "true", "", "canceled in the otactl console"); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"jobs/"+url.PathEscape(id), http.StatusSeeOther)
}

// cancelExecution is CancelJobExecution; force cancels an IN_PROGRESS one.
func (p *pages) cancelExecution(w http.ResponseWriter, r *http.Request) {
	id, thing := r.PathValue("id"), r.PathValue("thing")
	if _, err := p.c.deps.Jobs.CancelExecution(thing, id, r.PostFormValue("force") == "true", 0, nil); err != nil {
		p.fail(w, r, err)
		return
	}
	back := Prefix + "jobs/" + url.PathEscape(id)
	if r.PostFormValue("back") == "execution" {
		back += "/things/" + url.PathEscape(thing)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
