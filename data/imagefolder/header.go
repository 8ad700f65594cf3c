package imagefolder

import (
	"encoding/binary"
	"image"
	"image/color"
)

// jpegConfig reads a JPEG's size and colour model from its frame header
// (the SOFn segment) in the first bytes of the file, b, without building a
// decoder: image/jpeg's DecodeConfig allocates about 14 KB of decoder per
// call, which for the 60,000 images of CIFAR-10 made the first pass over an
// archive (scanTar) spend as long in garbage collection as in reading. ok is
// false for anything this walk does not recognise (not a JPEG, a segment it
// cannot skip, no frame header within b); the caller then asks
// image.DecodeConfig. The decode pass checks the decoded size against the
// header's either way.
func jpegConfig(b []byte) (cfg image.Config, ok bool) {
	if len(b) < 2 || b[0] != 0xff || b[1] != 0xd8 {
		return cfg, false
	}
	for i := 2; i+1 < len(b); {
		if b[i] != 0xff {
			return cfg, false
		}
		m := b[i+1]
		switch {
		case m == 0xff: // fill byte
			i++
			continue
		case m == 0x01 || (m >= 0xd0 && m <= 0xd7): // markers without a length
			i += 2
			continue
		case m == 0xd8 || m == 0xd9 || m == 0xda: // SOI, EOI or a scan before any frame
			return cfg, false
		}
		if i+4 > len(b) {
			return cfg, false
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 {
			return cfg, false
		}
		if m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc { // SOFn
			if n < 8 || i+10 > len(b) {
				return cfg, false
			}
			cfg.Height = int(binary.BigEndian.Uint16(b[i+5:]))
			cfg.Width = int(binary.BigEndian.Uint16(b[i+7:]))
			switch b[i+9] {
			case 1:
				cfg.ColorModel = color.GrayModel
			case 3:
				cfg.ColorModel = color.YCbCrModel
			case 4:
				cfg.ColorModel = color.CMYKModel
			default:
				return cfg, false
			}
			return cfg, true
		}
		i += 2 + n
	}
	return cfg, false
}
