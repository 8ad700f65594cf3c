package modelfile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/oddity-ml/oddity/tensor"
)

// File is a model file's content, read and verified.
type File struct {
	// Header is the caller's header, as the JSON it was written as.
	Header json.RawMessage
	// Created is when the file was written.
	Created time.Time
	// Version is the file's format version.
	Version Version

	tensors []*tensor.Tensor
	tindex  map[string]int
	blobs   map[string][]byte
	bnames  []string
}

// Read reads and verifies a model file from r, which must end where the file
// does. Nothing is returned unless the whole file checks out.
func Read(r io.Reader) (*File, error) { return read(r, current) }

// Load reads and verifies the model file at path.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("modelfile: %w", err)
	}
	defer fh.Close()
	f, err := Read(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Tensor returns the tensor stored under name (ErrNotFound if none). The
// tensor belongs to the File; Clone it before changing it if the File is
// used again.
func (f *File) Tensor(name string) (*tensor.Tensor, error) {
	i, ok := f.tindex[name]
	if !ok {
		return nil, fmt.Errorf("modelfile: tensor %q: %w", name, ErrNotFound)
	}
	return f.tensors[i], nil
}

// Tensors returns every tensor in file order.
func (f *File) Tensors() []*tensor.Tensor { return append([]*tensor.Tensor(nil), f.tensors...) }

// Blob returns the blob stored under name (ErrNotFound if none).
func (f *File) Blob(name string) ([]byte, error) {
	b, ok := f.blobs[name]
	if !ok {
		return nil, fmt.Errorf("modelfile: blob %q: %w", name, ErrNotFound)
	}
	return b, nil
}

// BlobNames returns the blobs' names in file order (sorted by name when
// written by this package).
func (f *File) BlobNames() []string { return append([]string(nil), f.bnames...) }

// DecodeHeader unmarshals the caller's header into v.
func (f *File) DecodeHeader(v any) error {
	if err := json.Unmarshal(f.Header, v); err != nil {
		return fmt.Errorf("modelfile: header: %w", err)
	}
	return nil
}

// reader reads fields through the running hash and knows, when it can, how
// many input bytes remain.
type reader struct {
	r     *bufio.Reader
	h     hash.Hash
	off   int64 // bytes consumed
	end   int64 // input size when known
	known bool
	buf   [8]byte
}

// inputSize returns how many bytes remain in src, when src can tell.
func inputSize(src io.Reader) (int64, bool) {
	switch s := src.(type) {
	case *bytes.Reader:
		return int64(s.Len()), true
	case *bytes.Buffer:
		return int64(s.Len()), true
	case *strings.Reader:
		return int64(s.Len()), true
	case *os.File:
		fi, err := s.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		off, err := s.Seek(0, io.SeekCurrent)
		if err != nil || off > fi.Size() {
			return 0, false
		}
		return fi.Size() - off, true
	}
	return 0, false
}

// eofErr turns an early end of input into ErrTruncated.
func (rd *reader) eofErr(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("modelfile: file ends at byte %d inside %s: %w", rd.off, what, ErrTruncated)
	}
	return fmt.Errorf("modelfile: reading %s at byte %d: %w", what, rd.off, err)
}

// full fills p and hashes it.
func (rd *reader) full(p []byte, what string) error {
	n, err := io.ReadFull(rd.r, p)
	rd.h.Write(p[:n])
	rd.off += int64(n)
	if err != nil {
		return rd.eofErr(err, what)
	}
	return nil
}

func (rd *reader) u8(what string) (uint8, error) {
	err := rd.full(rd.buf[:1], what)
	return rd.buf[0], err
}

func (rd *reader) u16(what string) (uint16, error) {
	err := rd.full(rd.buf[:2], what)
	return binary.LittleEndian.Uint16(rd.buf[:2]), err
}

func (rd *reader) u64(what string) (uint64, error) {
	err := rd.full(rd.buf[:8], what)
	return binary.LittleEndian.Uint64(rd.buf[:8]), err
}

// need refuses a declared size larger than what remains of a known input.
func (rd *reader) need(n uint64, what string) error {
	if rd.known && n > uint64(rd.end-rd.off) {
		return fmt.Errorf("modelfile: %s declares %d bytes at byte %d, but only %d remain: %w", what, n, rd.off, rd.end-rd.off, ErrTruncated)
	}
	return nil
}

// growChunk is the first allocation for data of unknown availability;
// buffers then double as data arrives.
const growChunk = 1 << 16

// bytes reads n bytes. When the input's size is unknown the buffer grows as
// data arrives, so a false size costs at most about twice what was read.
func (rd *reader) bytes(n int64, what string) ([]byte, error) {
	if rd.known {
		b := make([]byte, n)
		return b, rd.full(b, what)
	}
	b := make([]byte, 0, min(n, growChunk))
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(n, 2*int64(cap(b))))
			copy(nb, b)
			b = nb
		}
		k := min(int64(cap(b)-len(b)), n-int64(len(b)))
		if err := rd.full(b[len(b):len(b)+int(k)], what); err != nil {
			return nil, err
		}
		b = b[:len(b)+int(k)]
	}
	return b, nil
}

// floats reads n little-endian float32 values, growing like bytes.
func (rd *reader) floats(n int64, what string) ([]float32, error) {
	var d []float32
	if rd.known {
		d = make([]float32, 0, n)
	} else {
		d = make([]float32, 0, min(n, growChunk/4))
	}
	scratch := make([]byte, 4*min(n, growChunk/4))
	for int64(len(d)) < n {
		k := min(int64(len(scratch)/4), n-int64(len(d)))
		b := scratch[:4*k]
		if err := rd.full(b, what); err != nil {
			return nil, err
		}
		if len(d)+int(k) > cap(d) {
			// Double rather than let append grow by a quarter, which would
			// allocate about five times the final size in total.
			nd := make([]float32, len(d), min(n, 2*int64(cap(d))))
			copy(nd, d)
			d = nd
		}
		for i := 0; i < len(b); i += 4 {
			d = append(d, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
		}
	}
	return d, nil
}

// skip hashes and discards n bytes.
func (rd *reader) skip(n uint64, what string) error {
	for n > 0 {
		k := min(n, growChunk)
		m, err := io.CopyN(rd.h, rd.r, int64(k))
		rd.off += m
		if err != nil {
			return rd.eofErr(err, what)
		}
		n -= k
	}
	return nil
}

// read reads a file, accepting the major version of supported and skipping
// record kinds unknown to it in files of a newer minor version.
func read(src io.Reader, supported Version) (*File, error) {
	rd := &reader{r: bufio.NewReaderSize(src, 1<<15), h: sha256.New()}
	rd.end, rd.known = inputSize(src)

	var magic [len(Magic)]byte
	if err := rd.full(magic[:], "the magic number"); err != nil {
		if !bytes.HasPrefix([]byte(Magic), magic[:rd.off]) {
			return nil, fmt.Errorf("modelfile: not a model file (no %q magic): %w", Magic, ErrFormat)
		}
		return nil, err
	}
	if string(magic[:]) != Magic {
		return nil, fmt.Errorf("modelfile: not a model file (no %q magic): %w", Magic, ErrFormat)
	}
	var v Version
	var err error
	if v.Major, err = rd.u16("the version"); err != nil {
		return nil, err
	}
	if v.Minor, err = rd.u16("the version"); err != nil {
		return nil, err
	}
	if v.Major != supported.Major {
		return nil, fmt.Errorf("modelfile: format version %v; this reader reads %d.x: %w", v, supported.Major, ErrVersion)
	}

	f := &File{Version: v, tindex: map[string]int{}, blobs: map[string][]byte{}}
	var hdr []byte
	for n := 0; ; n++ {
		start := rd.off
		kind, err := rd.u8("a record")
		if err != nil {
			return nil, err
		}
		nameLen, err := rd.u16("a record")
		if err != nil {
			return nil, err
		}
		if nameLen > MaxNameBytes {
			return nil, fmt.Errorf("modelfile: record at byte %d: name of %d bytes (at most %d): %w", start, nameLen, MaxNameBytes, ErrFormat)
		}
		nb := make([]byte, nameLen)
		if err := rd.full(nb, "a record name"); err != nil {
			return nil, err
		}
		name := string(nb)
		size, err := rd.u64("a record")
		if err != nil {
			return nil, err
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("modelfile: record %q (%q) at byte %d: %s: %w", kind, name, start, fmt.Sprintf(format, args...), ErrFormat)
		}
		if n == 0 && kind != kindHeader {
			return nil, bad("the first record must be the header")
		}
		if kind != kindHeader && kind != kindEnd && kind != kindTensor && kind != kindBlob {
			if v.Minor <= supported.Minor {
				return nil, bad("unknown record kind in a version %v file", v)
			}
			if err := rd.need(size, "a record"); err != nil {
				return nil, err
			}
			if err := rd.skip(size, "a record of a newer format"); err != nil {
				return nil, err
			}
			continue
		}
		switch kind {
		case kindHeader:
			if n != 0 {
				return nil, bad("a second header")
			}
			if name != "" {
				return nil, bad("the header has a name")
			}
			if size > MaxHeaderBytes {
				return nil, bad("header of %d bytes (at most %d)", size, MaxHeaderBytes)
			}
			if err := rd.need(size, "the header"); err != nil {
				return nil, err
			}
			if hdr, err = rd.bytes(int64(size), "the header"); err != nil {
				return nil, err
			}
		case kindTensor:
			if err := checkName(name); err != nil {
				return nil, bad("%v", err)
			}
			if _, dup := f.tindex[name]; dup {
				return nil, bad("a second tensor of that name")
			}
			t, err := rd.tensor(name, size, bad)
			if err != nil {
				return nil, err
			}
			f.tindex[name] = len(f.tensors)
			f.tensors = append(f.tensors, t)
		case kindBlob:
			if err := checkName(name); err != nil {
				return nil, bad("%v", err)
			}
			if _, dup := f.blobs[name]; dup {
				return nil, bad("a second blob of that name")
			}
			if size > MaxPayloadBytes {
				return nil, bad("blob of %d bytes (at most %d)", size, int64(MaxPayloadBytes))
			}
			if err := rd.need(size, fmt.Sprintf("blob %q", name)); err != nil {
				return nil, err
			}
			b, err := rd.bytes(int64(size), fmt.Sprintf("blob %q", name))
			if err != nil {
				return nil, err
			}
			f.blobs[name] = b
			f.bnames = append(f.bnames, name)
		case kindEnd:
			if name != "" || size != 0 {
				return nil, bad("the end record has a name or payload")
			}
		}
		if kind == kindEnd {
			break
		}
	}

	sum := rd.h.Sum(nil)
	var stored [checksumBytes]byte
	if n, err := io.ReadFull(rd.r, stored[:]); err != nil {
		rd.off += int64(n)
		return nil, rd.eofErr(err, "the checksum")
	}
	if !bytes.Equal(sum, stored[:]) {
		return nil, fmt.Errorf("modelfile: content does not match its SHA-256 checksum: %w", ErrChecksum)
	}
	if _, err := rd.r.ReadByte(); err != io.EOF {
		if err != nil {
			return nil, fmt.Errorf("modelfile: after the checksum: %w", err)
		}
		return nil, fmt.Errorf("modelfile: data after the checksum: %w", ErrFormat)
	}
	if err := f.parseHeader(hdr); err != nil {
		return nil, err
	}
	return f, nil
}

// tensor reads a tensor record's payload of size bytes.
func (rd *reader) tensor(name string, size uint64, bad func(string, ...any) error) (*tensor.Tensor, error) {
	what := fmt.Sprintf("tensor %q", name)
	if size > MaxPayloadBytes {
		return nil, bad("tensor of %d bytes (at most %d)", size, int64(MaxPayloadBytes))
	}
	if err := rd.need(size, what); err != nil {
		return nil, err
	}
	rank, err := rd.u8(what)
	if err != nil {
		return nil, err
	}
	if rank > MaxRank {
		return nil, bad("%d dimensions (at most %d)", rank, MaxRank)
	}
	if size < 1+8*uint64(rank) {
		return nil, bad("payload of %d bytes cannot hold %d dimensions", size, rank)
	}
	dataBytes := size - 1 - 8*uint64(rank)
	if dataBytes%4 != 0 {
		return nil, bad("%d data bytes is not a whole number of float32 values", dataBytes)
	}
	shape := make([]int, rank)
	dims := make([]uint64, rank)
	empty := false
	for i := range dims {
		d, err := rd.u64(what)
		if err != nil {
			return nil, err
		}
		if d > MaxPayloadBytes/4 {
			return nil, bad("dimension %d of size %d", i, d)
		}
		dims[i], shape[i] = d, int(d)
		empty = empty || d == 0
	}
	// The product is checked against the data size before each multiply,
	// so it cannot overflow.
	numel := uint64(0)
	if !empty {
		numel = 1
		for _, d := range dims {
			if numel > (dataBytes/4)/d {
				return nil, bad("shape %v does not match %d data bytes", shape, dataBytes)
			}
			numel *= d
		}
	}
	if numel*4 != dataBytes {
		return nil, bad("shape %v does not match %d data bytes", shape, dataBytes)
	}
	data, err := rd.floats(int64(numel), what)
	if err != nil {
		return nil, err
	}
	t := tensor.FromData(data, shape...)
	t.Name = name
	return t, nil
}

// parseHeader decodes the verified header record.
func (f *File) parseHeader(b []byte) error {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("modelfile: header is not a JSON object: %v: %w", err, ErrFormat)
	}
	if env.FormatVersion != f.Version.String() {
		return fmt.Errorf("modelfile: header says format %q, file says %v: %w", env.FormatVersion, f.Version, ErrFormat)
	}
	if env.Header == nil {
		return fmt.Errorf("modelfile: header record has no \"header\": %w", ErrFormat)
	}
	f.Header, f.Created = env.Header, env.Created
	return nil
}
