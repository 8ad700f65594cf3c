package viz

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// ErrInput is wrapped by every error about the data handed to a figure.
var ErrInput = errors.New("viz: bad input")

// ErrFormat is returned by Figure.Save for a file extension other than .png
// and .svg.
var ErrFormat = errors.New("viz: unsupported file format (want .png or .svg)")

// Default size and resolution of vector figures.
const (
	DefaultWidth  = 6 * vg.Inch
	DefaultHeight = 4.5 * vg.Inch
	DefaultDPI    = 150
)

// Figure is a finished figure ready to be written. Width, Height and DPI may
// be changed before writing; they do not apply to image grids, whose size is
// fixed by their pixels.
type Figure struct {
	// Width and Height are the size of a plotted figure.
	Width, Height vg.Length
	// DPI is the resolution of PNG output of a plotted figure.
	DPI int

	title string
	draw  func(c draw.Canvas) // plotted figures
	img   image.Image         // raster figures (image grids)
}

func newFigure(title string, fn func(c draw.Canvas)) *Figure {
	return &Figure{Width: DefaultWidth, Height: DefaultHeight, DPI: DefaultDPI, title: title, draw: fn}
}

// Image returns the figure rasterised at its size and DPI (for image grids,
// the grid itself).
func (f *Figure) Image() (image.Image, error) {
	if f.img != nil {
		return f.img, nil
	}
	if err := f.checkSize(); err != nil {
		return nil, err
	}
	c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(f.DPI), vgimg.UseBackgroundColor(whiteColor))
	f.draw(draw.New(c))
	return c.Image(), nil
}

func (f *Figure) checkSize() error {
	if !(f.Width > 0) || !(f.Height > 0) || f.DPI <= 0 {
		return fmt.Errorf("%w: figure size %v×%v at %d dpi", ErrInput, f.Width, f.Height, f.DPI)
	}
	return nil
}

// WritePNG writes the figure as a PNG image.
func (f *Figure) WritePNG(w io.Writer) error {
	img, err := f.Image()
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}

// WriteSVG writes the figure as an SVG document.
func (f *Figure) WriteSVG(w io.Writer) error {
	if f.img != nil {
		var buf bytes.Buffer
		if err := png.Encode(&buf, f.img); err != nil {
			return err
		}
		b := f.img.Bounds()
		_, err := fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="%d" height="%d" viewBox="0 0 %d %d">
<title>%s</title>
<image width="%d" height="%d" style="image-rendering:pixelated" xlink:href="data:image/png;base64,%s"/>
</svg>
`, b.Dx(), b.Dy(), b.Dx(), b.Dy(), html.EscapeString(f.title), b.Dx(), b.Dy(), base64.StdEncoding.EncodeToString(buf.Bytes()))
		return err
	}
	if err := f.checkSize(); err != nil {
		return err
	}
	c := vgsvg.NewWith(vgsvg.UseWH(f.Width, f.Height))
	f.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	// Fonts are not embedded; name fallbacks so viewers without the
	// Liberation fonts use Arial (metric-compatible) or another sans face.
	out := bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	_, err := w.Write(out)
	return err
}

// PNG returns the figure as PNG bytes.
func (f *Figure) PNG() ([]byte, error) {
	var buf bytes.Buffer
	err := f.WritePNG(&buf)
	return buf.Bytes(), err
}

// SVG returns the figure as an SVG document, e.g. for inline use in HTML.
func (f *Figure) SVG() ([]byte, error) {
	var buf bytes.Buffer
	err := f.WriteSVG(&buf)
	return buf.Bytes(), err
}

// Save writes the figure to path as PNG or SVG according to its extension
// (case-insensitive).
func (f *Figure) Save(path string) error {
	var write func(io.Writer) error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		write = f.WritePNG
	case ".svg":
		write = f.WriteSVG
	default:
		return fmt.Errorf("viz: %s: %w", path, ErrFormat)
	}
	// Render first so a failure leaves no partial file behind.
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("viz: %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	return nil
}

// save builds a figure and writes it, the body of every one-call function.
func save(path string, f *Figure, err error) error {
	if err != nil {
		return fmt.Errorf("viz: %s: %w", path, err)
	}
	return f.Save(path)
}

// newPlot returns a plot with a sans-serif face for all its text.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	sans := func(s *font.Font) { s.Typeface, s.Variant = "Liberation", "Sans" }
	sans(&p.Title.TextStyle.Font)
	sans(&p.X.Label.TextStyle.Font)
	sans(&p.Y.Label.TextStyle.Font)
	sans(&p.X.Tick.Label.Font)
	sans(&p.Y.Tick.Label.Font)
	sans(&p.Legend.TextStyle.Font)
	p.Title.TextStyle.Font.Size = 13
	p.Title.Text = wrapTitle(title, func(s string) vg.Length { return p.Title.TextStyle.Width(s) }, titleWidth)
	p.Legend.TextStyle.Font.Size = 10
	p.Title.Padding = 6
	return p
}

// titleWidth is the widest a title line may be: what a default-width figure
// leaves beside a legend column.
const titleWidth = DefaultWidth * 0.78

// wrapTitle breaks title between words into lines no wider than max (a
// word wider than that gets a line of its own), so that a long title is
// not cut off at the figure's edges.
func wrapTitle(title string, width func(string) vg.Length, max vg.Length) string {
	words := strings.Fields(title)
	if len(words) == 0 || width(title) <= max {
		return title
	}
	var lines []string
	line := words[0]
	for _, w := range words[1:] {
		if width(line+" "+w) > max {
			lines = append(lines, line)
			line = w
			continue
		}
		line += " " + w
	}
	return strings.Join(append(lines, line), "\n")
}

// plotFigure wraps a plot into a Figure. A legend, if the plot has one, is
// moved out of the data area into a column at the right, so it never hides
// curves, bars or points.
func plotFigure(title string, p *plot.Plot) *Figure {
	leg := p.Legend
	p.Legend = plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.Padding = vg.Points(2)
	top := vg.Points(8)
	if title != "" {
		top += p.Title.TextStyle.Height(p.Title.Text) + p.Title.Padding
	}
	return newFigure(title, func(c draw.Canvas) {
		r := leg.Rectangle(c)
		lw := r.Max.X - r.Min.X
		if lw == 0 {
			p.Draw(c)
			return
		}
		// Paint the background once for both parts.
		c.SetColor(whiteColor)
		c.Fill(c.Rectangle.Path())
		w := c.Max.X - c.Min.X
		lw = min(lw*1.1+vg.Points(14), w/2)
		p.Draw(draw.Crop(c, 0, -lw, 0, 0))
		leg.Draw(draw.Crop(c, w-lw+vg.Points(8), 0, 0, -top))
	})
}

// logTicks marks a log axis at 1, 2 and 5 times each power of ten (only the
// powers when the axis spans more than three decades), with minor ticks at
// the other integers.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi >= lo) {
		return nil
	}
	e0 := int(math.Floor(math.Log10(lo)))
	e1 := int(math.Ceil(math.Log10(hi)))
	wide := e1-e0 > 3
	var ticks []plot.Tick
	for e := e0; e <= e1; e++ {
		base := math.Pow10(e)
		for m := 1; m < 10; m++ {
			v := base * float64(m)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (!wide && (m == 2 || m == 5)) {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// checkFinite reports the first NaN or infinite value of xs.
func checkFinite(what string, xs []float64) error {
	for i, v := range xs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %s[%d] is %v", ErrInput, what, i, v)
		}
	}
	return nil
}

// checkXY checks that x and y are non-empty, of equal length and finite.
func checkXY(what string, x, y []float64) error {
	if len(x) != len(y) {
		return fmt.Errorf("%w: %s: %d x values but %d y values", ErrInput, what, len(x), len(y))
	}
	if len(x) == 0 {
		return fmt.Errorf("%w: %s: no points", ErrInput, what)
	}
	if err := checkFinite(what+" x", x); err != nil {
		return err
	}
	return checkFinite(what+" y", y)
}
