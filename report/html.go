package report

import (
	"bytes"
	"html/template"
	"regexp"
)

// svgProlog matches what precedes the <svg> element in viz's SVG
// documents (XML declaration, comments), which has no place inside HTML.
var svgProlog = regexp.MustCompile(`^(?s)\s*(<\?xml.*?\?>\s*)?(<!--.*?-->\s*)*`)

// inlineSVG prepares a viz figure for inline use. The SVG is trusted: viz
// escapes every text it draws (titles, legend entries), so data from the
// results cannot inject markup through it.
func inlineSVG(b []byte) template.HTML {
	return template.HTML(svgProlog.ReplaceAll(b, nil))
}

// dataURI marks an image data URI built by picture (a base64 payload
// behind a fixed media type) as safe for a src attribute.
func dataURI(s string) template.URL { return template.URL(s) }

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"svg": inlineSVG, "uri": dataURI, "inc": func(i int) int { return i + 1 },
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
thead th { background: #f3f3f3; } tfoot td { font-weight: bold; background: #fafafa; }
caption { text-align: left; font-weight: bold; padding: 0.2em 0; }
.caveat { background: #fff6db; border-left: 4px solid #e0b000; padding: 0.4em 0.8em; }
.missing { color: #a00; font-style: italic; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figure svg, figure img { max-width: 100%; height: auto; }
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
{{- range .Rows}}
<tr>{{range $j, $c := .}}<td{{if lt $j $t.Left}} class="l"{{end}}>{{$c}}</td>{{end}}</tr>
{{- end}}
</tbody>
{{- if .Foot}}
<tfoot>
{{- range .Foot}}
<tr>{{range $j, $c := .}}<td{{if lt $j $t.Left}} class="l"{{end}}>{{$c}}</td>{{end}}</tr>
{{- end}}
</tfoot>
{{- end}}
</table>
{{- end}}
{{- range .Figures}}
{{- if .Err}}
<p class="missing">Figure not drawn ({{.Title}}): {{.Err}}</p>
{{- else}}
<figure>{{svg .SVG}}</figure>
{{- end}}
{{- end}}
{{- range .Images}}
{{- if .Missing}}
<p class="missing">{{.Missing}}</p>
{{- else}}
<figure><img src="{{uri .DataURI}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>
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

// renderHTML writes the document as one self-contained HTML page.
func renderHTML(d *document) ([]byte, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
