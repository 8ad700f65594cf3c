package imagefolder

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// jpegConfig agrees with image.DecodeConfig on grey and colour JPEGs,
// after application segments, and declines what it does not know.
func TestJPEGConfig(t *testing.T) {
	enc := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, nil); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	grey := enc(image.NewGray(image.Rect(0, 0, 37, 21)))
	rgb := enc(image.NewRGBA(image.Rect(0, 0, 8, 300)))
	// An APP1 segment of 1000 bytes after SOI, as cameras write.
	app := append([]byte{0xff, 0xd8, 0xff, 0xe1, 0x03, 0xea}, make([]byte, 1000)...)
	withApp := append(app, rgb[2:]...)
	for name, b := range map[string][]byte{"grey": grey, "rgb": rgb, "app1": withApp} {
		want, _, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := jpegConfig(b)
		if !ok || got.Width != want.Width || got.Height != want.Height || got.ColorModel != want.ColorModel {
			t.Errorf("%s: %v %dx%d %v, want %dx%d %v", name, ok, got.Width, got.Height, got.ColorModel, want.Width, want.Height, want.ColorModel)
		}
	}
	if c, _ := jpegConfig(grey); c.ColorModel != color.GrayModel {
		t.Error("grey model")
	}
	for name, b := range map[string][]byte{"png": []byte("\x89PNG\r\n\x1a\n"), "cut": rgb[:20], "empty": nil, "bad length": {0xff, 0xd8, 0xff, 0xe0, 0, 1}} {
		if _, ok := jpegConfig(b); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}
