package modelfile

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/oddity-ml/oddity/tensor"
)

// Options are the details of writing a file.
type Options struct {
	// Created is the creation time recorded in the header; the zero time
	// means now. Fixing it makes the output a pure function of the content.
	Created time.Time

	// version is the format version written (tests write other versions).
	version Version
	// extra are additional raw records written before the end record
	// (tests use them to imitate a newer minor version).
	extra []rawRecord
}

type rawRecord struct {
	kind    byte
	name    string
	payload []byte
}

// envelope is the header record's JSON: the container's own fields around
// the caller's header.
type envelope struct {
	FormatVersion string          `json:"format_version"`
	Created       time.Time       `json:"created"`
	Header        json.RawMessage `json:"header"`
}

// Write writes a model file holding header (any JSON-encodable value), the
// tensors (each stored under its Name) and the blobs (in name order) to w,
// recording the current time as its creation time.
func Write(w io.Writer, header any, tensors []*tensor.Tensor, blobs map[string][]byte) error {
	return Options{}.Write(w, header, tensors, blobs)
}

// Write is the package's Write with the options o.
func (o Options) Write(w io.Writer, header any, tensors []*tensor.Tensor, blobs map[string][]byte) error {
	hdr, err := o.headerPayload(header)
	if err != nil {
		return err
	}
	if err := checkContent(tensors, blobs); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	wr := &writer{w: bw, h: sha256.New()}
	v := o.version
	if v == (Version{}) {
		v = current
	}
	wr.bytes([]byte(Magic))
	wr.u16(v.Major)
	wr.u16(v.Minor)
	wr.record(kindHeader, "", uint64(len(hdr)))
	wr.bytes(hdr)
	for _, t := range tensors {
		wr.record(kindTensor, t.Name, tensorPayloadLen(t))
		wr.u8(uint8(len(t.Shape)))
		for _, d := range t.Shape {
			wr.u64(uint64(d))
		}
		wr.floats(t.Data)
	}
	names := make([]string, 0, len(blobs))
	for name := range blobs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		wr.record(kindBlob, name, uint64(len(blobs[name])))
		wr.bytes(blobs[name])
	}
	for _, r := range o.extra {
		wr.record(r.kind, r.name, uint64(len(r.payload)))
		wr.bytes(r.payload)
	}
	wr.record(kindEnd, "", 0)
	if wr.err == nil {
		_, wr.err = bw.Write(wr.h.Sum(nil))
	}
	if wr.err == nil {
		wr.err = bw.Flush()
	}
	if wr.err != nil {
		return fmt.Errorf("modelfile: write: %w", wr.err)
	}
	return nil
}

// headerPayload encodes the header record.
func (o Options) headerPayload(header any) ([]byte, error) {
	user, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("modelfile: header does not encode as JSON: %v: %w", err, ErrInput)
	}
	created := o.Created
	if created.IsZero() {
		created = time.Now()
	}
	v := o.version
	if v == (Version{}) {
		v = current
	}
	b, err := json.Marshal(envelope{FormatVersion: v.String(), Created: created.UTC(), Header: user})
	if err != nil {
		return nil, fmt.Errorf("modelfile: header: %v: %w", err, ErrInput)
	}
	if len(b) > MaxHeaderBytes {
		return nil, fmt.Errorf("modelfile: header of %d bytes exceeds %d: %w", len(b), MaxHeaderBytes, ErrInput)
	}
	return b, nil
}

// checkContent validates names and shapes before anything is written.
func checkContent(tensors []*tensor.Tensor, blobs map[string][]byte) error {
	seen := make(map[string]bool, len(tensors))
	for i, t := range tensors {
		if t == nil {
			return fmt.Errorf("modelfile: tensor %d is nil: %w", i, ErrInput)
		}
		if err := checkName(t.Name); err != nil {
			return fmt.Errorf("modelfile: tensor %d: %v: %w", i, err, ErrInput)
		}
		if seen[t.Name] {
			return fmt.Errorf("modelfile: tensor %q appears twice: %w", t.Name, ErrInput)
		}
		seen[t.Name] = true
		if len(t.Shape) > MaxRank {
			return fmt.Errorf("modelfile: tensor %q has %d dimensions (at most %d): %w", t.Name, len(t.Shape), MaxRank, ErrInput)
		}
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("modelfile: tensor %q has shape %v: %w", t.Name, t.Shape, ErrInput)
			}
		}
		if tensor.Numel(t.Shape) != len(t.Data) {
			return fmt.Errorf("modelfile: tensor %q has shape %v but %d values: %w", t.Name, t.Shape, len(t.Data), ErrInput)
		}
		if tensorPayloadLen(t) > MaxPayloadBytes {
			return fmt.Errorf("modelfile: tensor %q is larger than %d bytes: %w", t.Name, int64(MaxPayloadBytes), ErrInput)
		}
	}
	for name, b := range blobs {
		if err := checkName(name); err != nil {
			return fmt.Errorf("modelfile: blob: %v: %w", err, ErrInput)
		}
		if int64(len(b)) > MaxPayloadBytes {
			return fmt.Errorf("modelfile: blob %q is larger than %d bytes: %w", name, int64(MaxPayloadBytes), ErrInput)
		}
	}
	return nil
}

func tensorPayloadLen(t *tensor.Tensor) uint64 {
	return 1 + 8*uint64(len(t.Shape)) + 4*uint64(len(t.Data))
}

// writer writes little-endian fields through the running hash, keeping the
// first error.
type writer struct {
	w   io.Writer
	h   hash.Hash
	err error
	buf [8]byte
}

func (wr *writer) bytes(p []byte) {
	if wr.err != nil {
		return
	}
	wr.h.Write(p)
	_, wr.err = wr.w.Write(p)
}

func (wr *writer) u8(v uint8) { wr.bytes([]byte{v}) }

func (wr *writer) u16(v uint16) {
	binary.LittleEndian.PutUint16(wr.buf[:2], v)
	wr.bytes(wr.buf[:2])
}

func (wr *writer) u64(v uint64) {
	binary.LittleEndian.PutUint64(wr.buf[:8], v)
	wr.bytes(wr.buf[:8])
}

func (wr *writer) record(kind byte, name string, payloadLen uint64) {
	wr.u8(kind)
	wr.u16(uint16(len(name)))
	wr.bytes([]byte(name))
	wr.u64(payloadLen)
}

// floats writes float32 values in chunks.
func (wr *writer) floats(d []float32) {
	const chunk = 1 << 14
	buf := make([]byte, 4*min(len(d), chunk))
	for len(d) > 0 && wr.err == nil {
		n := min(len(d), chunk)
		for i, v := range d[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		wr.bytes(buf[:4*n])
		d = d[n:]
	}
}

// Save writes a model file to path atomically: to a temporary file in the
// same folder, synced, then renamed over path, so a crash never leaves a
// half-written model under the final name.
func Save(path string, header any, tensors []*tensor.Tensor, blobs map[string][]byte) error {
	return Options{}.Save(path, header, tensors, blobs)
}

// Save is the package's Save with the options o.
func (o Options) Save(path string, header any, tensors []*tensor.Tensor, blobs map[string][]byte) error {
	err := WriteFileAtomic(path, func(w io.Writer) error { return o.Write(w, header, tensors, blobs) })
	if err != nil {
		return fmt.Errorf("modelfile %s: %w", path, err)
	}
	return nil
}

// WriteFileAtomic writes a file at path with write, so that path holds
// either its old content or the whole new one, even across a crash or a
// power cut: the bytes go to a temporary file of a unique name in the same
// folder (hidden, so a folder watcher such as the server's ignores it), which
// is synced to the disk, closed, renamed over path, and the folder is
// synced so the rename itself is durable. Two writers of one path never
// share a temporary file; the temporary file is removed on failure. The
// file is mode 0644, as os.WriteFile would make it under a 022 umask.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	// CreateTemp makes the file private; a model file is an ordinary one.
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// syncDir flushes a folder's entries (a rename) to the disk. File systems
// that cannot sync a folder (EINVAL) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
