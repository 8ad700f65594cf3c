package pipeline

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"   // gs:// paths
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"    // s3:// paths

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/csvfile"
	"github.com/oddity-ml/oddity/data/table"
)

// Input formats.
const (
	FormatCSV    = "csv"    // text tables, as `oddity score` reads .csv/.tsv/.txt
	FormatJSONL  = "jsonl"  // one sample a line: [x...] or {"id": ..., "x": [...]}
	FormatImages = "images" // a folder or glob of PNG/JPEG files
)

// DefaultChunkBytes is the size of the byte ranges text inputs are cut into.
const DefaultChunkBytes = 16 << 20

// chunk is a byte range [Start, End) of the File-th input file (files in
// name order). It owns the lines that start inside it.
type chunk struct {
	Path       string
	File       int
	Start, End int64
}

// chunkCount is how many rows a chunk held, and their width. Names are the
// header's feature names, set only for the first chunk of a file.
type chunkCount struct {
	File  int
	Start int64
	N, D  int
	Names []string
}

// listFiles expands a local path, folder-less glob or remote pattern into
// sorted file names.
func listFiles(ctx context.Context, pattern string) ([]string, error) {
	fsys, err := filesystem.New(ctx, pattern)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", pattern, err)
	}
	defer fsys.Close()
	files, err := fsys.List(ctx, pattern)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", pattern, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("input %s: no such file", pattern)
	}
	sort.Strings(files)
	return files, nil
}

// planChunks lists the input files and cuts each into ranges of at most
// size bytes. A gzip file is one range, and so is a remote file (gs://,
// s3://): Beam's readers for those cannot seek, so a range deep in the file
// would first read everything before it; a large remote input should be
// sharded into many files, as distributed writers produce it.
func planChunks(ctx context.Context, pattern string, size int64) ([]chunk, error) {
	if size < 1 {
		return nil, fmt.Errorf("chunk size %d bytes must be positive", size)
	}
	files, err := listFiles(ctx, pattern)
	if err != nil {
		return nil, err
	}
	fsys, err := filesystem.New(ctx, pattern)
	if err != nil {
		return nil, err
	}
	defer fsys.Close()
	var out []chunk
	for i, f := range files {
		n, err := fsys.Size(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", f, err)
		}
		if strings.HasSuffix(f, ".gz") || !isLocal(f) {
			out = append(out, chunk{Path: f, File: i, Start: 0, End: n})
			continue
		}
		for s := int64(0); s < n; s += size {
			out = append(out, chunk{Path: f, File: i, Start: s, End: min(s+size, n)})
		}
	}
	return out, nil
}

// readChunk returns the file's first line (when c does not start the file)
// and the lines starting in [c.Start, c.End).
func readChunk(ctx context.Context, c chunk) (first, body []byte, err error) {
	fsys, err := filesystem.New(ctx, c.Path)
	if err != nil {
		return nil, nil, err
	}
	defer fsys.Close()
	open := func() (io.ReadCloser, error) { return fsys.OpenRead(ctx, c.Path) }
	if strings.HasSuffix(c.Path, ".gz") {
		rc, err := open()
		if err != nil {
			return nil, nil, err
		}
		defer rc.Close()
		zr, err := gzip.NewReader(rc)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.Path, err)
		}
		body, err = io.ReadAll(zr)
		return nil, body, err
	}
	if c.Start > 0 {
		rc, err := open()
		if err != nil {
			return nil, nil, err
		}
		first, err = bufio.NewReader(rc).ReadBytes('\n')
		rc.Close()
		if err != nil && err != io.EOF {
			return nil, nil, err
		}
	}
	rc, err := open()
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	// Position at Start-1: the line starting at Start is ours only if the
	// byte before it ends a line.
	pos := max(c.Start-1, 0)
	if sk, ok := rc.(io.Seeker); ok {
		if _, err := sk.Seek(pos, io.SeekStart); err != nil {
			return nil, nil, err
		}
	} else if _, err := io.CopyN(io.Discard, rc, pos); err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(rc, 1<<20)
	if c.Start > 0 {
		skip, err := br.ReadBytes('\n')
		if err == io.EOF {
			return first, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		pos += int64(len(skip))
	}
	var buf bytes.Buffer
	for pos < c.End {
		line, err := br.ReadBytes('\n')
		buf.Write(line)
		pos += int64(len(line))
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return first, buf.Bytes(), nil
}

// batch is a parsed chunk: N rows of D values, with the label text and
// JSON id of each row when the input has them.
type batch struct {
	File   int
	Start  int64
	N, D   int
	X      []float32
	Labels []string
	IDs    []string
	Names  []string
}

// parseChunk parses the lines of c as format. It returns nil for a chunk
// without rows.
func parseChunk(ctx context.Context, c chunk, format, labelCol string, pipe *table.Pipeline) (*batch, error) {
	first, body, err := readChunk(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("read %s bytes [%d, %d): %w", c.Path, c.Start, c.End, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var b *batch
	switch format {
	case FormatCSV:
		if pipe != nil {
			b, err = parseTable(c, first, body, pipe)
		} else {
			b, err = parseCSV(c, first, body, labelCol)
		}
		if err == nil && b == nil {
			return nil, nil
		}
	case FormatJSONL:
		b, err = parseJSONL(body)
	default:
		err = fmt.Errorf("input format %q is not a text table (want %s or %s)", format, FormatCSV, FormatJSONL)
	}
	if err != nil {
		return nil, fmt.Errorf("%s, lines starting in bytes [%d, %d): %w", c.Path, c.Start, c.End, err)
	}
	b.File, b.Start = c.File, c.Start
	return b, nil
}

// parseTable parses a chunk of a table as a model's table pipeline reads
// it (package data/table): the header line, which every table has, is put
// in front of a chunk after the first; columns are matched by name and
// encoded as in training; the pipeline's identifier column and label are
// carried to the output.
func parseTable(c chunk, first, body []byte, p *table.Pipeline) (*batch, error) {
	src := body
	if c.Start > 0 {
		if len(first) > 0 && first[len(first)-1] != '\n' {
			first = append(first, '\n')
		}
		src = append(append([]byte(nil), first...), body...)
	} else if bytes.Count(bytes.TrimSpace(body), []byte("\n")) == 0 {
		return nil, nil // the header line alone
	}
	raw, err := table.ReadCSV(bytes.NewReader(src), filepath.Base(c.Path), p.ReadOptions())
	if err != nil {
		return nil, err
	}
	if raw.Rows == 0 {
		return nil, nil
	}
	ds, car, err := p.Transform(raw)
	if err != nil {
		return nil, err
	}
	b := &batch{N: ds.N, D: ds.Dim(), X: ds.X}
	if c.Start == 0 {
		b.Names = ds.FeatureNames
	}
	if len(car.IDs) > 0 {
		b.IDs = make([]string, ds.N)
		for i, v := range car.IDs[0].Values {
			j, _ := json.Marshal(v) // a string always encodes
			b.IDs[i] = string(j)
		}
	}
	if car.Labels != nil {
		b.Labels = make([]string, ds.N)
		for i, l := range car.Labels {
			if l >= 0 {
				b.Labels[i] = strconv.Itoa(int(l))
			}
		}
	}
	return b, nil
}

// parseCSV parses a CSV chunk with package csvfile. A chunk after the
// first is parsed behind the file's first line, so that the header (or its
// absence) and the delimiter are sniffed as for the whole file; if that line
// turns out to be data, its row is dropped again.
func parseCSV(c chunk, first, body []byte, labelCol string) (*batch, error) {
	src := body
	if c.Start > 0 && len(first) > 0 {
		if first[len(first)-1] != '\n' {
			first = append(first, '\n')
		}
		src = append(append([]byte(nil), first...), body...)
	}
	ds, err := csvfile.Read(bytes.NewReader(src), filepath.Base(c.Path), data.Options{LabelColumn: labelCol})
	if err != nil {
		if c.Start == 0 && errors.Is(err, data.ErrNoData) && len(bytes.Fields(bytes.TrimSpace(body))) > 0 &&
			bytes.Count(bytes.TrimSpace(body), []byte("\n")) == 0 {
			// A range holding only the header line; the next range reads
			// the header again in front of its own lines.
			return nil, nil
		}
		return nil, err
	}
	labels := make([]string, 0, len(ds.Y))
	for _, y := range ds.Y {
		if ds.ClassNames != nil {
			labels = append(labels, ds.ClassNames[y])
		} else {
			labels = append(labels, strconv.Itoa(y))
		}
	}
	d := ds.Dim()
	b := &batch{N: ds.N, D: d, X: ds.X}
	if c.Start == 0 {
		b.Names = ds.FeatureNames
	} else if ds.FeatureNames == nil && len(first) > 0 {
		// The prepended first line was a data row of the first chunk.
		b.N--
		b.X = b.X[d:]
		if len(labels) > 0 {
			labels = labels[1:]
		}
	}
	if ds.Y != nil {
		b.Labels = labels
	}
	if b.N == 0 {
		return nil, errors.New("no data rows")
	}
	return b, nil
}

// jsonRecord is one JSON line: a bare array or an object (as `oddity score -`
// reads them).
type jsonRecord struct {
	ID json.RawMessage `json:"id"`
	X  []float64       `json:"x"`
}

// parseJSONL parses JSON lines; values become float32 as in `oddity score -`.
func parseJSONL(body []byte) (*batch, error) {
	b := &batch{}
	hasID := false
	for line, rest := 1, body; len(rest) > 0; line++ {
		var l []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			l, rest = rest[:i], rest[i+1:]
		} else {
			l, rest = rest, nil
		}
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		var rec jsonRecord
		if l[0] == '[' {
			if err := json.Unmarshal(l, &rec.X); err != nil {
				return nil, fmt.Errorf("line %d of the range: %v", line, err)
			}
		} else if err := json.Unmarshal(l, &rec); err != nil {
			return nil, fmt.Errorf("line %d of the range: %v", line, err)
		}
		if b.N == 0 {
			b.D = len(rec.X)
		}
		if len(rec.X) != b.D || b.D == 0 {
			return nil, fmt.Errorf("line %d of the range: %d values, earlier lines have %d", line, len(rec.X), b.D)
		}
		for _, v := range rec.X {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
				return nil, fmt.Errorf("line %d of the range: %v is not a finite float32", line, v)
			}
			b.X = append(b.X, float32(v))
		}
		id := ""
		if len(rec.ID) > 0 && string(rec.ID) != "null" {
			id, hasID = string(rec.ID), true
		}
		b.IDs = append(b.IDs, id)
		b.N++
	}
	if !hasID {
		b.IDs = nil
	}
	if b.N == 0 {
		return nil, errors.New("no data rows")
	}
	return b, nil
}

// encode writes b in a compact binary form (Beam moves elements as bytes;
// a float32 slice as raw little-endian words is far cheaper than a generic
// coder).
func (b *batch) encode() []byte {
	le := binary.LittleEndian
	out := make([]byte, 0, 64+4*len(b.X))
	out = binary.AppendVarint(out, int64(b.File))
	out = binary.AppendVarint(out, b.Start)
	out = binary.AppendUvarint(out, uint64(b.N))
	out = binary.AppendUvarint(out, uint64(b.D))
	for _, v := range b.X {
		out = le.AppendUint32(out, math.Float32bits(v))
	}
	for _, ss := range [][]string{b.Labels, b.IDs, b.Names} {
		out = binary.AppendVarint(out, int64(len(ss))-boolInt(ss == nil))
		for _, s := range ss {
			out = binary.AppendUvarint(out, uint64(len(s)))
			out = append(out, s...)
		}
	}
	return out
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// decodeBatch reverses encode.
func decodeBatch(p []byte) (*batch, error) {
	bad := errors.New("corrupt batch element")
	r := bytes.NewReader(p)
	file, err1 := binary.ReadVarint(r)
	start, err2 := binary.ReadVarint(r)
	n, err3 := binary.ReadUvarint(r)
	d, err4 := binary.ReadUvarint(r)
	if err := errors.Join(err1, err2, err3, err4); err != nil || n*d > uint64(r.Len())/4 {
		return nil, bad
	}
	b := &batch{File: int(file), Start: start, N: int(n), D: int(d), X: make([]float32, n*d)}
	raw := p[len(p)-r.Len():]
	for i := range b.X {
		b.X[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	r = bytes.NewReader(raw[4*len(b.X):])
	for _, dst := range []*[]string{&b.Labels, &b.IDs, &b.Names} {
		k, err := binary.ReadVarint(r)
		if err != nil || k < -1 || k > int64(r.Len()) {
			return nil, bad
		}
		if k == -1 {
			continue
		}
		ss := make([]string, k)
		for i := range ss {
			l, err := binary.ReadUvarint(r)
			if err != nil || l > uint64(r.Len()) {
				return nil, bad
			}
			s := make([]byte, l)
			_, _ = io.ReadFull(r, s)
			ss[i] = string(s)
		}
		*dst = ss
	}
	return b, nil
}

// offsets turns chunk counts into the global index of each chunk's first
// row (chunks in file, then byte order) and the total row count.
func offsets(counts []chunkCount) (map[[2]int64]int64, int64) {
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].File != counts[j].File {
			return counts[i].File < counts[j].File
		}
		return counts[i].Start < counts[j].Start
	})
	m := make(map[[2]int64]int64, len(counts))
	var n int64
	for _, c := range counts {
		m[[2]int64{int64(c.File), c.Start}] = n
		n += int64(c.N)
	}
	return m, n
}

// imageExts are the file types the core's image readers decode.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

// listImages returns the sorted image files under a local folder (walked
// recursively, hidden entries skipped) or matching a pattern.
func listImages(ctx context.Context, input string) ([]string, error) {
	var files []string
	if st, err := os.Stat(input); err == nil && st.IsDir() {
		err := filepath.WalkDir(input, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != input && strings.HasPrefix(e.Name(), ".") {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !e.IsDir() && imageExts[strings.ToLower(filepath.Ext(p))] {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", input, err)
		}
		sort.Strings(files)
	} else {
		all, err := listFiles(ctx, input)
		if err != nil {
			return nil, err
		}
		for _, f := range all {
			if imageExts[strings.ToLower(filepath.Ext(f))] && !strings.HasPrefix(filepath.Base(f), ".") {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("input %s: no PNG or JPEG files", input)
	}
	return files, nil
}

// readAll reads a whole file through Beam's file systems.
func readAll(ctx context.Context, path string) ([]byte, error) {
	fsys, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	defer fsys.Close()
	rc, err := fsys.OpenRead(ctx, path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// statLocal reports whether path is a local directory.
func statLocal(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return st.IsDir(), nil
}
