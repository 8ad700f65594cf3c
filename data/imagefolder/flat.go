package imagefolder

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/image/draw"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/limit"
)

// Fit modes of FlatOptions.Fit.
const (
	// FitResize stretches every image to Side×Side (aspect ratio not kept).
	FitResize = "resize"
	// FitPad letterboxes every image: scaled so that its longer side is
	// Side, centred, the margins black (0).
	FitPad = "pad"
)

// Defaults of FlatOptions' limits.
const (
	// DefaultMaxSide caps the automatically chosen side.
	DefaultMaxSide = 256
	// DefaultMaxImages caps the number of images one call reads.
	DefaultMaxImages = 100_000
)

// FlatOptions says how LoadFlat and LoadMVTec bring images of any size and
// colour to one shape C×Side×Side. The zero value chooses everything from the
// images (see the package documentation).
type FlatOptions struct {
	// Side is the output width and height; 0 chooses it from the images:
	// the median over images of the longer side, rounded to the nearest
	// power of two (on a log scale) and capped at MaxSide.
	Side int
	// MaxSide caps the automatic side; 0 means DefaultMaxSide. It does not
	// apply to an explicit Side.
	MaxSide int
	// Channels is 1 (grey, ITU-R 601 luma) or 3 (RGB); 0 means 3 when any
	// image has a pixel whose red, green and blue differ, else 1.
	Channels int
	// Fit is FitResize (or "", the default) or FitPad.
	Fit string
	// Interp is the interpolation of the resize (data.Bilinear, the default,
	// or data.Nearest). Masks always use nearest neighbour.
	Interp data.Interp
	// MaxImages caps the number of images read; more is an error before
	// anything is decoded. 0 means DefaultMaxImages.
	MaxImages int
	// MaxPixels caps one image's width × height, read from its header
	// (image.DecodeConfig) before it is decoded; 0 means the package's
	// MaxPixels.
	MaxPixels int64
	// MaxValues caps the float32 values of the images (N×C×S×S, counting C
	// as 3 while the channel count is still open; LoadMVTec's masks come on
	// top); 0 means the limits in force allow: limit.Get().MaxDecoded / 4.
	MaxValues int64
	// Workers is the number of parallel decoders; 0 means GOMAXPROCS.
	Workers int
	// Note, when set, receives remarks such as the names of skipped files.
	// It is called on the loading goroutine, never concurrently.
	Note func(string)
}

func (o FlatOptions) check() (FlatOptions, error) {
	switch o.Fit {
	case "":
		o.Fit = FitResize
	case FitResize, FitPad:
	default:
		return o, fmt.Errorf("fit %q: want %q or %q: %w", o.Fit, FitResize, FitPad, data.ErrUnsupported)
	}
	if o.Channels != 0 && o.Channels != 1 && o.Channels != 3 {
		return o, fmt.Errorf("%d channels: want 1, 3 or 0 (automatic): %w", o.Channels, data.ErrUnsupported)
	}
	if o.Side < 0 || o.MaxSide < 0 || o.MaxImages < 0 || o.MaxPixels < 0 || o.MaxValues < 0 {
		return o, fmt.Errorf("negative side or limit: %w", data.ErrUnsupported)
	}
	if o.MaxSide == 0 {
		o.MaxSide = DefaultMaxSide
	}
	if o.MaxImages == 0 {
		o.MaxImages = DefaultMaxImages
	}
	if o.MaxPixels == 0 {
		o.MaxPixels = MaxPixels
	}
	if o.MaxValues == 0 {
		o.MaxValues = limit.Get().MaxDecoded / 4
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o, nil
}

func (o FlatOptions) note(format string, args ...any) {
	if o.Note != nil {
		o.Note(fmt.Sprintf(format, args...))
	}
}

// source is one image (and optionally its mask) to read.
type source struct {
	file string // path on disk
	name string // reported name (base name, or relative path)
	mask string // mask file, or ""
	mkey string // mask's reported name
	w, h int    // from the header
	bpp  int64  // bytes a pixel takes decoded (from the header's colour model)
	work int64  // working memory of decoding it (see prepare)

	pix    []uint8 // 3×S×S RGB, channel-major
	colour bool    // some pixel has R, G, B not all equal
	mpix   []uint8 // S×S mask, 0 or 1
}

// sniffImage reports whether the file starts like a PNG or a JPEG.
func sniffImage(file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	return isImageHead(head[:n])
}

func isImageHead(head []byte) bool {
	return bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(head, []byte("\xff\xd8\xff"))
}

// listImages returns the PNG and JPEG files directly in dir, sorted by name:
// files with a .png, .jpg or .jpeg extension (any case), and other files that
// start with a PNG or JPEG signature. Hidden entries are passed over
// silently; other files and subdirectories with a note.
func listImages(dir, rel string, o FlatOptions) ([]source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []source
	var skipped, subdirs []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		file := filepath.Join(dir, name)
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			st, err := os.Stat(file)
			if err != nil {
				skipped = append(skipped, name)
				continue
			}
			mode = st.Mode().Type()
		}
		switch {
		case mode.IsDir():
			subdirs = append(subdirs, name+"/")
		case !mode.IsRegular():
			skipped = append(skipped, name)
		case isImage(name) || sniffImage(file):
			out = append(out, source{file: file, name: joinRel(rel, name)})
		default:
			skipped = append(skipped, name)
		}
	}
	if len(skipped) > 0 {
		o.note("%s: skipped %d files that are not PNG or JPEG images: %s", dir, len(skipped), list(skipped))
	}
	if len(subdirs) > 0 {
		o.note("%s: ignored %d subdirectories: %s", dir, len(subdirs), list(subdirs))
	}
	return out, nil
}

// joinRel joins a slash-separated relative name.
func joinRel(rel, name string) string {
	if rel == "" {
		return name
	}
	return rel + "/" + name
}

// list shows up to five names.
func list(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, ... (%d more)", strings.Join(names[:5], ", "), len(names)-5)
}

// parallel runs f(0..n-1) on the workers, stopping early after an error, and
// returns the error of the lowest index that failed.
func parallel(n, workers int, f func(i int) error) error {
	if workers > n {
		workers = n
	}
	errs := make([]error, n)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					errs[i] = err
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// openImage opens an image file, refusing one larger than MaxImageBytes.
func openImage(file, name string) (*os.File, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.Size() > MaxImageBytes {
		f.Close()
		return nil, fmt.Errorf("%s: %d bytes exceed %d: %w", name, st.Size(), MaxImageBytes, data.ErrMalformed)
	}
	return f, nil
}

// probe reads an image's header and checks its size against the cap.
func probe(file, name string, maxPixels int64) (cfg image.Config, err error) {
	f, err := openImage(file, name)
	if err != nil {
		return cfg, err
	}
	defer f.Close()
	cfg, _, err = image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return cfg, fmt.Errorf("%s: %w: %w", name, data.ErrMalformed, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, fmt.Errorf("%s: empty image %dx%d: %w", name, cfg.Width, cfg.Height, data.ErrMalformed)
	}
	if p := int64(cfg.Width) * int64(cfg.Height); p > maxPixels {
		return cfg, fmt.Errorf("%s: %dx%d is %d pixels, over the cap of %d (FlatOptions.MaxPixels): %w",
			name, cfg.Width, cfg.Height, p, maxPixels, data.ErrUnsupported)
	}
	return cfg, nil
}

// decodeFile decodes a whole image file.
func decodeFile(file, name string) (image.Image, error) {
	f, err := openImage(file, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, data.ErrMalformed, err)
	}
	return img, nil
}

// autoSide is the median of the longer sides, rounded to the nearest power of
// two on a log scale (m goes up to 2p when m > p√2), capped at maxSide.
func autoSide(srcs []source, maxSide int) int {
	sides := make([]int, len(srcs))
	for i, s := range srcs {
		sides[i] = max(s.w, s.h)
	}
	sort.Ints(sides)
	m := int64(sides[(len(sides)-1)/2])
	p := int64(1)
	for p < m && m*m > 2*p*p {
		p *= 2
	}
	return min(int(p), maxSide)
}

// target is the rectangle of the side×side canvas an image of w×h fills.
func target(w, h, side int, fit string) image.Rectangle {
	if fit != FitPad {
		return image.Rect(0, 0, side, side)
	}
	long := max(w, h)
	// round(w·side/long), at least 1.
	nw := max(1, (2*w*side+long)/(2*long))
	nh := max(1, (2*h*side+long)/(2*long))
	x0, y0 := (side-nw)/2, (side-nh)/2
	return image.Rect(x0, y0, x0+nw, y0+nh)
}

// fitTo draws img into r of dst, scaling with s unless the sizes agree.
func fitTo(dst draw.Image, r image.Rectangle, img image.Image, s draw.Scaler) {
	b := img.Bounds()
	if r.Dx() == b.Dx() && r.Dy() == b.Dy() {
		draw.Draw(dst, r, img, b.Min, draw.Src)
		return
	}
	s.Scale(dst, r, img, b, draw.Src, nil)
}

// load decodes every source (and its mask) to side×side.
func (o FlatOptions) load(srcs []source, side int) error {
	var scaler draw.Scaler = draw.BiLinear
	if o.Interp == data.Nearest {
		scaler = draw.NearestNeighbor
	}
	// Bound the working memory of the images decoded at once, as the class
	// folder reader does (see gate).
	g := newGate(limit.Get().MaxDecoded / 2)
	return parallel(len(srcs), o.Workers, func(i int) error {
		s := &srcs[i]
		g.acquire(s.work)
		defer g.release(s.work)
		img, err := decodeFile(s.file, s.name)
		if err != nil {
			return err
		}
		if b := img.Bounds(); b.Dx() != s.w || b.Dy() != s.h {
			return fmt.Errorf("%s: decoded %dx%d, header said %dx%d: %w", s.name, b.Dx(), b.Dy(), s.w, s.h, data.ErrMalformed)
		}
		r := target(s.w, s.h, side, o.Fit)
		canvas := image.NewRGBA(image.Rect(0, 0, side, side))
		fitTo(canvas, r, img, scaler)
		img = nil
		s.pix, _, _ = pixels(canvas, false)
		n := side * side
		for j := 0; j < n; j++ {
			if s.pix[j] != s.pix[n+j] || s.pix[j] != s.pix[2*n+j] {
				s.colour = true
				break
			}
		}
		if s.mask == "" {
			return nil
		}
		mcfg, err := probe(s.mask, s.mkey, o.MaxPixels)
		if err != nil {
			return err
		}
		mw, mh := mcfg.Width, mcfg.Height
		if mw != s.w || mh != s.h {
			return fmt.Errorf("mask %s is %dx%d but its image %s is %dx%d: %w", s.mkey, mw, mh, s.name, s.w, s.h, data.ErrMalformed)
		}
		m, err := decodeFile(s.mask, s.mkey)
		if err != nil {
			return err
		}
		grey := image.NewGray(image.Rect(0, 0, side, side))
		fitTo(grey, r, m, draw.NearestNeighbor)
		for j, v := range grey.Pix {
			grey.Pix[j] = v >> 7 // 0..127 → 0, 128..255 → 1
		}
		s.mpix = grey.Pix
		return nil
	})
}

// prepare probes the sources' headers, checks the limits and settles the
// side; srcs are modified in place.
func (o FlatOptions) prepare(srcs []source) (side int, err error) {
	if len(srcs) > o.MaxImages {
		return 0, fmt.Errorf("%d images, over the cap of %d (FlatOptions.MaxImages): %w", len(srcs), o.MaxImages, data.ErrUnsupported)
	}
	err = parallel(len(srcs), o.Workers, func(i int) error {
		s := &srcs[i]
		cfg, perr := probe(s.file, s.name, o.MaxPixels)
		s.w, s.h, s.bpp = cfg.Width, cfg.Height, bytesPerPixel(cfg.ColorModel)
		return perr
	})
	if err != nil {
		return 0, err
	}
	side = o.Side
	if side == 0 {
		side = autoSide(srcs, o.MaxSide)
	}
	// The working memory of decoding one image: its pixels as decoded, the
	// RGBA canvas, the channel-major copy (twice with a mask). One image
	// may not need more than half of limit.MaxDecoded.
	half := limit.Get().MaxDecoded / 2
	for i := range srcs {
		s := &srcs[i]
		s.work = s.bpp*int64(s.w)*int64(s.h) + 7*int64(side)*int64(side)
		if s.mask != "" {
			s.work *= 2
		}
		if s.work > half {
			return 0, fmt.Errorf("%s (%dx%d): %w", s.name, s.w, s.h, limit.Exceeded("the working memory of decoding it", s.work, half, "MaxDecoded / 2"))
		}
	}
	c := int64(o.Channels)
	if c == 0 {
		c = 3
	}
	if v := int64(len(srcs)) * c * int64(side) * int64(side); v > o.MaxValues {
		return 0, fmt.Errorf("%d images of %d×%d×%d are %d values, over the cap of %d (FlatOptions.MaxValues): %w",
			len(srcs), c, side, side, v, o.MaxValues, data.ErrUnsupported)
	}
	return side, nil
}

// channels settles the channel count over all sources.
func (o FlatOptions) channels(srcs []source) int {
	if o.Channels != 0 {
		return o.Channels
	}
	for _, s := range srcs {
		if s.colour {
			return 3
		}
	}
	return 1
}

// assemble builds the data set of the decoded sources, releasing their
// pixels.
func assemble(name string, srcs []source, c, side int) *data.Dataset {
	n := side * side
	k := c * n
	ds := &data.Dataset{Name: name, N: len(srcs), Shape: []int{c, side, side}, X: make([]float32, len(srcs)*k)}
	for i := range srcs {
		s := &srcs[i]
		dst := ds.X[i*k : (i+1)*k]
		switch {
		case c == 3:
			for j, v := range s.pix {
				dst[j] = scale[v]
			}
		case !s.colour:
			for j, v := range s.pix[:n] {
				dst[j] = scale[v]
			}
		default:
			for j := range dst {
				dst[j] = scale[luma(uint32(s.pix[j]), uint32(s.pix[n+j]), uint32(s.pix[2*n+j]))]
			}
		}
		s.pix = nil
	}
	return ds
}

func names(srcs []source) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.name
	}
	return out
}

// LoadFlat reads a flat folder of normal images (PNG or JPEG files directly
// in dir, any sizes, grey or colour), or the single image file dir, into one
// unlabelled data set of shape C×S×S with values in [0,1], as the package
// documentation describes. It also returns each sample's file name (the base
// name), in sample order: by name.
//
// Files that are not PNG or JPEG and subdirectories are skipped, with a note
// to opt.Note; hidden entries silently. A file that is not a readable image
// is an error naming it; so is a folder without images (data.ErrNoData).
func LoadFlat(dir string, opt FlatOptions) (*data.Dataset, []string, error) {
	ds, names, err := loadFlat(dir, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("imagefolder %s: %w", dir, err)
	}
	return ds, names, nil
}

func loadFlat(dir string, opt FlatOptions) (*data.Dataset, []string, error) {
	o, err := opt.check()
	if err != nil {
		return nil, nil, err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	var srcs []source
	name := filepath.Base(dir)
	if st.IsDir() {
		if srcs, err = listImages(dir, "", o); err != nil {
			return nil, nil, err
		}
		if len(srcs) == 0 {
			return nil, nil, fmt.Errorf("no PNG or JPEG images directly in the folder: %w", data.ErrNoData)
		}
	} else {
		srcs = []source{{file: dir, name: name}}
		name = strings.TrimSuffix(name, filepath.Ext(name))
	}
	side, err := o.prepare(srcs)
	if err != nil {
		return nil, nil, err
	}
	if err := o.load(srcs, side); err != nil {
		return nil, nil, err
	}
	return assemble(name, srcs, o.channels(srcs), side), names(srcs), nil
}
