// Package limittest builds decompression bombs for tests: valid files, small
// on disk, that expand to gigabytes (a deflate stream of a repeated pattern,
// zip entries that share one compressed stream, a tar.gz of blank PNGs, a
// Parquet file of zstd pages of zeros).
//
// The streams are built without compressing their whole content: a chunk of
// about 1 MiB of the pattern is deflated once, flushed to a byte boundary,
// and its compressed bytes repeated; each copy is a run of non-final deflate
// blocks that refers only to its own output, so the concatenation is one
// valid stream. Only the checksums are computed over the full length, so a
// 3 GB bomb takes about a second to make.
package limittest

import (
	"archive/tar"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"io"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Stream is a deflate stream of Head followed by Count copies of Unit, with
// the checksums and length of that content.
type Stream struct {
	Deflate []byte
	CRC32   uint32
	Adler32 uint32
	Size    int64
}

// Repeat deflates head followed by count copies of unit.
func Repeat(head, unit []byte, count int64) Stream {
	var out bytes.Buffer
	seg := func(p []byte) {
		if len(p) == 0 {
			return
		}
		w, _ := flate.NewWriter(&out, flate.BestCompression)
		w.Write(p)
		w.Flush() // a sync flush: non-final, byte-aligned
	}
	seg(head)
	per := int64(1)
	if len(unit) > 0 && len(unit) < 1<<20 {
		per = int64((1 << 20) / len(unit))
	}
	per = min(per, max(count, 1))
	chunk := bytes.Repeat(unit, int(per))
	var chunkZ []byte
	if count >= per && len(unit) > 0 {
		start := out.Len()
		seg(chunk)
		chunkZ = append([]byte(nil), out.Bytes()[start:]...)
		for i := int64(1); i < count/per; i++ {
			out.Write(chunkZ)
		}
	}
	rest := count % per
	if len(unit) > 0 {
		seg(bytes.Repeat(unit, int(rest)))
	}
	out.Write([]byte{0x03, 0x00}) // a final fixed-Huffman block holding only end-of-block

	s := Stream{Deflate: out.Bytes(), Size: int64(len(head)) + count*int64(len(unit))}
	c, a := crc32.NewIEEE(), adler32.New()
	both := io.MultiWriter(c, a)
	both.Write(head)
	if len(unit) > 0 {
		for i := int64(0); i < count/per; i++ {
			both.Write(chunk)
		}
		both.Write(bytes.Repeat(unit, int(rest)))
	}
	s.CRC32, s.Adler32 = c.Sum32(), a.Sum32()
	return s
}

// Zlib wraps s as a zlib stream.
func (s Stream) Zlib() []byte {
	out := []byte{0x78, 0xda}
	out = append(out, s.Deflate...)
	return binary.BigEndian.AppendUint32(out, s.Adler32)
}

// Gzip wraps s as a gzip member.
func (s Stream) Gzip() []byte {
	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255}
	out = append(out, s.Deflate...)
	out = binary.LittleEndian.AppendUint32(out, s.CRC32)
	return binary.LittleEndian.AppendUint32(out, uint32(s.Size))
}

// ZipShared writes a zip archive whose entries, named names, all point at
// one deflated member holding s (the overlapping-entries bomb): the archive
// is the size of one member, its content len(names) times larger. s.Size
// must be below 4 GiB (no zip64).
func ZipShared(names []string, s Stream) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	// Local file header of the first name.
	le(uint32(0x04034b50))
	le(uint16(20))
	le(uint16(0))
	le(uint16(8))
	le(uint32(0)) // time, date
	le(s.CRC32)
	le(uint32(len(s.Deflate)))
	le(uint32(s.Size))
	le(uint16(len(names[0])))
	le(uint16(0))
	b.WriteString(names[0])
	b.Write(s.Deflate)
	cd := b.Len()
	for _, n := range names {
		le(uint32(0x02014b50))
		le(uint16(20))
		le(uint16(20))
		le(uint16(0))
		le(uint16(8))
		le(uint32(0))
		le(s.CRC32)
		le(uint32(len(s.Deflate)))
		le(uint32(s.Size))
		le(uint16(len(n)))
		le(uint16(0)) // extra
		le(uint16(0)) // comment
		le(uint16(0)) // disk
		le(uint16(0)) // internal attributes
		le(uint32(0)) // external attributes
		le(uint32(0)) // local header offset: all the same member
		b.WriteString(n)
	}
	end := b.Len()
	le(uint32(0x06054b50))
	le(uint16(0))
	le(uint16(0))
	le(uint16(len(names)))
	le(uint16(len(names)))
	le(uint32(end - cd))
	le(uint32(cd))
	le(uint16(0))
	return b.Bytes()
}

// NPYHeader is the preamble and header of a version 1.0 NPY array.
func NPYHeader(descr string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	for (10+len(dict)+1)%64 != 0 {
		dict += " "
	}
	dict += "\n"
	out := []byte("\x93NUMPY\x01\x00")
	out = binary.LittleEndian.AppendUint16(out, uint16(len(dict)))
	return append(out, dict...)
}

// NPZ is an .npz archive of len(names) members sharing one array of zeros
// of the given shape and dtype ("<f8"): an archive of one member's
// compressed size whose members together hold len(names) times its bytes.
func NPZ(names []string, descr string, shape []int) []byte {
	size := int64(1)
	for _, d := range shape {
		size *= int64(d)
	}
	var elem int64 = 8
	fmt.Sscanf(descr[2:], "%d", &elem)
	s := Repeat(NPYHeader(descr, shape), []byte{0}, size*elem)
	return ZipShared(names, s)
}

// MatHeader is the 128-byte header of a little-endian level-5 .mat file.
func MatHeader() []byte {
	h := make([]byte, 128)
	copy(h, "MATLAB 5.0 MAT-file, written by limittest")
	for i := 41; i < 116; i++ {
		h[i] = ' '
	}
	binary.LittleEndian.PutUint16(h[124:], 0x0100)
	copy(h[126:], "IM")
	return h
}

// MatDouble is one miCOMPRESSED element holding a rows × cols double
// matrix of zeros named name: 8·rows·cols bytes (below 4 GiB) once inflated.
func MatDouble(name string, rows, cols int) []byte {
	le := binary.LittleEndian
	tag := func(b []byte, typ, size uint32) []byte { return le.AppendUint32(le.AppendUint32(b, typ), size) }
	pad := func(b []byte) []byte {
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		return b
	}
	data := uint32(8 * rows * cols)
	var sub []byte
	sub = tag(sub, 6, 8) // miUINT32 flags
	sub = le.AppendUint32(sub, 6)
	sub = le.AppendUint32(sub, 0)
	sub = tag(sub, 5, 8) // miINT32 dimensions
	sub = le.AppendUint32(sub, uint32(rows))
	sub = le.AppendUint32(sub, uint32(cols))
	sub = tag(sub, 1, uint32(len(name)))
	sub = pad(append(sub, name...))
	sub = tag(sub, 9, data) // miDOUBLE real part, zeros follow
	head := tag(nil, 14, uint32(len(sub))+data)
	head = append(head, sub...)
	z := Repeat(head, []byte{0}, int64(data)).Zlib()
	out := tag(nil, 15, uint32(len(z)))
	return append(out, z...)
}

// IDXHeader is the header of a uint8 IDX array of the given shape.
func IDXHeader(shape []int) []byte {
	out := []byte{0, 0, 8, byte(len(shape))}
	for _, d := range shape {
		out = binary.BigEndian.AppendUint32(out, uint32(d))
	}
	return out
}

// PNG is a w × h 8-bit RGB (colour type 2) or grey (0) PNG, all black.
func PNG(w, h int, rgb bool) []byte {
	le := binary.BigEndian
	chunk := func(b []byte, typ string, p []byte) []byte {
		b = le.AppendUint32(b, uint32(len(p)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(p)
		b = append(b, typ...)
		b = append(b, p...)
		return le.AppendUint32(b, c.Sum32())
	}
	ch, ct := 1, byte(0)
	if rgb {
		ch, ct = 3, 2
	}
	ihdr := le.AppendUint32(nil, uint32(w))
	ihdr = le.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 8, ct, 0, 0, 0)
	raw := int64(h) * int64(1+ch*w) // every row: filter byte 0, then zeros
	z := Repeat(nil, []byte{0}, raw).Zlib()
	out := []byte("\x89PNG\r\n\x1a\n")
	out = chunk(out, "IHDR", ihdr)
	out = chunk(out, "IDAT", z)
	return chunk(out, "IEND", nil)
}

// TarGz is a gzip-compressed tar archive of the named files.
func TarGz(files map[string][]byte, order []string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, name := range order {
		p := files[name]
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(p)), Typeflag: tar.TypeReg})
		tw.Write(p)
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

// parquetZero is the row of ParquetZeros: one DOUBLE column, PLAIN encoded
// (no dictionary), each page compressed with zstd.
type parquetZero struct {
	X float64 `parquet:"x,plain,zstd"`
}

// ParquetZeros returns a Parquet file of rows zeros in one DOUBLE column,
// in row groups of rowsPerGroup and pages of up to pageBytes uncompressed
// bytes: a few hundred kilobytes on disk for rows·8 bytes of values.
func ParquetZeros(rows, rowsPerGroup int64, pageBytes int) []byte {
	var b bytes.Buffer
	w := parquet.NewGenericWriter[parquetZero](&b, parquet.MaxRowsPerRowGroup(rowsPerGroup), parquet.PageBufferSize(pageBytes))
	chunk := make([]parquetZero, 1<<16)
	for left := rows; left > 0; {
		n := min(left, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			panic(err)
		}
		left -= n
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}
