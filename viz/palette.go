package viz

import (
	"image/color"

	"gonum.org/v1/plot/vg/draw"
)

var whiteColor = color.White

// palette holds 20 colours that stay distinguishable on white: matplotlib's
// tab10 followed by ten more from Trubetskoy's list of distinct colours.
var palette = [...]color.NRGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0xd6, 0x27, 0x28, 0xff}, // red
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
	{0xe3, 0x77, 0xc2, 0xff}, // pink
	{0x7f, 0x7f, 0x7f, 0xff}, // grey
	{0xbc, 0xbd, 0x22, 0xff}, // olive
	{0x17, 0xbe, 0xcf, 0xff}, // cyan
	{0x00, 0x00, 0x75, 0xff}, // navy
	{0x80, 0x00, 0x00, 0xff}, // maroon
	{0x46, 0x99, 0x90, 0xff}, // teal
	{0xf0, 0x32, 0xe6, 0xff}, // magenta
	{0x3c, 0xb4, 0x4b, 0xff}, // bright green
	{0xff, 0xe1, 0x19, 0xff}, // yellow
	{0x43, 0x63, 0xd8, 0xff}, // bright blue
	{0x9a, 0x63, 0x24, 0xff}, // tan brown
	{0xdc, 0xbe, 0xff, 0xff}, // lavender
	{0x00, 0x00, 0x00, 0xff}, // black
}

// PaletteSize is the number of distinct colours before they repeat.
const PaletteSize = len(palette)

// negativeColor marks negative labels (e.g. -1 for noise or "unassigned").
var negativeColor = color.NRGBA{0xbb, 0xbb, 0xbb, 0xff}

// Color returns the i-th palette colour (i modulo PaletteSize); curves, bars
// and histograms take their colours in this order.
func Color(i int) color.NRGBA {
	i %= PaletteSize
	if i < 0 {
		i += PaletteSize
	}
	return palette[i]
}

// LabelColor returns the colour Scatter uses for a label: Color(label) for a
// non-negative label, light grey for a negative one. The colour depends only
// on the label, so the same class has the same colour in every plot.
func LabelColor(label int) color.NRGBA {
	if label < 0 {
		return negativeColor
	}
	return Color(label)
}

// labelShape varies the marker when colours repeat: labels 0-19 are discs,
// 20-39 triangles, and so on.
func labelShape(label int) draw.GlyphDrawer {
	if label < 0 {
		return draw.CircleGlyph{}
	}
	switch (label / PaletteSize) % 4 {
	case 0:
		return draw.CircleGlyph{}
	case 1:
		return draw.TriangleGlyph{}
	case 2:
		return draw.BoxGlyph{}
	default:
		return draw.PyramidGlyph{}
	}
}

// withAlpha returns c with opacity a in [0, 1].
func withAlpha(c color.NRGBA, a float64) color.NRGBA {
	c.A = uint8(a*255 + 0.5)
	return c
}
