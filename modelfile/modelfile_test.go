package modelfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

var fixedTime = time.Date(2024, 6, 7, 12, 30, 0, 123456789, time.UTC)

type testHeader struct {
	Method  string    `json:"method"`
	Version string    `json:"version"`
	Inputs  []int     `json:"inputs"`
	Scale   []float64 `json:"scale"`
}

func named(name string, data []float32, shape ...int) *tensor.Tensor {
	t := tensor.FromData(data, shape...)
	t.Name = name
	return t
}

// sample returns content exercising awkward values: NaN with a payload,
// signed zero, infinities, a subnormal, a scalar and an empty tensor.
func sample() (testHeader, []*tensor.Tensor, map[string][]byte) {
	nan := math.Float32frombits(0x7fc01234)
	tensors := []*tensor.Tensor{
		named("enc.conv1.w", []float32{1, -2, 3.5, float32(math.Inf(1)), float32(math.Inf(-1)), nan}, 2, 1, 3),
		named("enc.bn1.running_var", []float32{float32(math.Copysign(0, -1)), 1e-45, math.MaxFloat32, 0.1}, 4),
		named("step", []float32{42}),
		named("empty", []float32{}, 0, 3),
		named("ünïcode/名前", []float32{7, 8}, 1, 2),
	}
	blobs := map[string][]byte{"iforest": []byte("forest\x00bytes\xff"), "empty": {}}
	return testHeader{Method: "ganomaly", Version: "0.1.0", Inputs: []int{3, 32, 32}, Scale: []float64{0.5, 1e-300}}, tensors, blobs
}

func encode(t *testing.T, o Options, h any, ts []*tensor.Tensor, blobs map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := o.Write(&b, h, ts, blobs); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleFile(t *testing.T) []byte {
	h, ts, bl := sample()
	return encode(t, Options{Created: fixedTime}, h, ts, bl)
}

// opaque hides a reader's size, so Read takes its grow-as-you-go path.
type opaque struct{ r io.Reader }

func (o opaque) Read(p []byte) (int, error) { return o.r.Read(p) }

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestRoundTrip(t *testing.T) {
	h, ts, bl := sample()
	raw := sampleFile(t)
	for name, r := range map[string]io.Reader{
		"bytes.Reader": bytes.NewReader(raw),
		"opaque":       opaque{bytes.NewReader(raw)},
		"half reads":   iotest.HalfReader(opaque{bytes.NewReader(raw)}),
	} {
		f, err := Read(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Version != (Version{VersionMajor, VersionMinor}) || !f.Created.Equal(fixedTime) {
			t.Errorf("%s: version %v created %v", name, f.Version, f.Created)
		}
		var got testHeader
		if err := f.DecodeHeader(&got); err != nil || got.Method != h.Method || !slices.Equal(got.Inputs, h.Inputs) || !slices.Equal(got.Scale, h.Scale) {
			t.Errorf("%s: header %+v, %v", name, got, err)
		}
		all := f.Tensors()
		if len(all) != len(ts) {
			t.Fatalf("%s: %d tensors, want %d", name, len(all), len(ts))
		}
		for i, want := range ts {
			g, err := f.Tensor(want.Name)
			if err != nil {
				t.Fatal(err)
			}
			if all[i] != g || !tensor.SameShape(g.Shape, want.Shape) || !sameBits(g.Data, want.Data) {
				t.Errorf("%s: tensor %q: %v %v, want %v %v", name, want.Name, g.Shape, g.Data, want.Shape, want.Data)
			}
		}
		for k, want := range bl {
			g, err := f.Blob(k)
			if err != nil || !bytes.Equal(g, want) {
				t.Errorf("%s: blob %q = %q, %v", name, k, g, err)
			}
		}
		if !slices.Equal(f.BlobNames(), []string{"empty", "iforest"}) {
			t.Errorf("blob names %v", f.BlobNames())
		}
		if _, err := f.Tensor("nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing tensor: %v", err)
		}
		if _, err := f.Blob("nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing blob: %v", err)
		}
		// Writing what was read reproduces the file byte for byte.
		var hdr any
		if err := f.DecodeHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		blobs := map[string][]byte{}
		for _, k := range f.BlobNames() {
			blobs[k], _ = f.Blob(k)
		}
		again := encode(t, Options{Created: f.Created}, f.Header, f.Tensors(), blobs)
		if !bytes.Equal(again, raw) {
			t.Errorf("%s: rewriting the file changed it", name)
		}
	}
	if !bytes.Equal(sampleFile(t), raw) {
		t.Error("same content and time, different bytes")
	}
}

// TestLayout checks the documented layout on a hand-built minimal file:
// magic, version, header record, end record, SHA-256.
func TestLayout(t *testing.T) {
	raw := encode(t, Options{Created: fixedTime}, nil, []*tensor.Tensor{named("s", []float32{1.5})}, nil)
	if string(raw[:8]) != "ODDITYMF" || binary.LittleEndian.Uint16(raw[8:]) != 1 || binary.LittleEndian.Uint16(raw[10:]) != 0 {
		t.Fatalf("prefix % x", raw[:12])
	}
	if raw[12] != 'H' || binary.LittleEndian.Uint16(raw[13:]) != 0 {
		t.Fatalf("header record % x", raw[12:15])
	}
	hl := int(binary.LittleEndian.Uint64(raw[15:]))
	js := string(raw[23 : 23+hl])
	if want := `{"format_version":"1.0","created":"2024-06-07T12:30:00.123456789Z","header":null}`; js != want {
		t.Fatalf("header JSON %s, want %s", js, want)
	}
	p := 23 + hl
	// tensor record: 'T', name "s", payload 1 (rank 0) + 4
	want := []byte{'T', 1, 0, 's', 5, 0, 0, 0, 0, 0, 0, 0, 0}
	want = binary.LittleEndian.AppendUint32(want, math.Float32bits(1.5))
	want = append(want, 'E', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	if !bytes.Equal(raw[p:p+len(want)], want) {
		t.Fatalf("records % x, want % x", raw[p:p+len(want)], want)
	}
	body := raw[:len(raw)-32]
	if len(body) != p+len(want) {
		t.Fatalf("file has %d bytes before the checksum, want %d", len(body), p+len(want))
	}
	// The checksum is SHA-256 of the body, computed independently.
	if fmt.Sprintf("%x", raw[len(raw)-32:]) != sha256Hex(body) {
		t.Fatal("checksum is not SHA-256 of the body")
	}
}

// TestEveryByteFlip: changing any single byte of a small file is detected;
// inside tensor data and blobs it is reported as a checksum mismatch.
func TestEveryByteFlip(t *testing.T) {
	raw := sampleFile(t)
	// Byte ranges whose content does not affect parsing: float data and blob bytes.
	_, ts, _ := sample()
	var payload [][2]int
	for _, tt := range ts[:1] {
		enc := make([]byte, 0, 4*len(tt.Data))
		for _, v := range tt.Data {
			enc = binary.LittleEndian.AppendUint32(enc, math.Float32bits(v))
		}
		i := bytes.Index(raw, enc)
		payload = append(payload, [2]int{i, i + len(enc)})
	}
	i := bytes.Index(raw, []byte("forest\x00bytes"))
	payload = append(payload, [2]int{i, i + 12})
	for off := range raw {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(raw)
			b[off] ^= x
			_, err := Read(bytes.NewReader(b))
			if err == nil {
				t.Fatalf("flipping byte %d by %#x went unnoticed", off, x)
			}
			if !isSentinel(err) {
				t.Fatalf("byte %d: error %v wraps no sentinel", off, err)
			}
			for _, r := range payload {
				if off >= r[0] && off < r[1] && !errors.Is(err, ErrChecksum) {
					t.Fatalf("byte %d in a payload: error %v, want ErrChecksum", off, err)
				}
			}
		}
	}
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrFormat, ErrChecksum, ErrVersion, ErrTruncated} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// TestEveryTruncation: every proper prefix of a file is refused as
// truncated, whether or not the reader can tell the input's size.
func TestEveryTruncation(t *testing.T) {
	raw := sampleFile(t)
	for n := 0; n < len(raw); n++ {
		for _, r := range []io.Reader{bytes.NewReader(raw[:n]), opaque{bytes.NewReader(raw[:n])}} {
			if _, err := Read(r); !errors.Is(err, ErrTruncated) {
				t.Fatalf("file cut to %d of %d bytes (%T): error %v, want ErrTruncated", n, len(raw), r, err)
			}
		}
	}
	if _, err := Read(bytes.NewReader(append(bytes.Clone(raw), 0))); !errors.Is(err, ErrFormat) {
		t.Errorf("trailing byte: %v, want ErrFormat", err)
	}
	if _, err := Read(strings.NewReader("PK\x03\x04 a zip file, not a model")); !errors.Is(err, ErrFormat) {
		t.Errorf("foreign file: %v, want ErrFormat", err)
	}
	if _, err := Read(strings.NewReader("P")); !errors.Is(err, ErrFormat) {
		t.Errorf("one foreign byte: %v, want ErrFormat", err)
	}
}

func TestVersions(t *testing.T) {
	h, ts, bl := sample()
	for _, v := range []Version{{2, 0}, {VersionMajor + 1, 3}, {0, 9}} {
		raw := encode(t, Options{Created: fixedTime, version: v}, h, ts, bl)
		if _, err := Read(bytes.NewReader(raw)); !errors.Is(err, ErrVersion) {
			t.Errorf("version %v: error %v, want ErrVersion", v, err)
		}
	}
	// An older minor version is read by a newer reader.
	old := encode(t, Options{Created: fixedTime, version: Version{1, 0}}, h, ts, bl)
	f, err := read(bytes.NewReader(old), Version{1, 3})
	if err != nil || f.Version != (Version{1, 0}) || len(f.Tensors()) != len(ts) {
		t.Fatalf("1.0 file with a 1.3 reader: %v", err)
	}
	// A newer minor version's extra record kinds are skipped...
	extra := []rawRecord{{kind: 'Q', name: "quantisation", payload: bytes.Repeat([]byte{9}, 100)}, {kind: 'z', payload: nil}}
	newer := encode(t, Options{Created: fixedTime, version: Version{1, 4}, extra: extra}, h, ts, bl)
	f, err = Read(bytes.NewReader(newer))
	if err != nil || f.Version != (Version{1, 4}) {
		t.Fatalf("1.4 file: %v", err)
	}
	if g, _ := f.Tensor("enc.conv1.w"); g == nil || !sameBits(g.Data, ts[0].Data) {
		t.Error("1.4 file: tensor lost")
	}
	// ...but still checksummed,
	b := bytes.Clone(newer)
	b[bytes.Index(b, []byte("quantisation"))+20] ^= 1
	if _, err := Read(bytes.NewReader(b)); !errors.Is(err, ErrChecksum) {
		t.Errorf("altered skipped record: %v, want ErrChecksum", err)
	}
	// and refused in a file of the reader's own version.
	same := encode(t, Options{Created: fixedTime, extra: extra}, h, ts, bl)
	if _, err := Read(bytes.NewReader(same)); !errors.Is(err, ErrFormat) {
		t.Errorf("unknown record in a 1.0 file: %v, want ErrFormat", err)
	}
}

// TestMalformedRecords writes structurally wrong files (with valid
// checksums) and expects ErrFormat.
func TestMalformedRecords(t *testing.T) {
	h, ts, _ := sample()
	tensorRec := func(rank uint8, dims []uint64, nvals int) []byte {
		p := []byte{rank}
		for _, d := range dims {
			p = binary.LittleEndian.AppendUint64(p, d)
		}
		return append(p, make([]byte, 4*nvals)...)
	}
	cases := map[string][]rawRecord{
		"duplicate tensor":     {{kindTensor, "step", tensorRec(0, nil, 1)}},
		"duplicate blob":       {{kindBlob, "b", nil}, {kindBlob, "b", nil}},
		"second header":        {{kindHeader, "", []byte(`{}`)}},
		"empty name":           {{kindTensor, "", tensorRec(0, nil, 1)}},
		"bad UTF-8 name":       {{kindBlob, "\xff\xfe", nil}},
		"shape/data mismatch":  {{kindTensor, "m", tensorRec(2, []uint64{2, 3}, 5)}},
		"rank too high":        {{kindTensor, "r", tensorRec(9, make([]uint64, 9), 0)}},
		"huge dims":            {{kindTensor, "h", tensorRec(2, []uint64{1 << 37, 1 << 37}, 1)}},
		"overflowing dims":     {{kindTensor, "o", tensorRec(3, []uint64{1 << 30, 1 << 30, 1 << 30}, 0)}},
		"odd data bytes":       {{kindTensor, "d", append(tensorRec(1, []uint64{1}, 1), 0)}},
		"payload < dims":       {{kindTensor, "p", []byte{3, 0}}},
		"end record with data": {{kindEnd, "", []byte{1}}},
	}
	for name, extra := range cases {
		raw := encode(t, Options{Created: fixedTime, extra: extra}, h, ts, nil)
		if _, err := Read(bytes.NewReader(raw)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v, want ErrFormat", name, err)
		}
	}
	// A header that is not the envelope object (checksum valid).
	raw := encode(t, Options{Created: fixedTime}, h, nil, nil)
	i := bytes.Index(raw, []byte(`"format_version":"1.0"`))
	raw[i+19] = '9'
	raw = resum(raw)
	if _, err := Read(bytes.NewReader(raw)); !errors.Is(err, ErrFormat) {
		t.Errorf("header disagreeing with the binary version: %v, want ErrFormat", err)
	}
	// Write refuses what it cannot store.
	for name, c := range map[string]struct {
		ts []*tensor.Tensor
		bl map[string][]byte
		h  any
	}{
		"duplicate":      {ts: []*tensor.Tensor{named("a", []float32{1}), named("a", []float32{2})}},
		"unnamed":        {ts: []*tensor.Tensor{named("", []float32{1})}},
		"nil":            {ts: []*tensor.Tensor{nil}},
		"shape mismatch": {ts: []*tensor.Tensor{{Name: "x", Shape: []int{2, 2}, Data: []float32{1}}}},
		"blob name":      {bl: map[string][]byte{"": {1}}},
		"header":         {h: func() {}},
		"long name":      {ts: []*tensor.Tensor{named(strings.Repeat("n", MaxNameBytes+1), []float32{1})}},
	} {
		if err := Write(io.Discard, c.h, c.ts, c.bl); !errors.Is(err, ErrInput) {
			t.Errorf("Write with %s: %v, want ErrInput", name, err)
		}
	}
}

// resum recomputes a file's checksum after an edit.
func resum(raw []byte) []byte {
	body := raw[:len(raw)-32]
	sum, _ := hexBytes(sha256Hex(body))
	return append(bytes.Clone(body), sum...)
}

// TestAbsurdSizes: a file declaring a terabyte tensor is refused without
// allocating anywhere near that, with or without a known input size.
func TestAbsurdSizes(t *testing.T) {
	raw := encode(t, Options{Created: fixedTime}, nil, nil, nil)
	cut := len(raw) - 32 - 11 // before the end record
	var rec []byte
	rec = append(rec, 'T', 1, 0, 'x')
	rec = binary.LittleEndian.AppendUint64(rec, 1+8+(1<<40-16))
	rec = append(rec, 1)
	rec = binary.LittleEndian.AppendUint64(rec, (1<<40-16)/4)
	rec = append(rec, bytes.Repeat([]byte{0x42}, 5000)...)
	bad := append(bytes.Clone(raw[:cut]), rec...)
	blob := append(bytes.Clone(raw[:cut]), 'B', 1, 0, 'b')
	blob = binary.LittleEndian.AppendUint64(blob, 1<<39)
	blob = append(blob, bytes.Repeat([]byte{1}, 3000)...)
	for name, data := range map[string][]byte{"tensor": bad, "blob": blob} {
		for _, r := range []io.Reader{bytes.NewReader(data), opaque{bytes.NewReader(data)}} {
			alloc := allocated(func() {
				if _, err := Read(r); !errors.Is(err, ErrTruncated) {
					t.Errorf("%s (%T): error %v, want ErrTruncated", name, r, err)
				}
			})
			if alloc > 1<<20 {
				t.Errorf("%s (%T): reading %d bytes allocated %d bytes", name, r, len(data), alloc)
			}
		}
	}
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestLargeStreaming(t *testing.T) {
	n := 1<<20 + 12345 // more than one chunk, not a multiple of one
	big := make([]float32, n)
	for i := range big {
		big[i] = float32(i)*0.5 - 3
	}
	ts := []*tensor.Tensor{named("big", big, n), named("small", []float32{1, 2}, 2)}
	blob := bytes.Repeat([]byte("abc"), 100000)
	path := filepath.Join(t.TempDir(), "model.oddity")
	if err := (Options{Created: fixedTime}).Save(path, map[string]string{"method": "devnet"}, ts, map[string][]byte{"forest": blob}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	for name, open := range map[string]func() (*File, error){
		"Load":   func() (*File, error) { return Load(path) },
		"opaque": func() (*File, error) { return Read(opaque{bytes.NewReader(raw)}) },
	} {
		var f *File
		alloc := allocated(func() {
			var err error
			if f, err = open(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		})
		g, _ := f.Tensor("big")
		b, _ := f.Blob("forest")
		if !sameBits(g.Data, big) || !bytes.Equal(b, blob) {
			t.Fatalf("%s: content changed", name)
		}
		// Known size: about one copy of the file; unknown: a few.
		limit := uint64(len(raw)) * 3 / 2
		if name == "opaque" {
			limit = uint64(len(raw)) * 4
		}
		if alloc > limit {
			t.Errorf("%s: reading %d bytes allocated %d", name, len(raw), alloc)
		}
		t.Logf("%s: %d-byte file, %d bytes allocated", name, len(raw), alloc)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("saved with mode %v", fi.Mode())
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("Save left %d files behind", len(entries))
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Load of a missing file: %v", err)
	}
	b := bytes.Clone(raw)
	b[len(b)/2] ^= 4
	os.WriteFile(path, b, 0o644)
	if _, err := Load(path); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load of a damaged file: %v", err)
	}
}

func TestLoadParams(t *testing.T) {
	w := tensor.Param("fc.w", 2, 3)
	bias := tensor.Param("fc.b", 2)
	for i := range w.Data {
		w.Data[i] = float32(i) + 0.25
	}
	bias.Data[1] = -1
	var buf bytes.Buffer
	enc := WithPrefix("q/", []*tensor.Tensor{w, bias})
	if err := Write(&buf, nil, append(enc, named("bad", []float32{1, float32(math.NaN())}, 2)), nil); err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	w2, b2 := tensor.Param("fc.w", 2, 3), tensor.Param("fc.b", 2)
	if err := f.LoadParams(WithPrefix("q/", []*tensor.Tensor{w2, b2})); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w2.Data, w.Data) || !slices.Equal(b2.Data, bias.Data) {
		t.Fatalf("loaded %v %v", w2.Data, b2.Data)
	}

	wrong := tensor.Param("fc.w", 3, 2)
	other := tensor.Param("fc.b", 2)
	err = f.LoadParams(WithPrefix("q/", []*tensor.Tensor{other, wrong}))
	if !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), `"q/fc.w"`) || !strings.Contains(err.Error(), "[2 3]") || !strings.Contains(err.Error(), "[3 2]") {
		t.Errorf("shape mismatch error: %v", err)
	}
	if other.Data[0] != 0 {
		t.Error("a failed LoadParams changed a parameter")
	}
	if err := f.LoadParams([]*tensor.Tensor{tensor.Param("fc.w", 2, 3)}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"fc.w"`) {
		t.Errorf("missing parameter: %v", err)
	}
	if err := f.LoadParams([]*tensor.Tensor{named("bad", make([]float32, 2), 2)}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN parameter: %v", err)
	}
}

// TestOptimizerState stores an optimiser's state beside the parameters and
// resumes it.
func TestOptimizerState(t *testing.T) {
	w := tensor.Param("w", 3)
	o, err := optim.NewAdam([]*tensor.Tensor{w}, optim.AdamDefaults())
	if err != nil {
		t.Fatal(err)
	}
	copy(w.Grad(), []float32{1, -2, 3})
	o.Step()
	var buf bytes.Buffer
	if err := Write(&buf, nil, append([]*tensor.Tensor{w}, StateTensors("optim/", o.State())...), nil); err != nil {
		t.Fatal(err)
	}
	f, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w2 := tensor.Param("w", 3)
	o2, _ := optim.NewAdam([]*tensor.Tensor{w2}, optim.AdamDefaults())
	if err := f.LoadParams([]*tensor.Tensor{w2}); err != nil {
		t.Fatal(err)
	}
	if err := o2.SetState(f.State("optim/")); err != nil {
		t.Fatal(err)
	}
	copy(w.Grad(), []float32{0.5, 0.5, 0.5})
	copy(w2.Grad(), []float32{0.5, 0.5, 0.5})
	o.Step()
	o2.Step()
	if !slices.Equal(w.Data, w2.Data) {
		t.Fatalf("resumed %v, original %v", w2.Data, w.Data)
	}
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzRead seed files")

// corpusSeeds are the fuzz seeds: valid files of several shapes and a few
// near misses.
func corpusSeeds(t testing.TB) map[string][]byte {
	h, ts, bl := sample()
	w := func(o Options, h any, ts []*tensor.Tensor, bl map[string][]byte) []byte {
		var b bytes.Buffer
		if err := o.Write(&b, h, ts, bl); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	full := w(Options{Created: fixedTime}, h, ts, bl)
	return map[string][]byte{
		"full":        full,
		"minimal":     w(Options{Created: fixedTime}, nil, nil, nil),
		"one-tensor":  w(Options{Created: fixedTime}, "x", ts[2:3], nil),
		"blob-only":   w(Options{Created: fixedTime}, map[string]int{"k": 1}, nil, map[string][]byte{"b": []byte("data")}),
		"newer-minor": w(Options{Created: fixedTime, version: Version{1, 2}, extra: []rawRecord{{kind: 'X', name: "x", payload: []byte{1, 2, 3}}}}, h, ts[:1], nil),
		"truncated":   full[:len(full)/2],
		"magic-only":  []byte(Magic),
	}
}

// TestFuzzCorpus keeps testdata/fuzz/FuzzRead in step with the format
// (rewritten with -update-corpus).
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	for name, data := range corpusSeeds(t) {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		path := filepath.Join(dir, name)
		if *updateCorpus {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("fuzz seed %s is missing or stale (run go test ./modelfile -run FuzzCorpus -update-corpus): %v", path, err)
		}
	}
}

// FuzzRead: no input makes Read panic, hang, return an error that wraps no
// sentinel, or allocate more than a small multiple of the input; what it
// accepts survives a write and re-read unchanged.
func FuzzRead(f *testing.F) {
	for _, s := range corpusSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		bound := uint64(8*len(data) + 1<<20)
		var file *File
		for _, r := range []io.Reader{bytes.NewReader(data), opaque{bytes.NewReader(data)}} {
			var err error
			alloc := allocated(func() { file, err = Read(r) })
			if alloc > bound {
				t.Fatalf("%T: %d-byte input allocated %d bytes", r, len(data), alloc)
			}
			if err != nil && !isSentinel(err) {
				t.Fatalf("%T: error %v wraps no sentinel", r, err)
			}
		}
		if file == nil {
			return
		}
		blobs := map[string][]byte{}
		for _, k := range file.BlobNames() {
			blobs[k], _ = file.Blob(k)
		}
		var buf bytes.Buffer
		if err := (Options{Created: file.Created}).Write(&buf, file.Header, file.Tensors(), blobs); err != nil {
			t.Fatalf("rewriting an accepted file: %v", err)
		}
		again, err := Read(&buf)
		if err != nil {
			t.Fatalf("re-reading a rewritten file: %v", err)
		}
		for _, x := range file.Tensors() {
			y, err := again.Tensor(x.Name)
			if err != nil || !tensor.SameShape(x.Shape, y.Shape) || !sameBits(x.Data, y.Data) {
				t.Fatalf("tensor %q changed on rewrite", x.Name)
			}
		}
	})
}

func sha256Hex(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

func hexBytes(s string) ([]byte, error) { return hex.DecodeString(s) }

// BenchmarkReadWrite64MB measures streaming a 64 MiB tensor through Write
// and Read (in memory).
func BenchmarkReadWrite64MB(b *testing.B) {
	big := make([]float32, 16<<20)
	for i := range big {
		big[i] = float32(i)
	}
	ts := []*tensor.Tensor{named("big", big, len(big))}
	var buf bytes.Buffer
	b.SetBytes(2 * 4 * int64(len(big)))
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, nil, ts, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := Read(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

type failWriter struct{ left int }

var errBoom = errors.New("disk on fire")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errBoom
	}
	w.left -= len(p)
	return len(p), nil
}

// TestIOErrors: I/O errors are passed on (wrapped), not mistaken for a
// damaged file.
func TestIOErrors(t *testing.T) {
	h, ts, bl := sample()
	raw := sampleFile(t)
	for _, n := range []int{0, 10, len(raw) / 2, len(raw) - 1} {
		if err := (Options{Created: fixedTime}).Write(&failWriter{left: n}, h, ts, bl); !errors.Is(err, errBoom) {
			t.Errorf("writer failing after %d bytes: %v", n, err)
		}
	}
	for _, n := range []int{5, 100, len(raw) - 10} {
		_, err := Read(io.MultiReader(bytes.NewReader(raw[:n]), iotest.ErrReader(errBoom)))
		if !errors.Is(err, errBoom) || errors.Is(err, ErrTruncated) {
			t.Errorf("reader failing after %d bytes: %v", n, err)
		}
	}
	if err := Save(filepath.Join(t.TempDir(), "no", "such", "dir"), h, ts, bl); err == nil {
		t.Error("Save into a missing folder succeeded")
	}
	path := filepath.Join(t.TempDir(), "m")
	if err := Save(path, h, ts, bl); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var hdr testHeader
	if err := f.DecodeHeader(&hdr); err != nil || hdr.Method != "ganomaly" {
		t.Errorf("header %+v, %v", hdr, err)
	}
	if time.Since(f.Created) > time.Minute || f.Created.Location() != time.UTC {
		t.Errorf("created %v, want about now in UTC", f.Created)
	}
	if err := f.DecodeHeader(&[]int{}); err == nil {
		t.Error("decoding an object header into a slice succeeded")
	}
}
