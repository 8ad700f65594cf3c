// Package npy reads NumPy .npy arrays and .npz archives (zip files of .npy
// members, stored or deflated) and registers both formats with package data.
//
// NPY versions 1.0, 2.0 and 3.0 are read, with little- or big-endian bool,
// int8..int64, uint8..uint64, float32 and float64 elements in C or Fortran
// order. Structured, string, object and float16 dtypes are rejected with
// data.ErrUnsupported.
//
// Why by hand: the reader is small (a fixed preamble and a Python dict
// literal), and the project needs guarantees the available libraries do not
// state: every size in a header is checked against the bytes really present
// before anything large is allocated, and malformed input is an error, never
// a panic (see FuzzReadNPY and FuzzReadNPZ).
package npy

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/internal/ndarray"
	"github.com/oddity-ml/oddity/data/limit"
)

func init() {
	data.RegisterFormat(data.Format{
		Name:       "npy",
		Extensions: []string{".npy"},
		Magic:      []string{Magic},
		Load:       loadNPY,
		Inspect:    inspectNPY,
	})
	data.RegisterFormat(data.Format{
		Name:       "npz",
		Extensions: []string{".npz"},
		Magic:      []string{"PK\x03\x04", "PK\x05\x06"},
		Load:       LoadNPZ,
		Inspect:    inspectNPZ,
	})
}

// Magic is the NPY file's first six bytes.
const Magic = "\x93NUMPY"

// MaxHeader caps the header length a version 2.0/3.0 file may announce.
const MaxHeader = 1 << 20

// Header is an NPY array's description.
type Header struct {
	// Major and Minor are the format version.
	Major, Minor byte
	// Descr is the NumPy dtype string ("<f8", "|u1", ...).
	Descr string
	// Fortran says the data is in column-major order.
	Fortran bool
	// Shape is the array shape; empty for a scalar.
	Shape []int

	// size is the bytes of the preamble and header, where the data starts.
	size int64
}

// ReadHeader reads the preamble and header dict of an NPY stream.
func ReadHeader(r io.Reader) (*Header, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, fmt.Errorf("preamble: %w", truncated(err))
	}
	if string(pre[:6]) != Magic {
		return nil, fmt.Errorf("bad magic %q: %w", pre[:6], data.ErrMalformed)
	}
	h := &Header{Major: pre[6], Minor: pre[7]}
	var hlen int
	switch h.Major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, fmt.Errorf("header length: %w", truncated(err))
		}
		hlen = int(binary.LittleEndian.Uint16(pre[8:10]))
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return nil, fmt.Errorf("header length: %w", truncated(err))
		}
		n := binary.LittleEndian.Uint32(l[:])
		if n > MaxHeader {
			return nil, fmt.Errorf("header length %d exceeds %d: %w", n, MaxHeader, data.ErrMalformed)
		}
		hlen = int(n)
	default:
		return nil, fmt.Errorf("NPY version %d.%d: %w", h.Major, h.Minor, data.ErrUnsupported)
	}
	text, err := ndarray.ReadN(r, int64(hlen))
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	h.size = int64(hlen) + 10
	if h.Major > 1 {
		h.size += 2
	}
	if err := h.parseDict(string(text)); err != nil {
		return nil, fmt.Errorf("header %q: %w", clip(string(text)), err)
	}
	return h, nil
}

func clip(s string) string {
	s = strings.TrimRight(s, " \n\x00")
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return data.ErrTruncated
	}
	return err
}

// Kind returns the element type and byte order of h.Descr.
func (h *Header) Kind() (kind ndarray.Kind, bigEndian bool, err error) {
	d := h.Descr
	if len(d) < 2 {
		return 0, false, fmt.Errorf("dtype %q: %w", d, data.ErrMalformed)
	}
	switch d[0] {
	case '<', '|', '=':
	case '>':
		bigEndian = true
	default:
		return 0, false, fmt.Errorf("dtype %q: unknown byte order: %w", d, data.ErrMalformed)
	}
	size, err := strconv.Atoi(d[2:])
	if err != nil {
		return 0, false, fmt.Errorf("dtype %q: %w", d, data.ErrUnsupported)
	}
	switch {
	case d[1] == 'b' && size == 1:
		kind = ndarray.Bool
	case d[1] == 'i' && size == 1:
		kind = ndarray.Int8
	case d[1] == 'i' && size == 2:
		kind = ndarray.Int16
	case d[1] == 'i' && size == 4:
		kind = ndarray.Int32
	case d[1] == 'i' && size == 8:
		kind = ndarray.Int64
	case d[1] == 'u' && size == 1:
		kind = ndarray.Uint8
	case d[1] == 'u' && size == 2:
		kind = ndarray.Uint16
	case d[1] == 'u' && size == 4:
		kind = ndarray.Uint32
	case d[1] == 'u' && size == 8:
		kind = ndarray.Uint64
	case d[1] == 'f' && size == 4:
		kind = ndarray.Float32
	case d[1] == 'f' && size == 8:
		kind = ndarray.Float64
	default:
		return 0, false, fmt.Errorf("dtype %q: %w", d, data.ErrUnsupported)
	}
	return kind, bigEndian, nil
}

// parseDict reads the Python dict literal of an NPY header.
func (h *Header) parseDict(s string) error {
	p := &parser{s: s}
	p.space()
	if !p.eat('{') {
		return fmt.Errorf("header is not a dict: %w", data.ErrMalformed)
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if !p.eat(':') {
			return fmt.Errorf("missing ':' after key %q: %w", key, data.ErrMalformed)
		}
		p.space()
		switch key {
		case "descr":
			if p.peek() == '[' {
				return fmt.Errorf("structured dtype: %w", data.ErrUnsupported)
			}
			if h.Descr, err = p.str(); err != nil {
				return err
			}
		case "fortran_order":
			if h.Fortran, err = p.boolean(); err != nil {
				return err
			}
		case "shape":
			if h.Shape, err = p.tuple(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown header key %q: %w", key, data.ErrMalformed)
		}
		seen[key] = true
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return fmt.Errorf("expected ',' or '}' at byte %d: %w", p.i, data.ErrMalformed)
		}
		break
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return fmt.Errorf("header lacks %q: %w", k, data.ErrMalformed)
		}
	}
	return nil
}

type parser struct {
	s string
	i int
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *parser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("expected a quoted string at byte %d: %w", p.i, data.ErrMalformed)
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at byte %d: %w", p.i, data.ErrMalformed)
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *parser) boolean() (bool, error) {
	switch {
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	}
	return false, fmt.Errorf("expected True or False at byte %d: %w", p.i, data.ErrMalformed)
}

func (p *parser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("shape is not a tuple: %w", data.ErrMalformed)
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == start || p.i-start > 12 {
			return nil, fmt.Errorf("bad dimension at byte %d: %w", start, data.ErrMalformed)
		}
		v, _ := strconv.Atoi(p.s[start:p.i])
		if len(shape) >= 32 {
			return nil, fmt.Errorf("more than 32 dimensions: %w", data.ErrMalformed)
		}
		shape = append(shape, v)
		p.eat('L') // Python 2 long literals
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat(')') {
			return nil, fmt.Errorf("expected ',' or ')' at byte %d: %w", p.i, data.ErrMalformed)
		}
		return shape, nil
	}
}

// DType describes the stored element type, e.g. "float64 (<f8)".
func (h *Header) DType() string {
	k, _, err := h.Kind()
	if err != nil {
		return h.Descr
	}
	return k.String() + " (" + h.Descr + ")"
}

// Read decodes one NPY array from r. maxBytes, when positive, bounds the data
// size the header may claim (the caller's knowledge of the input length); the
// claim must also fit the limits in force (limit.Get().MaxDecoded).
func Read(r io.Reader, maxBytes int64) (*ndarray.Array, *Header, error) {
	return readLimited(r, maxBytes, limit.Get().Decoded())
}

// readLimited is Read with the decoded-data budget of the file (an archive's
// members share one).
func readLimited(r io.Reader, maxBytes int64, decoded *limit.Budget) (*ndarray.Array, *Header, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, nil, err
	}
	kind, big, err := h.Kind()
	if err != nil {
		return nil, nil, err
	}
	a := &ndarray.Array{Kind: kind, BigEndian: big, Shape: h.Shape, ColMajor: h.Fortran && len(h.Shape) > 1}
	n, err := ndarray.Count(a.Shape)
	if err != nil {
		return nil, nil, err
	}
	want := n * int64(kind.Size())
	if maxBytes > 0 && want > maxBytes {
		return nil, nil, fmt.Errorf("header claims %d data bytes (%d %s of shape %v) but the input holds at most %d: %w",
			want, n, kind, a.Shape, maxBytes, data.ErrTruncated)
	}
	if err := decoded.Take(want); err != nil {
		return nil, nil, fmt.Errorf("array of shape %v %s: %w", a.Shape, h.Descr, err)
	}
	if a.Raw, err = ndarray.ReadN(r, want); err != nil {
		return nil, nil, fmt.Errorf("data of shape %v %s: %w", a.Shape, h.Descr, err)
	}
	return a, h, nil
}

// ReadFile decodes the .npy file at path. A file longer than its header's
// shape calls for is an error: the shape would silently drop the rest.
func ReadFile(path string) (*ndarray.Array, *Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	a, h, err := Read(bufio.NewReader(f), st.Size())
	if err == nil {
		err = trailing(a, h, st.Size()-h.size-int64(len(a.Raw)))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("npy %s: %w", path, err)
	}
	a.Name = strings.TrimSuffix(filepath.Base(path), ".npy")
	return a, h, nil
}

// trailing reports extra bytes after an array's data, saying how many more
// elements (and, when they divide evenly, rows) they would make.
func trailing(a *ndarray.Array, h *Header, extra int64) error {
	if extra <= 0 {
		return nil
	}
	msg := fmt.Sprintf("%d bytes follow the data of shape %v %s", extra, a.Shape, h.Descr)
	size := int64(a.Kind.Size())
	row := size
	for _, d := range a.Shape[min(1, len(a.Shape)):] {
		row *= int64(d)
	}
	switch {
	case len(a.Shape) > 0 && row > 0 && extra%row == 0:
		msg += fmt.Sprintf(" (%d more rows: the header's shape is smaller than the data)", extra/row)
	case extra%size == 0:
		msg += fmt.Sprintf(" (%d more elements: the header's shape is smaller than the data)", extra/size)
	}
	return fmt.Errorf("%s: %w", msg, data.ErrMalformed)
}

// Member is one array of an .npz archive.
type Member struct {
	// Array is the decoded array, named after the member without ".npy".
	Array *ndarray.Array
	// Header is its NPY header.
	Header *Header
}

// maxDeflateRatio bounds how much deflate can expand data (about 1032:1),
// so a header claiming more than the compressed member can hold is rejected
// before reading.
const maxDeflateRatio = 1040

// ReadNPZ decodes every .npy member of the zip archive r of the given size,
// in archive order. Members not ending in .npy are skipped.
//
// Before any member is read, the sizes the zip directory declares for the
// deflated members (archive/zip holds each member to its declared size) are
// added up against limit.MaxDecompressed, so several entries sharing one
// compressed stream, or one member at deflate's full ratio, are refused
// without being expanded; each member's array is then counted against
// limit.MaxDecoded as its header is read, before its data.
func ReadNPZ(r io.ReaderAt, size int64) ([]Member, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("zip: %w: %w", data.ErrMalformed, err)
	}
	lim := limit.Get()
	inflated, decoded := lim.Decompressed(), lim.Decoded()
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".npy") || f.Method == zip.Store {
			continue
		}
		if err := inflated.Take(clampSize(f.UncompressedSize64)); err != nil {
			return nil, fmt.Errorf("members up to %q declare: %w", f.Name, err)
		}
	}
	var out []Member
	seen := map[string]bool{}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".npy") {
			continue
		}
		name := strings.TrimSuffix(f.Name, ".npy")
		if seen[name] {
			return nil, fmt.Errorf("member %q appears twice: %w", f.Name, data.ErrMalformed)
		}
		seen[name] = true
		a, h, err := readMember(f, size, decoded)
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", f.Name, err)
		}
		a.Name = name
		out = append(out, Member{Array: a, Header: h})
	}
	return out, nil
}

// clampSize converts a declared size to int64, saturating.
func clampSize(n uint64) int64 {
	if n > 1<<62 {
		return 1 << 62
	}
	return int64(n)
}

func readMember(f *zip.File, archiveSize int64, decoded *limit.Budget) (*ndarray.Array, *Header, error) {
	rc, err := f.Open()
	if err != nil {
		if errors.Is(err, zip.ErrAlgorithm) {
			return nil, nil, fmt.Errorf("compression method %d: %w", f.Method, data.ErrUnsupported)
		}
		return nil, nil, fmt.Errorf("%w: %w", data.ErrMalformed, err)
	}
	defer rc.Close()
	// archive/zip fails a member that yields more than its declared size,
	// so that size bounds the data; so does deflate's ratio.
	maxBytes := min(clampSize(f.UncompressedSize64), archiveSize)
	if f.Method == zip.Deflate {
		maxBytes = min(clampSize(f.UncompressedSize64), maxDeflateRatio*min(int64(f.CompressedSize64), archiveSize)+4096)
	}
	a, h, err := readLimited(rc, maxBytes, decoded)
	if err != nil {
		return nil, nil, err
	}
	// Reading on to the end makes archive/zip verify the size and checksum.
	var one [1]byte
	switch n, err := io.ReadFull(rc, one[:]); {
	case n > 0:
		return nil, nil, trailing(a, h, clampSize(f.UncompressedSize64)-h.size-int64(len(a.Raw)))
	case err != nil && !errors.Is(err, io.EOF):
		return nil, nil, fmt.Errorf("%w: %w", data.ErrMalformed, err)
	}
	return a, h, nil
}

// ReadNPZFile decodes every array of the .npz file at path.
func ReadNPZFile(path string) ([]Member, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ms, err := ReadNPZ(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("npz %s: %w", path, err)
	}
	return ms, nil
}

// Default member names tried, in order, when Options.XName / YName are empty.
var (
	DefaultX = []string{"X", "x", "data", "features"}
	DefaultY = []string{"y", "Y", "labels", "label", "target"}
)

func pick(ms []Member, want string, defaults []string) *ndarray.Array {
	names := defaults
	if want != "" {
		names = []string{want}
	}
	for _, n := range names {
		for _, m := range ms {
			if m.Array.Name == n {
				return m.Array
			}
		}
	}
	return nil
}

func memberNames(ms []Member) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Array.Name)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// ToDataset builds a data set from a sample array x (first dimension indexes
// samples; a 1-D array gives one feature per sample) and an optional label
// array y with one whole number per sample.
func ToDataset(name string, x, y *ndarray.Array) (*data.Dataset, error) {
	if len(x.Shape) == 0 {
		return nil, fmt.Errorf("array %q is a scalar, not samples: %w", x.Name, data.ErrNoData)
	}
	ds := &data.Dataset{Name: name, N: x.Shape[0], Shape: append([]int(nil), x.Shape[1:]...)}
	if len(ds.Shape) == 0 {
		ds.Shape = []int{1}
	}
	for _, s := range ds.Shape {
		if s == 0 {
			return nil, fmt.Errorf("array %q has an empty sample shape %v: %w", x.Name, x.Shape, data.ErrNoData)
		}
	}
	if y != nil {
		n, _ := ndarray.Count(y.Shape)
		if int(n) != ds.N || (len(y.Shape) > 1 && y.Shape[0] != ds.N) {
			return nil, fmt.Errorf("labels %q of shape %v do not match %d samples of %q: %w", y.Name, y.Shape, ds.N, x.Name, data.ErrMalformed)
		}
		labels, err := y.Labels()
		if err != nil {
			return nil, err
		}
		ds.Y = labels
	}
	ds.X = x.Float32()
	return ds, nil
}

// LoadNPZ reads an .npz archive as a data set: samples from member
// o.XName (default the first of DefaultX present, or the only member) and
// labels from o.YName (default the first of DefaultY present; "-" for none).
func LoadNPZ(path string, o data.Options) (*data.Dataset, error) {
	ms, err := ReadNPZFile(path)
	if err != nil {
		return nil, err
	}
	return npzDataset(path, ms, o)
}

func npzDataset(path string, ms []Member, o data.Options) (*data.Dataset, error) {
	x := pick(ms, o.XName, DefaultX)
	if x == nil && o.XName == "" && len(ms) == 1 {
		x = ms[0].Array
	}
	if x == nil {
		return nil, fmt.Errorf("npz %s: no sample array (want %q; members: %s): %w", path, firstNonEmpty(o.XName, strings.Join(DefaultX, "/")), memberNames(ms), data.ErrNoData)
	}
	var y *ndarray.Array
	if o.YName != "-" && !o.NoLabels {
		y = pick(ms, o.YName, DefaultY)
		if y == nil && o.YName != "" {
			return nil, fmt.Errorf("npz %s: no label member %q (members: %s): %w", path, o.YName, memberNames(ms), data.ErrNoData)
		}
		if y == x {
			y = nil
		}
	}
	ds, err := ToDataset(filepath.Base(path), x, y)
	if err != nil {
		return nil, fmt.Errorf("npz %s: %w", path, err)
	}
	return ds, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func loadNPY(path string, o data.Options) (*data.Dataset, error) {
	a, _, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	ds, err := ToDataset(filepath.Base(path), a, nil)
	if err != nil {
		return nil, fmt.Errorf("npy %s: %w", path, err)
	}
	return ds, nil
}

func inspectNPY(path string, o data.Options) (*data.Info, error) {
	a, h, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	info := &data.Info{Arrays: []data.Summary{a.Summary(h.DType())}}
	if h.Fortran {
		info.Notes = append(info.Notes, "stored in Fortran order")
	}
	if ds, err := ToDataset(filepath.Base(path), a, nil); err == nil {
		s := data.Summarize(ds, h.DType())
		info.Dataset = &s
	}
	return info, nil
}

func inspectNPZ(path string, o data.Options) (*data.Info, error) {
	ms, err := ReadNPZFile(path)
	if err != nil {
		return nil, err
	}
	info := &data.Info{}
	for _, m := range ms {
		info.Arrays = append(info.Arrays, m.Array.Summary(m.Header.DType()))
		if m.Header.Fortran && len(m.Header.Shape) > 1 {
			info.Notes = append(info.Notes, m.Array.Name+" stored in Fortran order")
		}
	}
	ds, err := npzDataset(path, ms, o)
	if err != nil {
		info.Notes = append(info.Notes, "no data set with these options: "+err.Error())
		return info, nil
	}
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	x := pick(ms, o.XName, DefaultX)
	dtype := ""
	for _, m := range ms {
		if m.Array == x {
			dtype = m.Header.DType()
		}
	}
	s := data.Summarize(ds, dtype)
	info.Dataset = &s
	return info, nil
}
