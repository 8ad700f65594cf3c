// Package pipeline runs oddity's batch scoring and Isolation Forest fitting
// as Apache Beam pipelines, so that data too large for one machine can be
// handled by an existing distributed engine (Flink, Spark, Dataflow) and,
// on one machine, by Beam's Go-native Prism runner.
//
// It lives in its own Go module (github.com/oddity-ml/oddity/beam) because
// the Beam SDK pulls in a large dependency tree (gRPC, cloud clients); the
// core module and its `oddity` binary stay free of it, and `oddity beam ...`
// only execs the separate oddity-beam binary.
//
// # Reading
//
// Text tables (CSV/TSV, with the core's sniffing of delimiter and header,
// and JSON lines) are cut into byte ranges of ChunkBytes. A range owns the
// lines that start inside it, so ranges are read in parallel without
// coordination; each is parsed by the core's own readers (package
// data/csvfile, or the JSON-lines rules of `oddity score -`), so a value is
// the same float32 whether the pipeline or the CLI reads it. Each range
// becomes one element (a batch of rows), which keeps Beam's per-element
// overhead off the per-row path. A row's global index (its position in the
// files taken in name order) comes from a prefix sum of the rows per range,
// passed as a side input. A quoted CSV field that spans lines is not
// supported (a range boundary could fall inside it). A model trained on a
// table as people have it (`oddity train METHOD --data file.csv`) carries
// its fitted table pipeline (package data/table), and then a CSV input is
// read as `oddity score` reads it: columns by name, in any order, text and
// missing cells encoded as in training, the identifier column carried to
// the output (JSON lines' "id"); each range gets the file's header line in
// front of its own lines. Gzip-compressed files
// and remote files (gs://, s3://, whose readers cannot seek) are read whole
// as one range each, so a large remote input should come as many files.
//
// Images are listed (a folder, walked, or a glob), sorted, and cut into
// batches of paths; each is decoded exactly as the core's image folder
// reader decodes it (imagefolder.Decode), converted to the model's channel
// count and size.
//
// # Scoring
//
// The model file is loaded once per worker, in the DoFn's Setup, from any
// path Beam's file systems understand (local, gs://, s3://). Scores are the
// ones detector.Model.Score returns in process, bit for bit; output lines
// are those of `oddity score` (index,score[,p_value],anomaly[,label] or
// JSON lines; p_value, the conformal p-value, for a calibrated model),
// in no particular order, and --anomalies-only keeps the rows above the
// threshold. A NaN or infinite score fails the element, and so the
// pipeline, with an error naming the rows by their index in the input: such
// a score is never written, as in `oddity score` and the server.
//
// # Fitting an Isolation Forest
//
// A tree reads only the MaxSamples rows it draws, and which rows it draws
// depends only on (Seed, tree index, n, d). The pipeline counts the rows,
// computes every tree's sample plan (iforest.SampleRows), sends each sampled
// row to the trees that drew it, grows the trees in parallel
// (iforest.GrowTree) and assembles them in tree order (iforest.Assemble).
// The forest is bit for bit the one iforest.Fit grows locally with the same
// options, and the model file has the same format as `oddity train
// iforest`'s. The threshold is set from the exact training-score quantiles
// detector.Fit stores; collecting them costs 8 bytes per training row on one
// worker, a twentieth of the data for 40-feature rows. The data hash of a
// locally fitted model is not computed (it would need every row in order on
// one machine); Meta.Extra["fitted_by"] says the model came from a pipeline.
package pipeline
