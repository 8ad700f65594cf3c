package imagefolder

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/oddity-ml/oddity/data"
)

func TestDecode(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	img.Set(2, 1, color.RGBA{0, 0, 255, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	d, err := Decode("x.png", buf.Bytes(), data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 1 || d.Shape[0] != 3 || d.Shape[1] != 2 || d.Shape[2] != 3 {
		t.Fatalf("shape %v", d.Shape)
	}
	// channel-major: R plane first, pixel (0,0) red; B plane last, pixel (2,1) blue.
	if d.X[0] != 1 || d.X[6] != 0 || d.X[2*6+5] != 1 {
		t.Errorf("pixels %v", d.X)
	}
	g, err := Decode("x.png", buf.Bytes(), data.Options{Grey: true, Width: 4, Height: 4})
	if err != nil || g.Shape[0] != 1 || g.Shape[1] != 4 || g.Shape[2] != 4 {
		t.Fatalf("grey resized: %v %v", g, err)
	}
	if _, err := Decode("bad.png", []byte("not an image"), data.Options{}); !errors.Is(err, data.ErrMalformed) {
		t.Errorf("garbage: %v", err)
	}
}
