// Package viz draws the figures of oddity's reports: ROC and precision-recall
// curves, per-class score histograms, labelled 2-D scatter plots (t-SNE
// embeddings), grouped bar charts with error bars, line plots (loss curves)
// and grids of images (inputs beside reconstructions).
//
// Every figure is built by a XxxFigure function returning a *Figure, which
// writes itself as PNG or SVG (Save chooses by file extension, SVG and PNG
// return bytes, e.g. for inline SVG in an HTML report). For each figure there
// is also a one-call Xxx(path, title, ...) error.
//
// Plots are drawn with gonum.org/v1/plot (vgimg for PNG, vgsvg for SVG). The
// labelled scatter uses its own plotter so 10,000+ points draw quickly and the
// legend sits beside the data instead of over it. Image grids are rasterised
// by hand with image/png, because gonum/plot has no notion of a pixel grid
// and scaling each pixel to an exact block keeps the images sharp; their SVG
// form embeds that PNG.
//
// Figures meant for reading at a glance can say more than their data:
// line plots take error bars (Series.Err, e.g. the spread over seeds) and
// then keep a margin so no marker sits on the frame, and a Robust
// histogram fits its axis to the bulk of the values, counting far-out ones
// in its edge bins (as its axis label says) and switching to a log axis
// for positive values spread over decades.
//
// Bad input (mismatched lengths, NaN or infinite values, empty data, an
// unknown file extension) gives an error wrapping ErrInput or ErrFormat,
// never a panic.
package viz
