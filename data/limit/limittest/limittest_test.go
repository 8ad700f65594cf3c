package limittest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"image/png"
	"io"
	"testing"
)

// The bombs are valid: the standard library's readers inflate them to the
// announced content, checksums included.
func TestStreamsDecode(t *testing.T) {
	head, unit := []byte("head:"), []byte("0,1\n")
	const count = 300_001 // more than one chunk, with a remainder
	want := append(append([]byte(nil), head...), bytes.Repeat(unit, count)...)
	s := Repeat(head, unit, count)
	if s.Size != int64(len(want)) || len(s.Deflate) > len(want)/100 {
		t.Fatalf("size %d (want %d), %d compressed bytes", s.Size, len(want), len(s.Deflate))
	}
	zr, err := zlib.NewReader(bytes.NewReader(s.Zlib()))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, want) {
		t.Errorf("zlib: %d bytes, %v", len(got), err)
	}
	gr, err := gzip.NewReader(bytes.NewReader(s.Gzip()))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(gr); err != nil || !bytes.Equal(got, want) {
		t.Errorf("gzip: %d bytes, %v", len(got), err)
	}
	z := ZipShared([]string{"a.npy", "b.npy", "c.npy"}, s)
	r, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil || len(r.File) != 3 {
		t.Fatalf("zip: %v", err)
	}
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, want) {
			t.Errorf("zip member %s: %d bytes, %v", f.Name, len(got), err)
		}
	}
	img, err := png.Decode(bytes.NewReader(PNG(300, 200, true)))
	if err != nil || img.Bounds().Dx() != 300 || img.Bounds().Dy() != 200 {
		t.Errorf("png: %v", err)
	}
}
