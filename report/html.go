package report

import (
	"bytes"
	"html/template"
	"net/url"
	"strings"
)

// relURL turns a relative file path (slash-separated, inside the output
// folder) into a URL path: each segment percent-escaped, so a file name
// with a space, '#' or '?' still names the file.
func relURL(rel string) template.URL {
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return template.URL(strings.Join(parts, "/"))
}

// cellAttr is the class attribute of a table cell: "l" for a left-aligned
// text column, "best" for a marked best value.
func cellAttr(t *table, foot bool, i, j int) template.HTMLAttr {
	var c []string
	if j < t.Left {
		c = append(c, "l")
	}
	m := t.Best
	if foot {
		m = t.FootBest
	}
	if marked(m, i, j) {
		c = append(c, "best")
	}
	if len(c) == 0 {
		return ""
	}
	return template.HTMLAttr(` class="` + strings.Join(c, " ") + `"`)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 }, "rel": relURL, "cell": cellAttr,
	"fig": func(name string) template.URL { return relURL(FiguresDir + "/" + name) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; } h3 { margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
th:first-child, td:first-child, .l { text-align: left; }
table.header td, table.header th { text-align: left; }
thead th { background: #f3f3f3; } tfoot td { background: #fafafa; border-top: 2px solid #999; } tfoot td:first-child { font-weight: bold; }
td.best { font-weight: bold; background: #dff0d8; }
caption { text-align: left; font-weight: bold; padding: 0.2em 0; }
.caveat { background: #fff6db; border-left: 4px solid #e0b000; padding: 0.4em 0.8em; }
.missing { color: #a00; font-style: italic; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figure img { max-width: 100%; height: auto; }
figure.plot { max-width: calc(50% - 1.5em); }
figcaption { font-size: 0.85em; color: #555; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<table class="header"><tbody>
{{- range .Header}}
<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{- end}}
</tbody></table>
<p>{{.Guide}}</p>
<nav><p>Contents:
{{- range $i, $s := .Sections}} <a href="#{{$s.ID}}">{{inc $i}}. {{$s.Title}}</a>{{end}}</p></nav>
{{- range $i, $s := .Sections}}
<section id="{{$s.ID}}">
<h2>{{inc $i}}. {{$s.Title}}</h2>
{{- if $s.Intro}}
<p>{{$s.Intro}}</p>
{{- end}}
{{- range $s.Blocks}}
<div class="block">
{{- if .Title}}
<h3>{{.Title}}</h3>
{{- end}}
{{- if and .Caveat .Tables}}
<p class="caveat"><strong>Shortened suite:</strong> {{.Caveat}}</p>
{{- end}}
{{- range .Paras}}
<p>{{.}}</p>
{{- end}}
{{- range .Tables}}
<table>
{{- if .Caption}}<caption>{{.Caption}}</caption>{{end}}
{{- $t := .}}
<thead><tr>{{range $j, $c := .Head}}<th{{if lt $j $t.Left}} class="l"{{end}}>{{$c}}</th>{{end}}</tr></thead>
<tbody>
{{- range $i, $r := .Rows}}
<tr>{{range $j, $c := $r}}<td{{cell $t false $i $j}}>{{$c}}</td>{{end}}</tr>
{{- end}}
</tbody>
{{- if .Foot}}
<tfoot>
{{- range $i, $r := .Foot}}
<tr>{{range $j, $c := $r}}<td{{cell $t true $i $j}}>{{$c}}</td>{{end}}</tr>
{{- end}}
</tfoot>
{{- end}}
</table>
{{- end}}
{{- range .Figures}}
{{- if .Err}}
<p class="missing">Figure not drawn ({{.Title}}): {{.Err}}</p>
{{- else}}
<figure class="plot"><img src="{{fig .Name}}" alt="{{.Title}}" width="{{.W}}" height="{{.H}}" loading="lazy" decoding="async"></figure>
{{- end}}
{{- end}}
{{- range .Images}}
{{- if .Missing}}
<p class="missing">{{.Missing}}</p>
{{- else}}
<figure><img src="{{rel .Rel}}" alt="{{.Caption}}"{{if .W}} width="{{.W}}" height="{{.H}}"{{end}} loading="lazy" decoding="async"><figcaption>{{.Caption}}</figcaption></figure>
{{- end}}
{{- end}}
{{- if .Notes}}
<p>Notes:</p>
<ul>
{{- range .Notes}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
</div>
{{- end}}
</section>
{{- end}}
</body>
</html>
`))

// renderHTML writes the document as one HTML page that refers to the
// plots and images in its folder.
func renderHTML(d *document) ([]byte, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
