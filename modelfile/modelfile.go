// Package modelfile owns oddity's model file: one self-describing,
// checksummed container holding a trained detector. It stores a JSON header
// (method name and version, input schema and preprocessing, training
// metadata: whatever JSON-encodable value the caller supplies), named float32
// tensors (parameters, running statistics, optimiser state) and named byte
// blobs (non-tensor state, such as an isolation forest).
//
// The format is written here by hand rather than with a library because its
// job is narrow and safety-critical: refuse every damaged or hostile file
// with a clear error, stream files of hundreds of megabytes without holding
// them twice, and never let a size field in a file decide how much memory is
// allocated. Formats such as gob, protobuf or safetensors either lack the
// checksum, trust declared sizes, or bring a dependency for little gain.
//
// # Layout
//
// All integers are little-endian.
//
//	magic   "ODDITYMF" (8 bytes)
//	version major uint16, minor uint16
//	records, each: kind uint8 | name length uint16 | name (UTF-8)
//	               | payload length uint64 | payload
//	checksum SHA-256 of every byte before it (32 bytes), then end of file
//
// Record kinds: 'H' the header, first and exactly once, empty name, payload a
// JSON object {"format_version": "1.0", "created": RFC 3339 time, "header":
// caller's value}; 'T' a tensor, payload rank uint8 (at most 8) | rank dims
// uint64 | float32 values row-major; 'B' a blob, payload the bytes; 'E' the
// end, empty name and payload, last. Tensor names are unique among tensors
// and blob names among blobs; names are 1 to 1024 bytes of valid UTF-8.
//
// # Versions
//
// A reader refuses a file whose major version differs from its own
// (ErrVersion). Minor versions only add record kinds: a reader skips (but
// checksums) unknown kinds in a file of a newer minor version and refuses them
// in a file of its own or an older one.
//
// # Values
//
// Tensor values are stored bit for bit, NaN and infinities included: the
// container is a faithful store. LoadParams, which fills a model's
// parameters, refuses non-finite values (ErrNonFinite), since a model with a
// NaN weight only produces NaN scores.
//
// # Limits
//
// Read allocates in proportion to the bytes it has actually read: when the
// input's remaining size is known (a *os.File, bytes.Reader, bytes.Buffer or
// strings.Reader) every declared size is checked against it before any
// allocation; otherwise buffers grow as data arrives. A header is at most
// MaxHeaderBytes, a record payload at most MaxPayloadBytes.
package modelfile

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Magic opens every model file.
const Magic = "ODDITYMF"

// The format version this package writes and reads.
const (
	VersionMajor = 1
	VersionMinor = 0
)

// Limits on what a file may declare.
const (
	// MaxNameBytes is the longest tensor or blob name.
	MaxNameBytes = 1024
	// MaxRank is the largest number of tensor dimensions.
	MaxRank = 8
	// MaxHeaderBytes is the largest JSON header record.
	MaxHeaderBytes = 64 << 20
	// MaxPayloadBytes is the largest tensor or blob record (1 TiB).
	MaxPayloadBytes = 1 << 40
)

// Record kinds.
const (
	kindHeader = 'H'
	kindTensor = 'T'
	kindBlob   = 'B'
	kindEnd    = 'E'
)

const checksumBytes = 32 // SHA-256

// Sentinel errors, for errors.Is.
var (
	// ErrFormat reports a file that is not a well-formed model file: bad
	// magic, unknown record kind, inconsistent sizes, duplicate names,
	// invalid header JSON, trailing data.
	ErrFormat = errors.New("modelfile: malformed file")
	// ErrChecksum reports a file whose content does not match its checksum:
	// it was altered or damaged.
	ErrChecksum = errors.New("modelfile: checksum mismatch")
	// ErrVersion reports a file of a format major version this package
	// cannot read.
	ErrVersion = errors.New("modelfile: unsupported format version")
	// ErrTruncated reports a file that ends early, or declares more data than
	// the input holds.
	ErrTruncated = errors.New("modelfile: truncated file")
	// ErrNotFound reports a tensor or blob that is not in the file.
	ErrNotFound = errors.New("modelfile: no such entry")
	// ErrShape reports a stored tensor whose shape differs from the
	// parameter it is loaded into.
	ErrShape = errors.New("modelfile: shape mismatch")
	// ErrNonFinite reports a NaN or infinite value in a parameter being
	// loaded.
	ErrNonFinite = errors.New("modelfile: non-finite value")
	// ErrInput reports something Write cannot store: a missing or duplicate
	// name, a shape that does not match the data, a header that does not
	// encode as JSON.
	ErrInput = errors.New("modelfile: invalid content")
)

// Version is a format version.
type Version struct {
	Major, Minor uint16
}

// String formats the version as "major.minor".
func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// current is the version written and read.
var current = Version{VersionMajor, VersionMinor}

// checkName validates a tensor or blob name.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case len(name) > MaxNameBytes:
		return fmt.Errorf("name of %d bytes (at most %d)", len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not valid UTF-8", name)
	}
	return nil
}
