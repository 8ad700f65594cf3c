// Package matfile reads MATLAB level-5 .mat files (the format MATLAB writes
// with -v6 and -v7) and registers the format with package data. It also holds
// loaders for two data sets distributed as .mat files: COIL-20 and USPS.
//
// Supported: the 128-byte header in either byte order, tagged data elements
// including the small-element format, miCOMPRESSED (zlib) elements, and
// miMATRIX variables of the numeric classes (double, single, int8..uint64)
// and logical, real or complex (the real part is read), with their
// dimensions. Numeric data stored in a smaller type than its class (MATLAB
// saves whole-valued doubles as uint8, for example) is widened. Cell,
// struct, object, char and sparse variables are listed by name and class and
// otherwise skipped. Level-4 and v7.3 (HDF5) files are rejected with
// data.ErrUnsupported.
//
// Why by hand: there is no maintained pure-Go reader of level-5 files that
// handles compressed elements and checks sizes against the input, and the
// format needs only a few hundred lines for the numeric subset used here.
package matfile

import (
	"bufio"
	"bytes"
	"compress/zlib"
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
		Name:       "mat",
		Extensions: []string{".mat"},
		Magic:      []string{"MATLAB 5.0 MAT-file", "MATLAB 7.0 MAT-file"},
		Load:       Load,
		Inspect:    inspect,
	})
}

// Data element types (miXXX).
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
	miUTF8       = 16
	miUTF16      = 17
	miUTF32      = 18
)

var miNames = map[uint32]string{
	miINT8: "miINT8", miUINT8: "miUINT8", miINT16: "miINT16", miUINT16: "miUINT16",
	miINT32: "miINT32", miUINT32: "miUINT32", miSINGLE: "miSINGLE", miDOUBLE: "miDOUBLE",
	miINT64: "miINT64", miUINT64: "miUINT64", miMATRIX: "miMATRIX", miCOMPRESSED: "miCOMPRESSED",
	miUTF8: "miUTF8", miUTF16: "miUTF16", miUTF32: "miUTF32",
}

// typeName names a data element type for error messages.
func typeName(t uint32) string {
	if n, ok := miNames[t]; ok {
		return n
	}
	return fmt.Sprintf("element type %d", t)
}

var miKinds = map[uint32]ndarray.Kind{
	miINT8: ndarray.Int8, miUINT8: ndarray.Uint8, miINT16: ndarray.Int16,
	miUINT16: ndarray.Uint16, miINT32: ndarray.Int32, miUINT32: ndarray.Uint32,
	miSINGLE: ndarray.Float32, miDOUBLE: ndarray.Float64, miINT64: ndarray.Int64,
	miUINT64: ndarray.Uint64,
}

// Array classes (mxXXX_CLASS).
var classNames = map[byte]string{
	1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse",
	6: "double", 7: "single", 8: "int8", 9: "uint8", 10: "int16",
	11: "uint16", 12: "int32", 13: "uint32", 14: "int64", 15: "uint64",
}

// Variable is one top-level variable of a .mat file.
type Variable struct {
	// Name is the variable's name.
	Name string
	// Class is the MATLAB class ("double", "uint8", "logical", "cell", ...).
	Class string
	// Dims are the MATLAB dimensions (at least two).
	Dims []int
	// Complex says the variable has an imaginary part (not read).
	Complex bool
	// Array holds the real part, column-major, in its stored element type;
	// nil for classes that are not numeric or logical.
	Array *ndarray.Array
}

// Numeric reports whether the variable's values were read.
func (v *Variable) Numeric() bool { return v.Array != nil }

// DType describes the class and, where it differs, the stored element type,
// e.g. "double (stored as uint8)".
func (v *Variable) DType() string {
	s := v.Class
	if v.Complex {
		s += " complex"
	}
	if v.Array != nil && v.Class != "logical" {
		stored := v.Array.Kind.String()
		switch v.Array.Kind {
		case ndarray.Float64:
			stored = "double"
		case ndarray.Float32:
			stored = "single"
		}
		if stored != v.Class {
			s += " (stored as " + stored + ")"
		}
	}
	return s
}

// Rows returns the variable's values as a row-major float32 matrix of
// Dims[0] rows and prod(Dims[1:]) columns, the columns in MATLAB's
// column-major order of the trailing dimensions (what x(i,:) gives).
func (v *Variable) Rows() (rows, cols int, x []float32) {
	rows, cols = v.Dims[0], 1
	for _, d := range v.Dims[1:] {
		cols *= d
	}
	a := *v.Array
	a.Shape = []int{rows, cols}
	return rows, cols, a.Float32()
}

// Read decodes every top-level variable of a level-5 .mat stream.
//
// The stream is held whole (it is at most limit.MaxDecoded bytes, and the
// variables' values are slices of it), and read in two passes. The first
// measures what each compressed element inflates to, discarding the
// output, so the file's total is checked against limit.MaxDecompressed and
// limit.MaxDecoded before anything is expanded into memory; the second
// inflates each element into a buffer of exactly its measured size.
func Read(r io.Reader) ([]*Variable, error) {
	dec := limit.Get().Decoded()
	b, err := io.ReadAll(limit.NewReader(r, dec))
	if err != nil {
		return nil, err
	}
	return parse(b, dec)
}

// parse decodes a whole .mat file held in b, whose bytes are already
// counted in the decoded-data budget dec.
func parse(b []byte, dec *limit.Budget) ([]*Variable, error) {
	if len(b) < 128 {
		return nil, fmt.Errorf("header of %d bytes (want 128): %w", len(b), data.ErrTruncated)
	}
	hdr := b[:128]
	var order binary.ByteOrder
	switch string(hdr[126:128]) {
	case "IM":
		order = binary.LittleEndian
	case "MI":
		order = binary.BigEndian
	default:
		if bytes.HasPrefix(hdr, []byte("MATLAB 7.3")) {
			return nil, fmt.Errorf("MATLAB v7.3 (HDF5) file: %w", data.ErrUnsupported)
		}
		return nil, fmt.Errorf("no level-5 endian indicator (a level-4 or non-MAT file?): %w", data.ErrMalformed)
	}
	if bytes.HasPrefix(hdr, []byte("MATLAB 7.3")) {
		return nil, fmt.Errorf("MATLAB v7.3 (HDF5) file: %w", data.ErrUnsupported)
	}
	if v := order.Uint16(hdr[124:126]); v != 0x0100 {
		return nil, fmt.Errorf("version 0x%04x (want 0x0100): %w", v, data.ErrUnsupported)
	}
	d := &decoder{order: order}
	// Pass 1: check the element structure and measure the compressed
	// elements.
	inflated := limit.Get().Decompressed()
	var sizes []int64
	for i, rest := 0, b[128:]; ; i++ {
		typ, body, next, err := d.split(rest)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		rest = next
		if typ != miCOMPRESSED {
			continue
		}
		n, err := inflate(body, io.Discard, inflated)
		if err == nil {
			err = dec.Take(n)
		}
		if err != nil {
			return nil, fmt.Errorf("element %d: compressed element: %w", i, err)
		}
		sizes = append(sizes, n)
	}
	// Pass 2: decode.
	var vars []*Variable
	for i, rest := 0, b[128:]; ; i++ {
		typ, body, next, err := d.split(rest)
		if err == io.EOF {
			return vars, nil
		}
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		rest = next
		if typ == miCOMPRESSED {
			buf := &fixed{b: make([]byte, 0, sizes[0])}
			if _, err := inflate(body, buf, &limit.Budget{Max: sizes[0]}); err != nil {
				return nil, fmt.Errorf("element %d: compressed element: %w", i, err)
			}
			sizes = sizes[1:]
			vs, err := d.inner(buf.b)
			if err != nil {
				return nil, fmt.Errorf("element %d: compressed element: %w", i, err)
			}
			vars = append(vars, vs...)
			continue
		}
		vs, err := d.topLevel(typ, body)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		vars = append(vars, vs...)
	}
}

// inflate decompresses the zlib stream z into w, counted against budget,
// and returns its length. Reading to the end checks the stream's checksum.
func inflate(z []byte, w io.Writer, budget *limit.Budget) (int64, error) {
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", data.ErrMalformed, err)
	}
	defer zr.Close()
	n, err := io.Copy(w, limit.NewReader(zr, budget))
	if err != nil {
		if errors.Is(err, limit.ErrExceeded) {
			return n, err
		}
		return n, fmt.Errorf("%w: %w", data.ErrMalformed, err)
	}
	return n, nil
}

// fixed is a writer into a buffer of fixed capacity (unlike bytes.Buffer,
// which grows ahead of the data it reads).
type fixed struct{ b []byte }

func (f *fixed) Write(p []byte) (int, error) {
	if len(p) > cap(f.b)-len(f.b) {
		return 0, fmt.Errorf("inflated past its measured size: %w", data.ErrMalformed)
	}
	f.b = append(f.b, p...)
	return len(p), nil
}

type decoder struct {
	order binary.ByteOrder
}

// split cuts the first tagged element off b, returning its type, its body
// and the bytes after it; io.EOF means b is empty. Padding to 8 bytes is
// skipped, except after miCOMPRESSED (whose data MATLAB does not pad);
// padding missing at the very end is tolerated. The body is a slice of b:
// no size a tag claims is allocated.
func (d *decoder) split(b []byte) (typ uint32, body, rest []byte, err error) {
	if len(b) == 0 {
		return 0, nil, nil, io.EOF
	}
	if len(b) < 8 {
		return 0, nil, nil, fmt.Errorf("tag of %d bytes: %w", len(b), data.ErrTruncated)
	}
	typ = d.order.Uint32(b[:4])
	if typ>>16 != 0 { // small element: size and type share the first word
		size := typ >> 16
		typ &= 0xffff
		if size > 4 {
			return 0, nil, nil, fmt.Errorf("small element of %d bytes: %w", size, data.ErrMalformed)
		}
		return typ, b[4 : 4+size], b[8:], nil
	}
	size := int64(d.order.Uint32(b[4:8]))
	if size > int64(len(b)-8) {
		return 0, nil, nil, fmt.Errorf("%s of %d bytes: wanted %d bytes, input ends after %d: %w", typeName(typ), size, size, len(b)-8, data.ErrTruncated)
	}
	body, rest = b[8:8+size], b[8+size:]
	if typ != miCOMPRESSED {
		if pad := int((8 - size%8) % 8); pad > 0 && len(rest) > 0 {
			if len(rest) < pad {
				return 0, nil, nil, fmt.Errorf("padding: %w", data.ErrTruncated)
			}
			rest = rest[pad:]
		}
	}
	return typ, body, rest, nil
}

// inner decodes the elements of an inflated compressed element.
func (d *decoder) inner(b []byte) ([]*Variable, error) {
	var vars []*Variable
	for {
		t, body, rest, err := d.split(b)
		if err == io.EOF {
			return vars, nil
		}
		if err != nil {
			return nil, err
		}
		if t == miCOMPRESSED {
			return nil, fmt.Errorf("nested compressed element: %w", data.ErrMalformed)
		}
		vs, err := d.topLevel(t, body)
		if err != nil {
			return nil, err
		}
		vars = append(vars, vs...)
		b = rest
	}
}

func (d *decoder) topLevel(typ uint32, body []byte) ([]*Variable, error) {
	if typ != miMATRIX {
		// Other top-level elements (none are defined) are skipped.
		return nil, nil
	}
	v, err := d.matrix(body)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	return []*Variable{v}, nil
}

// matrix decodes the body of an miMATRIX element; an empty body (allowed
// by the format) gives nil.
func (d *decoder) matrix(body []byte) (*Variable, error) {
	if len(body) == 0 {
		return nil, nil
	}
	rest := body
	sub := func(what string, want ...uint32) (uint32, []byte, error) {
		t, b, next, err := d.split(rest)
		rest = next
		if err == io.EOF {
			return 0, nil, fmt.Errorf("matrix %s: %w", what, data.ErrTruncated)
		}
		if err != nil {
			return 0, nil, fmt.Errorf("matrix %s: %w", what, err)
		}
		if len(want) > 0 {
			ok := false
			for _, w := range want {
				ok = ok || t == w
			}
			if !ok {
				return 0, nil, fmt.Errorf("matrix %s is an %s element: %w", what, typeName(t), data.ErrMalformed)
			}
		}
		return t, b, nil
	}
	_, flags, err := sub("flags", miUINT32)
	if err != nil {
		return nil, err
	}
	if len(flags) != 8 {
		return nil, fmt.Errorf("matrix flags of %d bytes: %w", len(flags), data.ErrMalformed)
	}
	f0 := d.order.Uint32(flags)
	class := byte(f0 & 0xff)
	fl := byte(f0 >> 8)
	v := &Variable{Complex: fl&0x08 != 0}
	name, ok := classNames[class]
	if !ok {
		return nil, fmt.Errorf("unknown array class %d: %w", class, data.ErrMalformed)
	}
	v.Class = name
	if fl&0x02 != 0 {
		v.Class = "logical"
	}
	if class == 3 { // object: a class name precedes the usual sub-elements
		return v, nil
	}
	_, dimb, err := sub("dimensions", miINT32)
	if err != nil {
		return nil, err
	}
	if len(dimb)%4 != 0 || len(dimb) < 8 || len(dimb) > 4*32 {
		return nil, fmt.Errorf("matrix dimensions of %d bytes: %w", len(dimb), data.ErrMalformed)
	}
	for i := 0; i < len(dimb); i += 4 {
		x := int32(d.order.Uint32(dimb[i:]))
		if x < 0 {
			return nil, fmt.Errorf("negative dimension %d: %w", x, data.ErrMalformed)
		}
		v.Dims = append(v.Dims, int(x))
	}
	_, nameb, err := sub("name", miINT8, miUINT8, miUTF8)
	if err != nil {
		return nil, err
	}
	v.Name = string(nameb)
	if class < 6 {
		return v, nil // cell, struct, char, sparse: listed, not read
	}
	t, real, err := sub("real part")
	if err != nil {
		return nil, err
	}
	kind, ok := miKinds[t]
	if !ok {
		return nil, fmt.Errorf("variable %q: real part is an %s element: %w", v.Name, typeName(t), data.ErrMalformed)
	}
	a := &ndarray.Array{Name: v.Name, Kind: kind, BigEndian: d.order == binary.BigEndian, Shape: v.Dims, ColMajor: true, Raw: real}
	if err := a.Check(); err != nil {
		return nil, fmt.Errorf("variable %q: %w", v.Name, err)
	}
	v.Array = a
	return v, nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return data.ErrTruncated
	}
	return err
}

// ReadFile decodes every top-level variable of the .mat file at path (see
// Read).
func ReadFile(path string) ([]*Variable, error) {
	vs, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("mat %s: %w", path, err)
	}
	return vs, nil
}

// readFile holds the file whole, in a buffer of its size on disk, once that
// size is within the decoded-data limit.
func readFile(path string) ([]*Variable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	dec := limit.Get().Decoded()
	if err := dec.Take(st.Size()); err != nil {
		return nil, err
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(bufio.NewReader(f), b); err != nil {
		return nil, fmt.Errorf("file shrank while read: %w", truncated(err))
	}
	return parse(b, dec)
}

// Find returns the numeric variable named name, or nil.
func Find(vars []*Variable, name string) *Variable {
	for _, v := range vars {
		if v.Name == name && v.Numeric() {
			return v
		}
	}
	return nil
}

// Default variable names tried, in order, when Options.XName / YName are empty.
var (
	DefaultX = []string{"X", "x", "fea", "data", "features"}
	DefaultY = []string{"y", "Y", "gnd", "labels", "label", "target"}
)

func numericNames(vars []*Variable) string {
	var s []string
	for _, v := range vars {
		if v.Numeric() {
			s = append(s, v.Name)
		}
	}
	return strings.Join(s, ", ")
}

// ToDataset builds a data set from variable x (one sample per row; the
// remaining dimensions flattened in MATLAB's column-major order, as x(i,:)
// would be, so a sample is a vector of prod(Dims[1:]) values) and optional labels y (one
// whole number per sample).
func ToDataset(name string, x, y *Variable) (*data.Dataset, error) {
	rows, cols, vals := x.Rows()
	if cols == 0 {
		return nil, fmt.Errorf("variable %q has no columns: %w", x.Name, data.ErrNoData)
	}
	ds := &data.Dataset{Name: name, N: rows, Shape: []int{cols}, X: vals}
	if y != nil {
		n, _ := ndarray.Count(y.Dims)
		if int(n) != rows {
			return nil, fmt.Errorf("labels %q of size %v do not match %d samples of %q: %w", y.Name, y.Dims, rows, x.Name, data.ErrMalformed)
		}
		labels, err := y.Array.Labels()
		if err != nil {
			return nil, err
		}
		ds.Y = labels
	}
	return ds, nil
}

// Load reads a .mat file as a data set: samples from variable o.XName
// (default the first of DefaultX present) and labels from o.YName (default
// the first of DefaultY present; "-" for none).
func Load(path string, o data.Options) (*data.Dataset, error) {
	vars, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return dataset(path, vars, o)
}

func dataset(path string, vars []*Variable, o data.Options) (*data.Dataset, error) {
	pick := func(want string, defaults []string) *Variable {
		if want != "" {
			defaults = []string{want}
		}
		for _, n := range defaults {
			if v := Find(vars, n); v != nil {
				return v
			}
		}
		return nil
	}
	x := pick(o.XName, DefaultX)
	if x == nil {
		want := o.XName
		if want == "" {
			want = strings.Join(DefaultX, "/")
		}
		return nil, fmt.Errorf("mat %s: no numeric variable %s (numeric variables: %s; choose one with XName): %w", path, want, numericNames(vars), data.ErrNoData)
	}
	var y *Variable
	if o.YName != "-" && !o.NoLabels {
		y = pick(o.YName, DefaultY)
		if y == nil && o.YName != "" {
			return nil, fmt.Errorf("mat %s: no numeric variable %q (numeric variables: %s): %w", path, o.YName, numericNames(vars), data.ErrNoData)
		}
	}
	ds, err := ToDataset(filepath.Base(path), x, y)
	if err != nil {
		return nil, fmt.Errorf("mat %s: %w", path, err)
	}
	return ds, nil
}

func inspect(path string, o data.Options) (*data.Info, error) {
	vars, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	info := &data.Info{}
	for _, v := range vars {
		if !v.Numeric() {
			info.Notes = append(info.Notes, fmt.Sprintf("variable %q of class %s %v skipped", v.Name, v.Class, v.Dims))
			continue
		}
		a := *v.Array
		s := a.Summary(v.DType())
		info.Arrays = append(info.Arrays, s)
	}
	ds, err := dataset(path, vars, o)
	if err != nil {
		info.Notes = append(info.Notes, "no data set with these options: "+err.Error())
		return info, nil
	}
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	dtype := ""
	if x := Find(vars, firstName(vars, o.XName, DefaultX)); x != nil {
		dtype = x.DType()
	}
	s := data.Summarize(ds, dtype)
	info.Dataset = &s
	return info, nil
}

func firstName(vars []*Variable, want string, defaults []string) string {
	if want != "" {
		return want
	}
	for _, n := range defaults {
		if Find(vars, n) != nil {
			return n
		}
	}
	return ""
}
