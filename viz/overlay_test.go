package viz

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"path/filepath"
	"testing"
)

func TestHeatColor(t *testing.T) {
	// the trapezoids by hand: dark blue, blue, cyan-green, yellow, red, dark red
	for _, c := range []struct {
		v    float64
		want color.NRGBA
	}{
		{0, color.NRGBA{0, 0, 128, 255}},     // b = 0.5
		{0.125, color.NRGBA{0, 0, 255, 255}}, // b = 1
		{0.25, color.NRGBA{0, 128, 255, 255}},
		{0.375, color.NRGBA{0, 255, 255, 255}},
		{0.5, color.NRGBA{128, 255, 128, 255}},
		{0.625, color.NRGBA{255, 255, 0, 255}},
		{1, color.NRGBA{128, 0, 0, 255}},
		{-3, color.NRGBA{0, 0, 128, 255}}, // clipped
		{7, color.NRGBA{128, 0, 0, 255}},
	} {
		if got := HeatColor(c.v); got != c.want {
			t.Errorf("HeatColor(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestOverlayImage(t *testing.T) {
	// a 1×2 grey image of 0.2 and 1.0 with a map of 3 and 5: stretched to
	// the map's own range the first pixel is at the scale's low end, the
	// second at its top
	img := []float32{0.2, 1}
	amap := []float32{3, 5}
	im, err := OverlayImage(img, amap, OverlayOptions{Channels: 1, Height: 1, Width: 2, Alpha: 0.25, Scale: 3})
	if err != nil {
		t.Fatal(err)
	}
	if b := im.Bounds(); b.Dx() != 6 || b.Dy() != 3 {
		t.Fatalf("bounds %v, want 6×3", b)
	}
	// pixel 0: 0.75·51 + 0.25·(0, 0, 128); pixel 1: 0.75·255 + 0.25·(128, 0, 0)
	want0 := color.NRGBA{uint8(math.Round(0.75 * 51)), uint8(math.Round(0.75 * 51)), uint8(math.Round(0.75*51 + 0.25*128)), 255}
	want1 := color.NRGBA{uint8(math.Round(0.75*255 + 0.25*128)), uint8(math.Round(0.75 * 255)), uint8(math.Round(0.75 * 255)), 255}
	for y := 0; y < 3; y++ {
		for x := 0; x < 6; x++ {
			want := want0
			if x >= 3 {
				want = want1
			}
			if got := im.NRGBAAt(x, y); got != want {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}

	// a fixed map range: 4 in [0, 8] is the middle of the scale; RGB
	// channel-major; the default alpha is one half
	rgb := []float32{1, 0, 0} // one red pixel
	im, err = OverlayImage(rgb, []float32{4}, OverlayOptions{Channels: 3, Height: 1, Width: 1, MapLo: 0, MapHi: 8, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	mid := HeatColor(0.5)
	want := color.NRGBA{uint8(math.Round(0.5*255 + 0.5*float64(mid.R))), uint8(math.Round(0.5 * float64(mid.G))), uint8(math.Round(0.5 * float64(mid.B))), 255}
	if got := im.NRGBAAt(0, 0); got != want {
		t.Fatalf("RGB pixel %v, want %v", got, want)
	}

	// the default scale shows a 28-pixel image 112 pixels high
	im, err = OverlayImage(make([]float32, 28*28), make([]float32, 28*28), OverlayOptions{Channels: 1, Height: 28, Width: 28})
	if err != nil || im.Bounds().Dy() != 112 {
		t.Fatalf("default scale: %v, %v", err, im.Bounds())
	}
}

func TestOverlayErrors(t *testing.T) {
	ok := OverlayOptions{Channels: 1, Height: 2, Width: 2}
	img, amap := make([]float32, 4), make([]float32, 4)
	bad := func(name string, img, amap []float32, o OverlayOptions) {
		t.Helper()
		if _, err := OverlayImage(img, amap, o); !errors.Is(err, ErrInput) {
			t.Errorf("%s: %v, want ErrInput", name, err)
		}
	}
	o := ok
	o.Channels = 2
	bad("two channels", img, amap, o)
	bad("short map", img, amap[:3], ok)
	bad("short image", img[:3], amap, ok)
	bad("NaN map", img, []float32{0, float32(math.NaN()), 0, 0}, ok)
	o = ok
	o.Alpha = 1.5
	bad("alpha", img, amap, o)
	o = ok
	o.MapLo, o.MapHi = 2, 1
	bad("map range", img, amap, o)
	o = ok
	o.Scale = -1
	bad("scale", img, amap, o)
}

func TestOverlayPNG(t *testing.T) {
	const h, w = 6, 5
	img, amap := make([]float32, h*w), make([]float32, h*w)
	for i := range img {
		img[i] = float32(i) / (h * w)
		amap[i] = float32(i % 3)
	}
	o := OverlayOptions{Channels: 1, Height: h, Width: w, Scale: 2}
	want, err := OverlayImage(img, amap, o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteOverlay(&buf, img, amap, o); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(outDir(t), "overlay.png")
	if err := Overlay(path, img, amap, o); err != nil {
		t.Fatal(err)
	}
	fromBuf, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range []image.Image{fromBuf, decodePNG(t, path)} {
		if b := im.Bounds(); b.Dx() != 2*w || b.Dy() != 2*h {
			t.Fatalf("decoded size %v", b)
		}
		for y := 0; y < 2*h; y++ {
			for x := 0; x < 2*w; x++ {
				if got := color.NRGBAModel.Convert(im.At(x, y)); got != want.NRGBAAt(x, y) {
					t.Fatalf("decoded pixel (%d,%d) %v, want %v", x, y, got, want.NRGBAAt(x, y))
				}
			}
		}
	}
}
