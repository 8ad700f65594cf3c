// Package imagefolder reads images as people keep them into data sets of
// float32 values in [0,1] with shape [C,H,W]. Detect tells the layouts apart.
//
// # Class folders
//
// LoadSplits, Load and ReadTar read labelled images laid out one directory
// per class (root/<class>/*.png|jpg|jpeg, optionally root/<split>/<class>/...),
// from a directory or straight from a tar or tar.gz archive in one streaming
// pass, and the package registers the layout with package data (directories,
// .tar, .tar.gz, .tgz). Images are decoded in parallel with the standard
// library's image/jpeg and image/png, optionally converted to one grey channel
// and resized (golang.org/x/image/draw). Classes are numbered in name order
// over the whole folder or archive, so the splits loaded separately agree on
// labels. Hidden entries (names starting with '.', such as macOS "._x.jpg"
// files) and non-image files are skipped.
//
// # Flat folders and MVTec AD
//
// LoadFlat reads a folder of normal images (or one image file) of any sizes,
// grey and colour mixed; LoadMVTec reads the MVTec AD layout (train/good,
// test/good, test/<defect>, ground_truth/<defect>/<name>_mask.png). data.Load
// reads a flat folder or a single PNG or JPEG file through LoadFlat (Grey
// gives one channel, else three; Width = Height gives the side).
//
// Images are PNG or JPEG files: those with a .png, .jpg or .jpeg extension
// (any case) and any other file that starts with a PNG or JPEG signature.
// Other files and sub-folders are skipped with a note (FlatOptions.Note),
// hidden entries silently. An image that does not decode is an error naming
// the file, and so is a folder without images (data.ErrNoData).
//
// Every image is brought to one shape C×S×S, exactly so:
//
//  1. Limits. More than FlatOptions.MaxImages images is an error. Each
//     image's header is read first (image.DecodeConfig); an image over
//     MaxPixels (width × height) or over MaxImageBytes is refused before it
//     is decoded, and so is a result of more than MaxValues float32 values
//     (by default limit.MaxDecoded / 4).
//  2. Side. S is FlatOptions.Side, or else the median over images (the lower
//     one for an even count) of max(width, height), rounded to the nearest
//     power of two on a log scale (m rounds up from p to 2p when m > p√2),
//     then capped at MaxSide (default 256): sides 28 and 32 give 32, 100
//     gives 128, 900 or 1024 give 256.
//  3. Placement. With Fit "resize" (the default) the image is stretched to
//     S×S, aspect ratio not kept. With Fit "pad" it is scaled so that its
//     longer side is S, the shorter to round(short·S/long) (at least 1), and
//     drawn at offset (⌊(S−w')/2⌋, ⌊(S−h')/2⌋) on a black (0) canvas. Scaling
//     is bilinear (golang.org/x/image/draw.BiLinear: pixel centres at
//     half-integers, edges clamped), or nearest neighbour with
//     FlatOptions.Interp = data.Nearest; an image already of the placed size
//     is copied unchanged. Transparent pixels are composited onto black.
//  4. Channels. FlatOptions.Channels, or else 3 when any placed image has a
//     pixel whose red, green and blue are not all equal, and 1 otherwise.
//     With 3 channels grey images repeat their value in R, G and B; with 1
//     colour images become ITU-R 601 luma, round((299R + 587G + 114B)/1000).
//  5. Values. Each 8-bit value v becomes v/255 (16-bit images are reduced
//     to their high byte), stored channel-major.
//
// # Totals
//
// Each image is bounded on its own (MaxPixels, MaxImageBytes), and a folder
// or archive as a whole by the limits in force (package data/limit): the
// float32 values of all images together by MaxDecoded (4 bytes a value),
// counted from each image's header before it is decoded, so an archive of
// many blank images, each under MaxPixels, is refused at the first image
// that would pass the total; and the bytes inflated from a tar.gz by
// MaxDecompressed. Images being decoded at once are bounded too: their
// working memory (encoded bytes, decoded pixels at up to 8 bytes each, the
// result) is kept under MaxDecoded / 2, decoding one at a time when they are
// large, so parallel decoding does not multiply the peak.
//
// Samples are in file-name order; LoadFlat returns the names with the data
// set. Masks go through the same placement with nearest-neighbour sampling
// and become 0 (grey level below 128) or 1.
package imagefolder

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers the JPEG decoder
	_ "image/png"  // registers the PNG decoder
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"golang.org/x/image/draw"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/limit"
)

func init() {
	data.RegisterFormat(data.Format{
		Name:       "imagefolder",
		Extensions: []string{".tar", ".tar.gz", ".tgz", ".png", ".jpg", ".jpeg"},
		Magic:      []string{"\x89PNG\r\n\x1a\n", "\xff\xd8\xff"},
		Match:      isTar,
		Dir:        true,
		Load:       Load,
		Inspect:    inspect,
	})
}

// isTar recognises a POSIX/GNU tar header by its magic at byte 257.
func isTar(head []byte) bool {
	return len(head) >= 263 && string(head[257:262]) == "ustar"
}

// Limits on one image, checked before it is decoded.
const (
	// MaxImageBytes caps an image file's size.
	MaxImageBytes = 256 << 20
	// MaxPixels caps an image's width × height.
	MaxPixels = 1 << 26
)

// item is one image: where it sits and, once decoded, its pixels.
type item struct {
	split, class, name string
	src                []byte // encoded bytes (archives)
	file               string // file to read (directories)
	cw, ch             int    // size from the header
	cost               int64  // working memory while decoding (see gate)
	pix                []uint8
	w, h               int
	format             string
}

func isImage(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// place splits a slash-separated relative path into split and class; ok is
// false for entries that are not images in a class directory.
func place(rel string) (split, class string, ok bool) {
	rel = path.Clean(strings.TrimPrefix(rel, "./"))
	parts := strings.Split(rel, "/")
	if len(parts) < 2 || !isImage(rel) {
		return "", "", false
	}
	for _, p := range parts {
		if strings.HasPrefix(p, ".") || p == "" {
			return "", "", false
		}
	}
	class = parts[len(parts)-2]
	if len(parts) >= 3 {
		split = parts[len(parts)-3]
	}
	return split, class, true
}

// pipeline decodes items in parallel as a producer hands them over. The
// producer reads each image's header and counts the image against the
// decoded-data budget before handing it over, and waits at the gate while
// the images being decoded hold too much working memory.
type pipeline struct {
	o       data.Options
	jobs    chan *item
	done    chan struct{}
	once    sync.Once
	err     error
	wg      sync.WaitGroup
	items   []*item
	classes map[string]bool
	splits  map[string]bool
	decoded *limit.Budget
	gate    *gate
}

func newPipeline(o data.Options) *pipeline {
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	lim := limit.Get()
	p := &pipeline{o: o, jobs: make(chan *item, 4*workers), done: make(chan struct{}),
		classes: map[string]bool{}, splits: map[string]bool{},
		decoded: lim.Decoded(), gate: newGate(lim.Decoded().Max / 2)}
	for i := 0; i < workers; i++ {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for it := range p.jobs {
				select {
				case <-p.done:
				default:
					if err := decode(it, p.o); err != nil {
						p.fail(err)
					}
				}
				it.src = nil
				p.gate.release(it.cost)
			}
		}()
	}
	return p
}

func (p *pipeline) fail(err error) {
	p.once.Do(func() { p.err = err; close(p.done); p.gate.stop() })
}

// add records an entry's class and split and, when the split is wanted,
// checks its header against the limits and queues it; it returns false
// once decoding has failed.
func (p *pipeline) add(it *item) bool {
	p.classes[it.class] = true
	if p.o.Split != "" && it.split != p.o.Split {
		return true
	}
	if err := p.admit(it); err != nil {
		p.fail(err)
		return false
	}
	p.splits[it.split] = true
	p.items = append(p.items, it)
	if !p.gate.acquire(it.cost) {
		return false
	}
	select {
	case p.jobs <- it:
		return true
	case <-p.done:
		p.gate.release(it.cost)
		return false
	}
}

// admit reads the item's header (unless a scan did), refuses it over the
// per-image caps, and counts it against the decoded-data budget.
func (p *pipeline) admit(it *item) error {
	if it.cost > 0 {
		return nil
	}
	cfg, err := probeItem(it)
	if err != nil {
		return err
	}
	it.cost, err = charge(it.name, cfg, int64(len(it.src)), p.o, p.decoded)
	return err
}

// charge checks an image's header against MaxPixels and the limits in
// force: the float32 values it becomes are taken from dec (MaxDecoded), and
// the working memory of decoding it (the encoded bytes, the decoded pixels
// at the size its colour model takes, the resize canvas, the channel-major
// copy) may not pass half of MaxDecoded. It returns that working memory.
func charge(name string, cfg image.Config, encoded int64, o data.Options, dec *limit.Budget) (int64, error) {
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return 0, fmt.Errorf("%s: size %dx%d outside 1..%d pixels: %w", name, cfg.Width, cfg.Height, MaxPixels, data.ErrMalformed)
	}
	c := int64(3)
	if o.Grey {
		c = 1
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	out := pixels
	work := encoded + bytesPerPixel(cfg.ColorModel)*pixels
	if o.Width > 0 && o.Height > 0 {
		out = int64(o.Width) * int64(o.Height)
		work += 4 * out
	}
	work += c * out
	if half := dec.Max / 2; work > half {
		return 0, fmt.Errorf("%s (%dx%d): %w", name, cfg.Width, cfg.Height, limit.Exceeded("the working memory of decoding it", work, half, "MaxDecoded / 2"))
	}
	if err := dec.Take(4 * c * out); err != nil {
		return 0, fmt.Errorf("%s (%dx%d): %w", name, cfg.Width, cfg.Height, err)
	}
	return work, nil
}

// bytesPerPixel is what image.Decode's result takes per pixel for a
// header's colour model (8, the most, when the model is not known).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// gate bounds the working memory of the images being decoded at once: an
// image waits while others hold more than max together; one larger than
// max on its own is decoded alone.
type gate struct {
	mu      sync.Mutex
	cond    *sync.Cond
	used    int64
	max     int64
	stopped bool
}

func newGate(max int64) *gate {
	g := &gate{max: max}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// acquire waits until n more bytes fit (or nothing else is held); it
// returns false when the pipeline has stopped.
func (g *gate) acquire(n int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for !g.stopped && g.used > 0 && g.used+n > g.max {
		g.cond.Wait()
	}
	if g.stopped {
		return false
	}
	g.used += n
	return true
}

func (g *gate) release(n int64) {
	g.mu.Lock()
	g.used -= n
	g.mu.Unlock()
	g.cond.Broadcast()
}

func (g *gate) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.cond.Broadcast()
}

// finish waits for the workers and builds one data set per split.
func (p *pipeline) finish(name string, readErr error) (map[string]*data.Dataset, error) {
	close(p.jobs)
	p.wg.Wait()
	if p.err != nil {
		return nil, p.err
	}
	if readErr != nil {
		return nil, readErr
	}
	if len(p.items) == 0 {
		if p.o.Split != "" {
			return nil, fmt.Errorf("no images in split %q: %w", p.o.Split, data.ErrNoData)
		}
		return nil, fmt.Errorf("no images in <class>/ directories: %w", data.ErrNoData)
	}
	classes := make([]string, 0, len(p.classes))
	for c := range p.classes {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	label := map[string]int{}
	for i, c := range classes {
		label[c] = i
	}
	sort.Slice(p.items, func(i, j int) bool {
		a, b := p.items[i], p.items[j]
		if a.split != b.split {
			return a.split < b.split
		}
		if a.class != b.class {
			return label[a.class] < label[b.class]
		}
		return a.name < b.name
	})
	out := map[string]*data.Dataset{}
	channels := 3
	if p.o.Grey {
		channels = 1
	}
	for start := 0; start < len(p.items); {
		end := start
		for end < len(p.items) && p.items[end].split == p.items[start].split {
			end++
		}
		group := p.items[start:end]
		first := group[0]
		dsName := name
		if first.split != "" {
			dsName += ":" + first.split
		}
		k := channels * first.w * first.h
		ds := &data.Dataset{Name: dsName, N: len(group), Shape: []int{channels, first.h, first.w},
			X: make([]float32, len(group)*k), Y: make([]int, len(group)), ClassNames: classes}
		for i, it := range group {
			if it.w != first.w || it.h != first.h {
				return nil, fmt.Errorf("%s is %dx%d but %s is %dx%d (set a resize): %w",
					it.name, it.w, it.h, first.name, first.w, first.h, data.ErrMalformed)
			}
			dst := ds.X[i*k : (i+1)*k]
			for j, v := range it.pix[:k] {
				dst[j] = scale[v]
			}
			it.pix = nil
			ds.Y[i] = label[it.class]
		}
		out[first.split] = ds
		start = end
	}
	return out, nil
}

// scale maps a byte to [0,1].
var scale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// probeItem reads an item's header (from the encoded bytes of an archive
// entry, or the file's head) and records its size.
func probeItem(it *item) (image.Config, error) {
	var cfg image.Config
	var err error
	if it.file != "" {
		var f *os.File
		if f, err = openImage(it.file, it.name); err != nil {
			return cfg, err
		}
		br := bufio.NewReaderSize(f, 16<<10)
		first, _ := br.Peek(br.Size())
		var ok bool
		if cfg, ok = jpegConfig(first); !ok {
			cfg, _, err = image.DecodeConfig(br)
		}
		f.Close()
	} else if c, ok := jpegConfig(it.src); ok {
		cfg = c
	} else {
		cfg, _, err = image.DecodeConfig(bytes.NewReader(it.src))
	}
	if err != nil {
		return cfg, fmt.Errorf("%s: %w: %w", it.name, data.ErrMalformed, err)
	}
	it.cw, it.ch = cfg.Width, cfg.Height
	return cfg, nil
}

// decode turns an item's encoded bytes into channel-major uint8 pixels; its
// header has been read (probeItem).
func decode(it *item, o data.Options) error {
	src := it.src
	if it.file != "" {
		f, err := openImage(it.file, it.name)
		if err != nil {
			return err
		}
		src, err = readUpTo(f, MaxImageBytes, it.name)
		f.Close()
		if err != nil {
			return err
		}
	}
	img, format, err := image.Decode(bytes.NewReader(src))
	if err != nil {
		return fmt.Errorf("%s: %w: %w", it.name, data.ErrMalformed, err)
	}
	if b := img.Bounds(); b.Dx() != it.cw || b.Dy() != it.ch {
		return fmt.Errorf("%s: decoded %dx%d, header said %dx%d: %w", it.name, b.Dx(), b.Dy(), it.cw, it.ch, data.ErrMalformed)
	}
	it.src = nil
	it.format = format
	if o.Width > 0 && o.Height > 0 {
		b := img.Bounds()
		if b.Dx() != o.Width || b.Dy() != o.Height {
			dst := image.NewRGBA(image.Rect(0, 0, o.Width, o.Height))
			var s draw.Scaler = draw.BiLinear
			if o.Interp == data.Nearest {
				s = draw.NearestNeighbor
			}
			s.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
			img = dst
		}
	}
	it.pix, it.w, it.h = pixels(img, o.Grey)
	return nil
}

// readUpTo reads r to its end, refusing more than max bytes; the buffer
// grows with the bytes that really arrive, whatever a header announced.
func readUpTo(r io.Reader, max int64, name string) ([]byte, error) {
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, fmt.Errorf("%s: more than %d bytes: %w", name, max, data.ErrMalformed)
	}
	return b.Bytes(), nil
}

// luma is the ITU-R 601 grey level of an RGB colour (as PIL's "L" mode).
func luma(r, g, b uint32) uint8 {
	return uint8((299*r + 587*g + 114*b + 500) / 1000)
}

// pixels returns the image as channel-major uint8 values: RGB, or one grey
// channel. Transparent pixels are taken as composited onto black.
func pixels(img image.Image, grey bool) ([]uint8, int, int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	c := 3
	if grey {
		c = 1
	}
	out := make([]uint8, c*n)
	set := func(i int, r, g, bl uint32) {
		if grey {
			out[i] = luma(r, g, bl)
			return
		}
		out[i], out[n+i], out[2*n+i] = uint8(r), uint8(g), uint8(bl)
	}
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				set(y*w+x, uint32(r), uint32(g), uint32(bl))
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				v := uint32(row[x])
				set(y*w+x, v, v, v)
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				set(y*w+x, uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2]))
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				set(y*w+x, r>>8, g>>8, bl>>8)
			}
		}
	}
	return out, w, h
}

// ReadTar reads an image-folder tar archive (gzip-compressed or not) from r
// in one pass, returning a data set per split (the directory above the class
// directories; "" when those sit at the archive's root). name prefixes the
// data sets' names. With o.Split set only that split is decoded.
func ReadTar(r io.Reader, name string, o data.Options) (map[string]*data.Dataset, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	if magic, err := br.Peek(2); err == nil && data.IsGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w: %w", data.ErrMalformed, err)
		}
		defer zr.Close()
		src = limit.NewReader(zr, limit.Get().Decompressed())
	}
	tr := tar.NewReader(src)
	p := newPipeline(o)
	var readErr error
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = tarErr("tar", err)
			break
		}
		if hdr.Typeflag != tar.TypeReg { // the reader reports old TypeRegA entries as TypeReg
			continue
		}
		split, class, ok := place(hdr.Name)
		if !ok {
			continue
		}
		if o.Split != "" && split != o.Split {
			p.classes[class] = true
			continue
		}
		if hdr.Size > MaxImageBytes {
			readErr = fmt.Errorf("%s: %d bytes exceed %d: %w", hdr.Name, hdr.Size, MaxImageBytes, data.ErrMalformed)
			break
		}
		buf, err := readUpTo(tr, hdr.Size, hdr.Name)
		if err == nil && int64(len(buf)) < hdr.Size {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			readErr = tarErr(hdr.Name, err)
			break
		}
		if !p.add(&item{split: split, class: class, name: hdr.Name, src: buf}) {
			break
		}
	}
	return p.finish(name, readErr)
}

// tarErr classifies an error reading a tar archive: a limit stays as it
// is, an early end is truncation, anything else malformed input.
func tarErr(what string, err error) error {
	switch {
	case errors.Is(err, limit.ErrExceeded):
		return fmt.Errorf("%s: %w", what, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %w: %w", what, data.ErrTruncated, err)
	}
	return fmt.Errorf("%s: %w: %w", what, data.ErrMalformed, err)
}

// ReadDir reads an image folder rooted at dir, as ReadTar does an archive.
// Every wanted image's header is read and counted against the limits
// before any image is decoded.
func ReadDir(dir string, o data.Options) (map[string]*data.Dataset, error) {
	var items []*item
	walkErr := filepath.WalkDir(dir, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if file != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, file)
		if err != nil {
			return err
		}
		split, class, ok := place(filepath.ToSlash(rel))
		if !ok {
			return nil
		}
		items = append(items, &item{split: split, class: class, name: file, file: file})
		return nil
	})
	p := newPipeline(o)
	if walkErr == nil {
		for _, it := range items {
			if o.Split != "" && it.split != o.Split {
				continue
			}
			if walkErr = p.admit(it); walkErr != nil {
				break
			}
		}
	}
	if walkErr == nil {
		for _, it := range items {
			if !p.add(it) {
				break
			}
		}
	}
	return p.finish(filepath.Base(dir), walkErr)
}

// scanTar reads the headers of the wanted images of a tar archive (plain or
// gzip-compressed), without decoding them, and counts them against the
// limits in force, so that an archive over a limit is refused before any
// image is decoded. It reads the archive through once, skipping the
// images' pixel data.
func scanTar(r io.Reader, o data.Options) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	if magic, err := br.Peek(2); err == nil && data.IsGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w: %w", data.ErrMalformed, err)
		}
		defer zr.Close()
		src = limit.NewReader(zr, limit.Get().Decompressed())
	}
	tr := tar.NewReader(src)
	dec := limit.Get().Decoded()
	head := bufio.NewReaderSize(tr, 64<<10)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return tarErr("tar", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		split, _, ok := place(hdr.Name)
		if !ok || (o.Split != "" && split != o.Split) {
			continue
		}
		if hdr.Size > MaxImageBytes {
			return fmt.Errorf("%s: %d bytes exceed %d: %w", hdr.Name, hdr.Size, MaxImageBytes, data.ErrMalformed)
		}
		head.Reset(tr)
		first, _ := head.Peek(head.Size()) // the entry's first bytes, or all of it
		cfg, ok := jpegConfig(first)
		if !ok {
			cfg, _, err = image.DecodeConfig(head)
		}
		if err != nil {
			if errors.Is(err, limit.ErrExceeded) {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
			return fmt.Errorf("%s: %w: %w", hdr.Name, data.ErrMalformed, err)
		}
		if _, err := charge(hdr.Name, cfg, hdr.Size, o, dec); err != nil {
			return err
		}
	}
}

// LoadSplits reads the image folder or archive at path into one data set per
// split (see ReadTar). An archive is read twice: first its images' headers,
// counted against the limits in force (an archive over a limit is refused
// before any image is decoded), then the images.
func LoadSplits(p string, o data.Options) (map[string]*data.Dataset, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	var out map[string]*data.Dataset
	if st.IsDir() {
		out, err = ReadDir(p, o)
	} else {
		var f *os.File
		if f, err = os.Open(p); err != nil {
			return nil, err
		}
		defer f.Close()
		name := filepath.Base(p)
		for _, ext := range []string{".tar.gz", ".tgz", ".tar"} {
			name = strings.TrimSuffix(name, ext)
		}
		// Two passes: the headers against the limits, then the images.
		if err = scanTar(f, o); err == nil {
			if _, err = f.Seek(0, io.SeekStart); err == nil {
				out, err = ReadTar(f, name, o)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("imagefolder %s: %w", p, err)
	}
	return out, nil
}

func splitNames(m map[string]*data.Dataset) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Load reads one split of the image folder or archive at path: o.Split, or
// the only split there is.
//
// A flat folder of images, or a single image file, is read with LoadFlat
// instead (see flatOptions).
func Load(p string, o data.Options) (*data.Dataset, error) {
	if l, err := Detect(p); err == nil && l == Flat {
		fo, err := flatOptions(p, o)
		if err != nil {
			return nil, err
		}
		ds, _, err := LoadFlat(p, fo)
		return ds, err
	}
	m, err := LoadSplits(p, o)
	if err != nil {
		return nil, err
	}
	if o.Split != "" {
		return m[o.Split], nil
	}
	if len(m) != 1 {
		return nil, fmt.Errorf("imagefolder %s has splits %q: choose one with the Split option: %w", p, splitNames(m), data.ErrNoData)
	}
	for _, ds := range m {
		return ds, nil
	}
	return nil, nil
}

func inspect(p string, o data.Options) (*data.Info, error) {
	if l, err := Detect(p); err == nil && l == Flat {
		fo, err := flatOptions(p, o)
		if err != nil {
			return nil, err
		}
		var notes []string
		fo.Note = func(s string) { notes = append(notes, s) }
		ds, _, err := LoadFlat(p, fo)
		if err != nil {
			return nil, err
		}
		sum := data.Summarize(ds, "decoded to uint8, scaled to [0,1]")
		notes = append(notes, fmt.Sprintf("flat image folder: %d images brought to %v", ds.N, ds.Shape))
		return &data.Info{Dataset: &sum, Notes: notes}, nil
	}
	m, err := LoadSplits(p, o)
	if err != nil {
		return nil, err
	}
	info := &data.Info{}
	for _, s := range splitNames(m) {
		sum := data.Summarize(m[s], "decoded to uint8, scaled to [0,1]")
		sum.Name = s
		if s == "" {
			sum.Name = "(root)"
		}
		info.Arrays = append(info.Arrays, sum)
	}
	if len(m) == 1 {
		info.Dataset = &info.Arrays[0]
		info.Arrays = nil
	} else {
		info.Notes = append(info.Notes, fmt.Sprintf("%d splits; data.Load needs the Split option", len(m)))
	}
	return info, nil
}

// LoadCIFAR10 reads the CIFAR-10 image folder or archive at path (laid out
// <top>/{train,test}/<class>/<n>.jpg) into its training (50,000) and test
// (10,000) splits: RGB images [3,32,32] in [0,1], ten classes numbered in
// name order (airplane, automobile, bird, cat, deer, dog, frog, horse, ship,
// truck).
func LoadCIFAR10(p string) (train, test *data.Dataset, err error) {
	m, err := LoadSplits(p, data.Options{})
	if err != nil {
		return nil, nil, err
	}
	train, test = m["train"], m["test"]
	if train == nil || test == nil {
		return nil, nil, fmt.Errorf("imagefolder %s: want train and test splits, found %q: %w", p, splitNames(m), data.ErrNoData)
	}
	for _, ds := range []*data.Dataset{train, test} {
		if len(ds.ClassNames) != 10 || ds.Dim() != 3*32*32 {
			return nil, nil, fmt.Errorf("imagefolder %s: %s has %d classes of shape %v, want 10 of [3 32 32]: %w", p, ds.Name, len(ds.ClassNames), ds.Shape, data.ErrMalformed)
		}
	}
	return train, test, nil
}

// Decode decodes one encoded image (PNG or JPEG) into a one-sample data set of
// shape C×H×W with values in [0, 1], converted and resized as o says, exactly
// as the folder readers treat each file. name is used in errors. The server
// uses it for images sent in requests.
func Decode(name string, src []byte, o data.Options) (*data.Dataset, error) {
	if int64(len(src)) > MaxImageBytes {
		return nil, fmt.Errorf("%s: %d bytes exceed %d: %w", name, len(src), MaxImageBytes, data.ErrMalformed)
	}
	it := &item{name: name, src: src}
	cfg, err := probeItem(it)
	if err != nil {
		return nil, err
	}
	if _, err := charge(name, cfg, int64(len(src)), o, limit.Get().Decoded()); err != nil {
		return nil, err
	}
	if err := decode(it, o); err != nil {
		return nil, err
	}
	c := len(it.pix) / (it.w * it.h)
	x := make([]float32, len(it.pix))
	for i, v := range it.pix {
		x[i] = float32(v) / 255
	}
	return &data.Dataset{Name: name, X: x, N: 1, Shape: []int{c, it.h, it.w}}, nil
}

// flatOptions maps the registry's options onto LoadFlat's: Grey gives one
// channel and otherwise three, Width = Height the side (a rectangle is
// refused: flat folders are brought to squares), Interp and Workers carry
// over. Split has no meaning for a flat folder.
func flatOptions(p string, o data.Options) (FlatOptions, error) {
	f := FlatOptions{Channels: 3, Interp: o.Interp, Workers: o.Workers}
	if o.Grey {
		f.Channels = 1
	}
	if o.Width > 0 || o.Height > 0 {
		if o.Width != o.Height {
			return f, fmt.Errorf("imagefolder %s: a flat folder is brought to squares, not %dx%d: %w", p, o.Width, o.Height, data.ErrUnsupported)
		}
		f.Side = o.Width
	}
	if o.Split != "" {
		return f, fmt.Errorf("imagefolder %s: a flat folder has no split %q: %w", p, o.Split, data.ErrNoData)
	}
	return f, nil
}
