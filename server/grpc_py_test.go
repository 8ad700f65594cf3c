package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// pyClient is a Python client of the gRPC service, on stubs that
// grpc_tools generates from inference.proto in the test: argv is the
// address and a file of raw FP32 rows (1,000 x 20); it prints one JSON
// object of what the server answered.
const pyClient = `
import base64, json, struct, sys
import grpc
import inference_pb2 as pb, inference_pb2_grpc as pbg

addr, rows_path = sys.argv[1], sys.argv[2]
raw = open(rows_path, "rb").read()
stub = pbg.GRPCInferenceServiceStub(grpc.insecure_channel(addr))
out = {}
out["live"] = stub.ServerLive(pb.ServerLiveRequest()).live
out["ready"] = stub.ServerReady(pb.ServerReadyRequest()).ready
sm = stub.ServerMetadata(pb.ServerMetadataRequest())
out["server"] = [sm.name, sm.version, list(sm.extensions)]
md = stub.ModelMetadata(pb.ModelMetadataRequest(name="forest"))
out["metadata"] = [md.name, md.platform, [[t.name, t.datatype, list(t.shape)] for t in md.inputs]]
inp = pb.ModelInferRequest.InferInputTensor(name="input", datatype="FP32", shape=[1000, 20])
res, call = stub.ModelInfer.with_call(pb.ModelInferRequest(model_name="forest", inputs=[inp], raw_input_contents=[raw]),
                                      metadata=[("x-request-id", "py-1")])
out["raw_scores"] = base64.b64encode(res.raw_output_contents[0]).decode()
out["raw_flags"] = base64.b64encode(res.raw_output_contents[1]).decode()
out["id"] = res.id
out["header_id"] = dict(call.initial_metadata()).get("x-request-id")
typed = pb.ModelInferRequest.InferInputTensor(name="input", datatype="FP32", shape=[1000, 20])
typed.contents.fp32_contents.extend(struct.unpack("<%df" % (len(raw) // 4), raw))
res = stub.ModelInfer(pb.ModelInferRequest(model_name="forest", inputs=[typed]))
out["typed_scores"] = base64.b64encode(struct.pack("<%dd" % len(res.outputs[0].contents.fp64_contents), *res.outputs[0].contents.fp64_contents)).decode()
try:
    stub.ModelInfer(pb.ModelInferRequest(model_name="nope", inputs=[inp], raw_input_contents=[raw]))
    out["unknown"] = "OK"
except grpc.RpcError as e:
    out["unknown"] = e.code().name
print(json.dumps(out))
`

// With ODDITY_PY_GRPC=1, a Python client (Debian's python3-grpcio and
// python3-grpc-tools; stubs generated in the test) gets the answers the
// Go client gets: live, ready, metadata, and raw and typed scores equal
// bit for bit to the model's own. It skips when the packages are missing.
func TestGrpcPythonClient(t *testing.T) {
	if os.Getenv("ODDITY_PY_GRPC") != "1" {
		t.Skip("set ODDITY_PY_GRPC=1 to test with a Python gRPC client (apt-get install python3-grpcio python3-grpc-tools protobuf-compiler)")
	}
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Skip("no python3")
		}
	}
	if err := exec.Command(py, "-c", "import grpc, grpc_tools").Run(); err != nil {
		t.Skip("python3 lacks grpc or grpc_tools (apt-get install python3-grpcio python3-grpc-tools)")
	}
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("no protoc (apt-get install protobuf-compiler)")
	}
	// Stubs: the message code from the system protoc, the service stub
	// from grpc_tools. Debian's grpc_tools carries a protoc older than
	// proto3's explicit optional, so both read a copy without it: that is
	// the protocol's earlier (KServe v2) text, the same on the wire.
	gen := t.TempDir()
	src, err := os.ReadFile("internal/inferpb/inference.proto")
	if err != nil {
		t.Fatal(err)
	}
	plain := regexp.MustCompile(`\boptional `).ReplaceAll(src, nil)
	if err := os.WriteFile(filepath.Join(gen, "inference.proto"), plain, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []*exec.Cmd{
		exec.Command(protoc, "-I.", "--python_out=.", "inference.proto"),
		exec.Command(py, "-m", "grpc_tools.protoc", "-I.", "--grpc_python_out=.", "inference.proto"),
	} {
		cmd.Dir = gen
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(gen, "client.py"), []byte(pyClient), 0o644); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	m := writeForest(t, filepath.Join(dir, "forest.odm"), forestFeatures)
	s, err := New(Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := startGRPC(t, s, "127.0.0.1:0")
	defer stop()
	ds := gaussRows(1000, forestFeatures, 5)
	rowsPath := filepath.Join(gen, "rows.f32")
	if err := os.WriteFile(rowsPath, rawFP32(ds.X), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "client.py", addr, rowsPath)
	cmd.Dir = gen
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, stderr.String())
	}
	var got struct {
		Live, Ready      bool
		Server, Metadata []any
		RawScores        string `json:"raw_scores"`
		RawFlags         string `json:"raw_flags"`
		TypedScores      string `json:"typed_scores"`
		ID               string
		HeaderID         string `json:"header_id"`
		Unknown          string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %s: %v", out, err)
	}
	want, err := m.Score(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	wantFlags := make([]byte, len(want))
	for i, f := range m.Predict(want) {
		if f {
			wantFlags[i] = 1
		}
	}
	raw, _ := base64.StdEncoding.DecodeString(got.RawScores)
	flags, _ := base64.StdEncoding.DecodeString(got.RawFlags)
	typed, _ := base64.StdEncoding.DecodeString(got.TypedScores)
	if !got.Live || !got.Ready || got.Server[0] != "oddity" || got.Metadata[0] != "forest" || got.Metadata[1] != "oddity-iforest" {
		t.Errorf("python saw %s", out)
	}
	if !bytes.Equal(raw, fp64Bytes(want)) || !bytes.Equal(typed, fp64Bytes(want)) || !slices.Equal(flags, wantFlags) {
		t.Error("python's scores or flags differ from the model's")
	}
	if got.ID != "py-1" || got.HeaderID != "py-1" || got.Unknown != "NOT_FOUND" {
		t.Errorf("python: id %q, header id %q, unknown model %s", got.ID, got.HeaderID, got.Unknown)
	}
}
