package data

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Sentinel errors that format readers wrap, so callers can test the kind of
// failure with errors.Is while the message names the file and the problem.
var (
	// ErrUnknownFormat means no registered format recognised the file.
	ErrUnknownFormat = errors.New("unknown data format")
	// ErrTruncated means the input ended before the data its header announced.
	ErrTruncated = errors.New("truncated input")
	// ErrMalformed means the input violates its format.
	ErrMalformed = errors.New("malformed input")
	// ErrUnsupported means the input is valid but uses a feature this project
	// does not read (for example a structured NumPy dtype or a MATLAB cell).
	ErrUnsupported = errors.New("unsupported feature")
	// ErrNoData means the file holds nothing that forms a data set with the
	// given options (for example a .mat file without the named variable).
	ErrNoData = errors.New("no data set")
)

// Interp selects the interpolation used when images are resized.
type Interp int

const (
	// Bilinear interpolation (the default).
	Bilinear Interp = iota
	// Nearest neighbour interpolation.
	Nearest
)

// HeaderMode says whether a text table starts with a header row.
type HeaderMode int

const (
	// HeaderAuto treats the first row as a header when any of its fields is
	// not a number.
	HeaderAuto HeaderMode = iota
	// HeaderPresent always treats the first row as a header.
	HeaderPresent
	// HeaderAbsent never treats the first row as a header.
	HeaderAbsent
)

// Options carries the settings a format reader may need. Each reader uses the
// fields that concern it and ignores the rest; the zero value means "the
// format's defaults".
type Options struct {
	// LabelColumn names the label column of a text table: a header name, or
	// an integer column index (0-based; negative counts from the end, "-1" is
	// the last column). Empty means the format's default (none for .csv/.tsv,
	// the last column for UCI-style .data files).
	LabelColumn string
	// NoLabels forces an unlabelled data set even where the format has a
	// default label source (a label column is still left out of the
	// features).
	NoLabels bool
	// Delimiter separates text-table fields; 0 sniffs it from the first line,
	// ' ' means runs of white space.
	Delimiter rune
	// Header says whether a text table has a header row.
	Header HeaderMode
	// AllowMissing accepts empty and NaN cells in text tables, replacing them
	// with MissingValue; without it such cells are an error.
	AllowMissing bool
	// MissingValue replaces missing cells when AllowMissing is set.
	MissingValue float32

	// XName is the array (npz member, .mat variable) holding the samples.
	// Empty means the format's default names ("X", then "fea", "data", ...).
	XName string
	// YName is the array holding the labels. Empty means the format's
	// defaults ("y", then "gnd", "label", ...); "-" means none.
	YName string

	// Split keeps only images under a directory of this name placed directly
	// above the class directories (for example "train" or "test").
	Split string
	// Grey converts images to one luma channel; otherwise images have three
	// (RGB) channels.
	Grey bool
	// Width and Height resize every image when both are positive.
	Width, Height int
	// Interp is the resize interpolation.
	Interp Interp
	// Workers is the number of parallel image decoders; 0 means GOMAXPROCS.
	Workers int
}

// Option modifies Options; data.Load takes any number of them.
type Option func(*Options)

// With replaces all options by o.
func With(o Options) Option { return func(dst *Options) { *dst = o } }

// WithLabelColumn sets Options.LabelColumn.
func WithLabelColumn(col string) Option { return func(o *Options) { o.LabelColumn = col } }

// WithArrays sets Options.XName and Options.YName.
func WithArrays(x, y string) Option {
	return func(o *Options) { o.XName, o.YName = x, y }
}

// WithSplit sets Options.Split.
func WithSplit(split string) Option { return func(o *Options) { o.Split = split } }

// WithGrey sets Options.Grey.
func WithGrey(grey bool) Option { return func(o *Options) { o.Grey = grey } }

// WithResize sets Options.Width, Options.Height and Options.Interp.
func WithResize(width, height int, interp Interp) Option {
	return func(o *Options) { o.Width, o.Height, o.Interp = width, height, interp }
}

// Format describes one file format for the registry.
type Format struct {
	// Name is the short format name shown by `oddity data inspect`.
	Name string
	// Extensions are lower-case file-name suffixes with their dot (".npy",
	// ".tar.gz"). They decide only when no format's magic matched.
	Extensions []string
	// Magic are byte prefixes, '?' matching any byte, tested against the
	// first bytes of the file or, when the file is gzip-compressed, of its
	// decompressed content.
	Magic []string
	// Match optionally recognises the head of the (decompressed) content
	// where a prefix is not enough (a tar header's magic sits at byte 257).
	Match func(head []byte) bool
	// Dir says the format opens directories.
	Dir bool
	// Load reads the file at path into a data set.
	Load func(path string, o Options) (*Dataset, error)
	// Inspect optionally describes the file's stored arrays; when nil,
	// data.Inspect loads the file and summarises the data set.
	Inspect func(path string, o Options) (*Info, error)
}

var (
	formatsMu sync.RWMutex
	formats   []Format
)

// RegisterFormat adds a format to the registry used by Load and Inspect.
// Format packages call it from init. Registering a name twice panics, as it
// is a programming error.
func RegisterFormat(f Format) {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	if f.Name == "" || f.Load == nil {
		panic("data: RegisterFormat needs a name and a Load function")
	}
	for _, g := range formats {
		if g.Name == f.Name {
			panic("data: format " + f.Name + " registered twice")
		}
	}
	formats = append(formats, f)
}

// Formats returns the names of the registered formats, sorted.
func Formats() []string {
	formatsMu.RLock()
	defer formatsMu.RUnlock()
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.Name
	}
	sort.Strings(names)
	return names
}

// headLen is how many bytes of (decompressed) content sniffing looks at; a tar
// header's magic ends at byte 263.
const headLen = 512

// IsGzip reports whether b starts with the gzip magic bytes.
func IsGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// sniffHead returns the first bytes of the file's content, decompressed when
// the file is gzip-compressed, and whether it was compressed.
func sniffHead(path string) ([]byte, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, headLen)
	head, err := br.Peek(headLen)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, false, err
	}
	if !IsGzip(head) {
		return append([]byte(nil), head...), false, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		// A broken gzip stream: sniff on the raw bytes, the reader reports it.
		return append([]byte(nil), head...), true, nil
	}
	buf := make([]byte, headLen)
	n, _ := io.ReadFull(zr, buf)
	return buf[:n], true, nil
}

func matchMagic(magic string, head []byte) bool {
	if len(head) < len(magic) {
		return false
	}
	for i := 0; i < len(magic); i++ {
		if magic[i] != '?' && magic[i] != head[i] {
			return false
		}
	}
	return true
}

// Detect returns the format that would open path: a directory format for a
// directory, else the first format whose magic matches the content, else the
// format with the longest matching extension.
func Detect(path string) (Format, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Format{}, fmt.Errorf("data %s: %w", path, err)
	}
	formatsMu.RLock()
	fs := append([]Format(nil), formats...)
	formatsMu.RUnlock()
	if st.IsDir() {
		for _, f := range fs {
			if f.Dir {
				return f, nil
			}
		}
		return Format{}, fmt.Errorf("data %s: a directory, and no directory format is registered: %w", path, ErrUnknownFormat)
	}
	head, _, err := sniffHead(path)
	if err != nil {
		return Format{}, fmt.Errorf("data %s: %w", path, err)
	}
	for _, f := range fs {
		for _, m := range f.Magic {
			if matchMagic(m, head) {
				return f, nil
			}
		}
		if f.Match != nil && f.Match(head) {
			return f, nil
		}
	}
	lower := strings.ToLower(filepath.Base(path))
	best, bestLen := -1, 0
	for i, f := range fs {
		for _, e := range f.Extensions {
			if strings.HasSuffix(lower, e) && len(e) > bestLen {
				best, bestLen = i, len(e)
			}
		}
	}
	if best >= 0 {
		return fs[best], nil
	}
	return Format{}, fmt.Errorf("data %s: %w (known: %s)", path, ErrUnknownFormat, strings.Join(Formats(), ", "))
}

// Load opens the file (or directory) at path with the registered format that
// recognises it, by magic bytes first and extension second. The format
// packages register themselves when imported; import
// github.com/oddity-ml/oddity/data/all for every format. The result has been
// validated (consistent fields, finite values) and holds at least one sample.
func Load(path string, opts ...Option) (*Dataset, error) {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	f, err := Detect(path)
	if err != nil {
		return nil, err
	}
	ds, err := f.Load(path, o)
	if err != nil {
		return nil, err
	}
	if err := ds.Validate(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", f.Name, path, err)
	}
	if ds.N == 0 {
		return nil, fmt.Errorf("%s %s: no samples: %w", f.Name, path, ErrNoData)
	}
	return ds, nil
}

// Inspect describes the file at path: its format, the arrays it stores and
// the data set Load would produce.
func Inspect(path string, opts ...Option) (*Info, error) {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	f, err := Detect(path)
	if err != nil {
		return nil, err
	}
	if f.Inspect != nil {
		info, err := f.Inspect(path, o)
		if err != nil {
			return nil, err
		}
		info.Path, info.Format = path, f.Name
		return info, nil
	}
	ds, err := f.Load(path, o)
	if err != nil {
		return nil, err
	}
	if err := ds.Validate(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", f.Name, path, err)
	}
	s := Summarize(ds, "")
	return &Info{Path: path, Format: f.Name, Dataset: &s}, nil
}
