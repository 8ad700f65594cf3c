package server

import "context"

// The inference core: what an Open Inference Protocol request means,
// whatever carried it. The HTTP handler (infer, POST /v2/models/NAME/infer)
// and the gRPC service (ModelInfer) each decode their wire form into an
// inferRequest, call inferCore, and write its answer in their own wire form.
// So the two transports check inputs alike, score within the same per-model
// limits and metrics, fail alike on non-finite scores, compute explanations
// only when asked, and give the same numbers bit for bit.

// inferAnswer is what an inference gives: its outputs, in the order to
// send them, and the notes of the model's table pipeline.
type inferAnswer struct {
	outs  []outTensor
	notes []string
}

// inferCore answers a decoded request with model e: it picks the outputs
// (those the request names, in its order, or the model's defaults followed
// by the identifier columns the request sent), encodes the inputs, scores
// within the model's limits and the server's timeout, and explains the
// scores when "attributions" or "top_features" is asked for. Errors are
// *apiError for the client's faults and for load, as the HTTP handlers
// return them.
func (s *Server) inferCore(ctx context.Context, e *entry, req *inferRequest) (*inferAnswer, error) {
	want, err := s.wantOutputs(e, req)
	if err != nil {
		return nil, err
	}
	enc, err := s.inferInput(e, req)
	if err != nil {
		return nil, err
	}
	res, err := s.run(ctx, e, enc.ds)
	if err != nil {
		return nil, err
	}
	var ex *explanation
	if contains(want, "attributions") || contains(want, "top_features") {
		k := req.topK
		if k == 0 {
			k = DefaultTopK
		}
		if ex, err = s.explain(ctx, e, enc.ds, k); err != nil {
			return nil, err
		}
	}
	outs := make([]outTensor, 0, len(want))
	n := len(res.scores)
	for _, name := range want {
		switch name {
		case "score":
			outs = append(outs, outTensor{name: name, datatype: "FP64", shape: []int{n}, f64: res.scores})
		case "p_value":
			outs = append(outs, outTensor{name: name, datatype: "FP64", shape: []int{n}, f64: res.pvalues})
		case "anomaly":
			outs = append(outs, outTensor{name: name, datatype: "BOOL", shape: []int{n}, flags: res.flags})
		case "attributions":
			outs = append(outs, outTensor{name: name, datatype: "FP64", shape: []int{n, len(ex.names)}, f64: ex.values, features: ex.names})
		case "top_features":
			var flat []string
			for _, t := range ex.top {
				flat = append(flat, t...)
			}
			outs = append(outs, outTensor{name: name, datatype: "BYTES", shape: []int{n, ex.k}, strs: flat})
		default: // an identifier column
			for _, id := range enc.ids {
				if id.Name == name {
					outs = append(outs, outTensor{name: name, datatype: "BYTES", shape: []int{n}, strs: id.Values})
				}
			}
		}
	}
	if !req.outputsGiven {
		for _, id := range enc.ids {
			outs = append(outs, outTensor{name: id.Name, datatype: "BYTES", shape: []int{n}, strs: id.Values})
		}
	}
	return &inferAnswer{outs: outs, notes: enc.notes}, nil
}
