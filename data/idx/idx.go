// Package idx reads the IDX format of the MNIST files (plain or
// gzip-compressed, told apart by their magic bytes) and registers it with
// package data.
//
// IDX is a big-endian header (two zero bytes, a type byte, a rank byte, one
// uint32 per dimension) followed by the elements in C order. The format is a
// dozen lines to read, so it is written here rather than taken from a
// library; the reader checks every announced size against the bytes really
// present before converting anything.
package idx

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/internal/ndarray"
	"github.com/oddity-ml/oddity/data/limit"
)

func init() {
	data.RegisterFormat(data.Format{
		Name:       "idx",
		Extensions: []string{"-ubyte", "-ubyte.gz", ".idx", ".idx.gz"},
		Magic: []string{
			"\x00\x00\x08", "\x00\x00\x09", "\x00\x00\x0b",
			"\x00\x00\x0c", "\x00\x00\x0d", "\x00\x00\x0e",
		},
		Load:    Load,
		Inspect: inspect,
	})
}

// MaxRank caps the number of dimensions a header may announce.
const MaxRank = 16

var kinds = map[byte]ndarray.Kind{
	0x08: ndarray.Uint8,
	0x09: ndarray.Int8,
	0x0B: ndarray.Int16,
	0x0C: ndarray.Int32,
	0x0D: ndarray.Float32,
	0x0E: ndarray.Float64,
}

// Read decodes one IDX array from r, decompressing it first when it starts
// with the gzip magic. The array must end the input: bytes after the data
// its header announces (more images than the header counts) are an error,
// not dropped. The sizes are bounded by the limits in force (limit.Get()):
// the header's claim by MaxDecoded before the data is read, and a
// compressed stream by MaxDecompressed as it is read.
func Read(r io.Reader) (*ndarray.Array, error) {
	return readSized(r, -1)
}

// readSized is Read for an input of size bytes (-1 when unknown): an
// uncompressed input must hold the bytes its header claims.
func readSized(r io.Reader, size int64) (*ndarray.Array, error) {
	lim := limit.Get()
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err == nil && data.IsGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w: %w", data.ErrMalformed, err)
		}
		defer zr.Close()
		return read(limit.NewReader(zr, lim.Decompressed()), -1, lim.Decoded())
	}
	return read(br, size, lim.Decoded())
}

func read(r io.Reader, size int64, decoded *limit.Budget) (*ndarray.Array, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("header: %w", truncated(err))
	}
	if h[0] != 0 || h[1] != 0 {
		return nil, fmt.Errorf("bad magic % x (want 00 00 type rank): %w", h[:], data.ErrMalformed)
	}
	kind, ok := kinds[h[2]]
	if !ok {
		return nil, fmt.Errorf("unknown element type 0x%02x: %w", h[2], data.ErrMalformed)
	}
	rank := int(h[3])
	if rank == 0 || rank > MaxRank {
		return nil, fmt.Errorf("rank %d (want 1..%d): %w", rank, MaxRank, data.ErrMalformed)
	}
	dims := make([]byte, 4*rank)
	if _, err := io.ReadFull(r, dims); err != nil {
		return nil, fmt.Errorf("dimensions: %w", truncated(err))
	}
	a := &ndarray.Array{Kind: kind, BigEndian: true, Shape: make([]int, rank)}
	for i := range a.Shape {
		d := binary.BigEndian.Uint32(dims[4*i:])
		if d > 1<<31-1 {
			return nil, fmt.Errorf("dimension %d = %d is too large: %w", i, d, data.ErrMalformed)
		}
		a.Shape[i] = int(d)
	}
	n, err := ndarray.Count(a.Shape)
	if err != nil {
		return nil, err
	}
	want := n * int64(kind.Size())
	head := int64(4 + 4*rank)
	if size >= 0 && want > size-head {
		return nil, fmt.Errorf("header announces %d %s elements of shape %v (%d bytes) but the file holds %d after the header: %w",
			n, kind, a.Shape, want, size-head, data.ErrTruncated)
	}
	if err := decoded.Take(want); err != nil {
		return nil, fmt.Errorf("%d %s elements of shape %v: %w", n, kind, a.Shape, err)
	}
	a.Raw, err = ndarray.ReadN(r, want)
	if err != nil {
		return nil, fmt.Errorf("%d %s elements of shape %v: %w", n, kind, a.Shape, err)
	}
	var extra int64
	if size >= 0 {
		extra = size - head - want
	} else if extra, err = io.Copy(io.Discard, r); err != nil {
		// A compressed stream is read to its end (within MaxDecompressed),
		// which also checks its checksum.
		return nil, fmt.Errorf("after the data: %w", gzipErr(err))
	}
	if extra > 0 {
		return nil, extraData(a, extra)
	}
	return a, nil
}

// gzipErr marks a decompression failure as malformed input, leaving limit
// errors as they are.
func gzipErr(err error) error {
	if errors.Is(err, limit.ErrExceeded) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", data.ErrTruncated, err)
	}
	return fmt.Errorf("%w: %w", data.ErrMalformed, err)
}

// extraData is the error for bytes after the array, counting the samples
// they would make when they divide evenly.
func extraData(a *ndarray.Array, extra int64) error {
	sample := int64(a.Kind.Size())
	for _, d := range a.Shape[1:] {
		sample *= int64(d)
	}
	if sample > 0 && extra%sample == 0 {
		return fmt.Errorf("the header counts %d samples of shape %v but the data holds %d more (%d extra bytes): %w",
			a.Shape[0], a.Shape[1:], extra/sample, extra, data.ErrMalformed)
	}
	return fmt.Errorf("%d bytes follow the data of shape %v the header announces: %w", extra, a.Shape, data.ErrMalformed)
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return data.ErrTruncated
	}
	return err
}

// ReadFile decodes the IDX file at path.
func ReadFile(path string) (*ndarray.Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	a, err := readSized(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("idx %s: %w", path, err)
	}
	a.Name = filepath.Base(path)
	return a, nil
}

// ToDataset turns a decoded array into a data set: the first dimension
// indexes samples; a rank-3 array is taken as grey images [1,H,W]; uint8
// values are scaled to [0,1]. A rank-1 integer array becomes one feature per
// sample that is also the label.
func ToDataset(a *ndarray.Array, name string) (*data.Dataset, error) {
	ds := &data.Dataset{Name: name, N: a.Shape[0]}
	switch len(a.Shape) {
	case 1:
		ds.Shape = []int{1}
	case 3:
		ds.Shape = []int{1, a.Shape[1], a.Shape[2]}
	default:
		ds.Shape = append([]int(nil), a.Shape[1:]...)
	}
	for _, s := range ds.Shape {
		if s == 0 {
			return nil, fmt.Errorf("idx %s: empty sample shape %v: %w", name, a.Shape, data.ErrNoData)
		}
	}
	if a.Kind == ndarray.Uint8 && len(a.Shape) > 1 {
		ds.X = make([]float32, len(a.Raw))
		for i, v := range a.Raw {
			ds.X[i] = float32(v) / 255
		}
		return ds, nil
	}
	ds.X = a.Float32()
	if len(a.Shape) == 1 {
		if a.Kind.Integer() {
			y, err := a.Labels()
			if err != nil {
				return nil, fmt.Errorf("idx %s: %w", name, err)
			}
			ds.Y = y
		}
	}
	return ds, nil
}

// labelsPath guesses the labels file beside an images file
// ("x-images-idx3-ubyte.gz" -> "x-labels-idx1-ubyte.gz").
func labelsPath(path string) string {
	dir, base := filepath.Split(path)
	if !strings.Contains(base, "images") || !strings.Contains(base, "idx3") {
		return ""
	}
	b := strings.Replace(strings.Replace(base, "images", "labels", 1), "idx3", "idx1", 1)
	return filepath.Join(dir, b)
}

// Load reads an IDX file as a data set (see ToDataset). For an images file
// named like MNIST's it attaches the labels file beside it, when present and
// o.NoLabels is not set.
func Load(path string, o data.Options) (*data.Dataset, error) {
	a, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return fromArray(path, a, o)
}

func fromArray(path string, a *ndarray.Array, o data.Options) (*data.Dataset, error) {
	ds, err := ToDataset(a, filepath.Base(path))
	if err != nil {
		return nil, err
	}
	if lp := labelsPath(path); lp != "" && !o.NoLabels && len(a.Shape) > 1 {
		if _, err := os.Stat(lp); err == nil {
			if err := attachLabels(ds, lp); err != nil {
				return nil, err
			}
		}
	}
	return ds, nil
}

func attachLabels(ds *data.Dataset, path string) error {
	la, err := ReadFile(path)
	if err != nil {
		return err
	}
	if len(la.Shape) != 1 || !la.Kind.Integer() {
		return fmt.Errorf("idx %s: labels must be a 1-D integer array, not %s %v: %w", path, la.Kind, la.Shape, data.ErrMalformed)
	}
	if la.Shape[0] != ds.N {
		return fmt.Errorf("idx %s: %d labels for %d images in %s: %w", path, la.Shape[0], ds.N, ds.Name, data.ErrMalformed)
	}
	y, err := la.Labels()
	if err != nil {
		return fmt.Errorf("idx %s: %w", path, err)
	}
	ds.Y = y
	return nil
}

func inspect(path string, o data.Options) (*data.Info, error) {
	a, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	info := &data.Info{Arrays: []data.Summary{a.Summary(a.Kind.String())}}
	ds, err := fromArray(path, a, o)
	if err != nil {
		return nil, err
	}
	s := data.Summarize(ds, a.Kind.String())
	info.Dataset = &s
	if lp := labelsPath(path); lp != "" && ds.Y != nil {
		info.Notes = append(info.Notes, "labels from "+filepath.Base(lp))
	}
	if a.Kind == ndarray.Uint8 && len(a.Shape) > 1 {
		info.Notes = append(info.Notes, "uint8 values scaled to [0,1]")
	}
	return info, nil
}

// mnistFile finds a split's file in dir, gzip-compressed or plain, with
// either of the usual separators ("train-images-idx3-ubyte" or
// "train-images.idx3-ubyte").
func mnistFile(dir, prefix, kind string) (string, error) {
	for _, sep := range []string{"-", "."} {
		for _, ext := range []string{".gz", ""} {
			p := filepath.Join(dir, prefix+sep+kind+"-ubyte"+ext)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("idx: no %s-%s-ubyte[.gz] in %s: %w", prefix, kind, dir, os.ErrNotExist)
}

// LoadMNIST reads the four MNIST files in dir (plain or .gz) into training
// (60,000) and test (10,000) data sets of [1,28,28] images in [0,1], labelled
// 0..9.
func LoadMNIST(dir string) (train, test *data.Dataset, err error) {
	load := func(prefix string) (*data.Dataset, error) {
		ip, err := mnistFile(dir, prefix, "images-idx3")
		if err != nil {
			return nil, err
		}
		lp, err := mnistFile(dir, prefix, "labels-idx1")
		if err != nil {
			return nil, err
		}
		a, err := ReadFile(ip)
		if err != nil {
			return nil, err
		}
		if len(a.Shape) != 3 || a.Kind != ndarray.Uint8 {
			return nil, fmt.Errorf("idx %s: want uint8 images [N,H,W], got %s %v: %w", ip, a.Kind, a.Shape, data.ErrMalformed)
		}
		ds, err := ToDataset(a, "mnist-"+prefix)
		if err != nil {
			return nil, err
		}
		if err := attachLabels(ds, lp); err != nil {
			return nil, err
		}
		ds.ClassNames = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
		for i, y := range ds.Y {
			if y < 0 || y > 9 {
				return nil, fmt.Errorf("idx %s: label %d of sample %d is not a digit: %w", lp, y, i, data.ErrMalformed)
			}
		}
		return ds, ds.Validate()
	}
	// The two splits decode in parallel (gzip is the main cost).
	var testErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		test, testErr = load("t10k")
	}()
	train, err = load("train")
	<-done
	if err != nil {
		return nil, nil, err
	}
	if testErr != nil {
		return nil, nil, testErr
	}
	return train, test, nil
}
