package report

import (
	"bytes"
	"strconv"
	"strings"
)

// mdEscape makes text safe inside a GitHub Markdown table cell or
// paragraph: no line breaks, pipes or raw HTML.
var mdEscape = strings.NewReplacer(
	"\\", "\\\\", "|", "\\|", "<", "&lt;", ">", "&gt;", "&", "&amp;",
	"\r\n", " ", "\n", " ", "\r", " ", "*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]",
)

func md(s string) string { return mdEscape.Replace(s) }

// renderMarkdown writes the document as GitHub Markdown; plots are linked
// from figures/.
func renderMarkdown(d *document) []byte {
	var w bytes.Buffer
	w.WriteString("# " + md(d.Title) + "\n\n")
	w.WriteString("| | |\n|---|---|\n")
	for _, kv := range d.Header {
		w.WriteString("| " + md(kv[0]) + " | " + md(kv[1]) + " |\n")
	}
	w.WriteString("\n" + md(d.Guide) + "\n")
	w.WriteString("\nContents: ")
	for i, s := range d.Sections {
		if i > 0 {
			w.WriteString(" · ")
		}
		w.WriteString("[" + md(s.Title) + "](#" + s.ID + ")")
	}
	w.WriteString("\n")
	for i, s := range d.Sections {
		w.WriteString("\n<a id=\"" + s.ID + "\"></a>\n\n## " + strconv.Itoa(i+1) + ". " + md(s.Title) + "\n\n")
		if s.Intro != "" {
			w.WriteString(md(s.Intro) + "\n\n")
		}
		for _, b := range s.Blocks {
			if b.Title != "" {
				w.WriteString("### " + md(b.Title) + "\n\n")
			}
			if b.Caveat != "" && len(b.Tables) > 0 {
				w.WriteString("> **Shortened suite:** " + md(b.Caveat) + "\n\n")
			}
			for _, p := range b.Paras {
				w.WriteString(md(p) + "\n\n")
			}
			for _, t := range b.Tables {
				mdTable(&w, t)
			}
			for _, f := range b.Figures {
				if f.Err != "" {
					w.WriteString("*Figure not drawn (" + md(f.Title) + "): " + md(f.Err) + "*\n\n")
					continue
				}
				w.WriteString("![" + md(f.Title) + "](" + FiguresDir + "/" + f.Name + ")\n\n")
			}
			for _, p := range b.Images {
				if p.Missing != "" {
					w.WriteString("*" + md(p.Missing) + "*\n\n")
					continue
				}
				w.WriteString("![" + md(p.Caption) + "](<" + strings.NewReplacer("<", "%3C", ">", "%3E").Replace(p.Rel) + ">)\n\n")
			}
			if len(b.Notes) > 0 {
				w.WriteString("Notes:\n\n")
				for _, n := range b.Notes {
					w.WriteString("- " + md(n) + "\n")
				}
				w.WriteString("\n")
			}
		}
	}
	return w.Bytes()
}

// mdTable writes a table; marked best values are bold, and so is the
// label of a foot row.
func mdTable(w *bytes.Buffer, t *table) {
	if t.Caption != "" {
		w.WriteString("**" + md(t.Caption) + "**\n\n")
	}
	row := func(cells []string, bold func(j int) bool) {
		w.WriteString("|")
		for i := range t.Head {
			c := ""
			if i < len(cells) {
				c = md(cells[i])
			}
			if c != "" && bold(i) {
				c = "**" + c + "**"
			}
			w.WriteString(" " + c + " |")
		}
		w.WriteString("\n")
	}
	row(t.Head, func(int) bool { return false })
	w.WriteString("|")
	for i := range t.Head {
		if i < max(t.Left, 1) {
			w.WriteString("---|")
		} else {
			w.WriteString("---:|")
		}
	}
	w.WriteString("\n")
	for i, r := range t.Rows {
		row(r, func(j int) bool { return marked(t.Best, i, j) })
	}
	for i, r := range t.Foot {
		row(r, func(j int) bool { return j == 0 || marked(t.FootBest, i, j) })
	}
	w.WriteString("\n")
}
