package viz

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// GridOptions describes the images of an image grid and how to show them.
type GridOptions struct {
	// Channels, Height and Width give the C×H×W shape of every image;
	// Channels is 1 (grey) or 3 (RGB, channel-major as in the tensors).
	Channels, Height, Width int
	// Lo and Hi are the values shown as black and white (each channel for
	// RGB); values outside are clipped. Both zero means [0, 1]; use -1 and 1
	// for tanh outputs.
	Lo, Hi float32
	// PerImage stretches each image to its own minimum and maximum instead.
	PerImage bool
	// Scale is the pixel magnification (default: the smallest integer that
	// shows each image at least 56 pixels high).
	Scale int
	// Pad is the gap between images in pixels (default 2).
	Pad int
	// RowLabels optionally names the rows ("input", "reconstruction"),
	// written left of them.
	RowLabels []string
}

// Grid layout constants (pixels).
const (
	gridTitleH  = 22
	gridMargin  = 4
	gridLabelPx = 7 // basicfont.Face7x13 advance
)

// ImageGridFigure lays out images in rows: rows[r] holds the row's images
// concatenated, each Channels·Height·Width float32 values, shown left to
// right (rows may have different lengths). A typical use is inputs in one row
// and their reconstructions in the next. The figure is a raster image; its
// SVG form embeds the PNG.
func ImageGridFigure(title string, rows [][]float32, opt GridOptions) (*Figure, error) {
	c, h, w := opt.Channels, opt.Height, opt.Width
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("%w: image grid: %d channels (want 1 or 3)", ErrInput, c)
	}
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("%w: image grid: image size %d×%d", ErrInput, h, w)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: image grid: no rows", ErrInput)
	}
	if opt.RowLabels != nil && len(opt.RowLabels) != len(rows) {
		return nil, fmt.Errorf("%w: image grid: %d row labels for %d rows", ErrInput, len(opt.RowLabels), len(rows))
	}
	lo, hi := opt.Lo, opt.Hi
	if lo == 0 && hi == 0 {
		hi = 1
	}
	if !opt.PerImage && !(hi > lo) {
		return nil, fmt.Errorf("%w: image grid: value range [%v, %v]", ErrInput, lo, hi)
	}
	if opt.Scale == 0 {
		opt.Scale = max(1, (56+h-1)/h)
	}
	if opt.Pad == 0 {
		opt.Pad = 2
	}
	if opt.Scale < 0 || opt.Pad < 0 || opt.Scale > 64 {
		return nil, fmt.Errorf("%w: image grid: scale %d, pad %d", ErrInput, opt.Scale, opt.Pad)
	}
	size := c * h * w
	cols := 0
	for r, row := range rows {
		if len(row) == 0 || len(row)%size != 0 {
			return nil, fmt.Errorf("%w: image grid: row %d has %d values, not a positive multiple of %d×%d×%d = %d", ErrInput, r, len(row), c, h, w, size)
		}
		for i, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: image grid: row %d image %d value %d is %v", ErrInput, r, i/size, i%size, v)
			}
		}
		cols = max(cols, len(row)/size)
	}
	labelW := 0
	for _, l := range opt.RowLabels {
		labelW = max(labelW, len([]rune(l))*gridLabelPx+8)
	}
	cw, ch := w*opt.Scale, h*opt.Scale
	top := gridMargin
	if title != "" {
		top = gridTitleH
	}
	W := gridMargin + labelW + cols*cw + (cols-1)*opt.Pad + gridMargin
	H := top + len(rows)*ch + (len(rows)-1)*opt.Pad + gridMargin
	if title != "" {
		W = max(W, len([]rune(title))*gridLabelPx+2*gridMargin)
	}
	img := image.NewNRGBA(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)

	face := basicfont.Face7x13
	text := func(s string, x, baseline int) {
		d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face, Dot: fixed.P(x, baseline)}
		d.DrawString(s)
	}
	if title != "" {
		tw := font.MeasureString(face, title).Ceil()
		text(title, (W-tw)/2, 15)
	}
	for r, row := range rows {
		y0 := top + r*(ch+opt.Pad)
		if opt.RowLabels != nil {
			text(opt.RowLabels[r], gridMargin, y0+ch/2+4)
		}
		for k := 0; k*size < len(row); k++ {
			im := row[k*size : (k+1)*size]
			ilo, ihi := lo, hi
			if opt.PerImage {
				ilo, ihi = float32(math.Inf(1)), float32(math.Inf(-1))
				for _, v := range im {
					ilo, ihi = min(ilo, v), max(ihi, v)
				}
				if ihi == ilo {
					ihi = ilo + 1
				}
			}
			x0 := gridMargin + labelW + k*(cw+opt.Pad)
			scale := 255 / (ihi - ilo)
			byteOf := func(v float32) uint8 {
				f := (v - ilo) * scale
				switch {
				case f <= 0:
					return 0
				case f >= 255:
					return 255
				}
				return uint8(f + 0.5)
			}
			for py := range h {
				for px := range w {
					var col color.NRGBA
					if c == 1 {
						g := byteOf(im[py*w+px])
						col = color.NRGBA{g, g, g, 255}
					} else {
						col = color.NRGBA{byteOf(im[py*w+px]), byteOf(im[h*w+py*w+px]), byteOf(im[2*h*w+py*w+px]), 255}
					}
					for sy := range opt.Scale {
						for sx := range opt.Scale {
							img.SetNRGBA(x0+px*opt.Scale+sx, y0+py*opt.Scale+sy, col)
						}
					}
				}
			}
		}
	}
	return &Figure{title: title, img: img}, nil
}

// ImageGrid writes ImageGridFigure(title, rows, opt) to path (.png or .svg).
func ImageGrid(path, title string, rows [][]float32, opt GridOptions) error {
	f, err := ImageGridFigure(title, rows, opt)
	return save(path, f, err)
}
