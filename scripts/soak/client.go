package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// client sends a random mix of valid requests and attacks.
type client struct {
	addr string
	m    *models
	r    *rand.Rand
	hc   *http.Client
	st   *stats
}

func newClient(addr string, m *models, seed, id uint64, st *stats) *client {
	return &client{addr: addr, m: m, r: rand.New(rand.NewPCG(seed, 1000+id)), st: st,
		hc: &http.Client{Timeout: 60 * time.Second,
			// A path trick may be answered with a redirect: that is the
			// answer to count, not a request to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// kind is one sort of request: valid ones must be answered 200 with
// finite scores; attacks with a 4xx (a 3xx for a path the router cleans).
type kind struct {
	name   string
	valid  bool
	weight int
	do     func(c *client, ctx context.Context) (code string, failed bool, detail string)
}

var kinds = []kind{
	// Valid.
	{"v1-tab-rows", true, 10, (*client).v1Tab},
	{"v2-tab-json", true, 10, func(c *client, ctx context.Context) (string, bool, string) {
		return c.scoring(ctx, "/v2/models/tab/infer", c.tabJSON(1+c.r.IntN(20)), nil)
	}},
	{"v2-tab-binary", true, 8, func(c *client, ctx context.Context) (string, bool, string) {
		body, head := c.tabBinary(1+c.r.IntN(20), false)
		return c.scoring(ctx, "/v2/models/tab/infer", body, map[string]string{"Inference-Header-Content-Length": head})
	}},
	{"v2-img-json", true, 6, func(c *client, ctx context.Context) (string, bool, string) {
		return c.scoring(ctx, "/v2/models/img/infer", c.imgJSON(1+c.r.IntN(2), 0), nil)
	}},
	{"v2-vm-latest", true, 4, func(c *client, ctx context.Context) (string, bool, string) {
		return c.scoring(ctx, "/v2/models/vm/infer", c.tabJSON(1+c.r.IntN(5)), nil)
	}},
	{"v2-vm-version-1", true, 4, func(c *client, ctx context.Context) (string, bool, string) {
		return c.scoring(ctx, "/v2/models/vm/versions/1/infer", c.tabJSON(1+c.r.IntN(5)), nil)
	}},
	{"metadata-and-health", true, 6, (*client).metadata},
	// Attacks.
	{"malformed-json", false, 4, (*client).malformedJSON},
	{"malformed-binary", false, 4, (*client).malformedBinary},
	{"truncated-body", false, 3, func(c *client, ctx context.Context) (string, bool, string) {
		body := c.tabJSON(50)
		return c.raw(ctx, fmt.Sprintf("POST /v2/models/tab/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body)),
			body[:len(body)/2], true)
	}},
	{"huge-content-length", false, 3, func(c *client, ctx context.Context) (string, bool, string) {
		return c.raw(ctx, "POST /v2/models/tab/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n",
			[]byte(`{"inputs":[`), false)
	}},
	{"nan-rows", false, 3, (*client).nanRows},
	{"wrong-method", false, 3, func(c *client, ctx context.Context) (string, bool, string) {
		reqs := [][2]string{{"DELETE", "/v2/models/tab/infer"}, {"GET", "/v2/models/tab/infer"}, {"PUT", "/v2/models/tab"},
			{"GET", "/v1/models/tab:score"}, {"PATCH", "/v2/models/vm/versions/1/infer"}, {"DELETE", "/v2/repository/index"}}
		q := reqs[c.r.IntN(len(reqs))]
		return c.plain(ctx, q[0], q[1], nil, nil)
	}},
	{"unknown-model", false, 3, func(c *client, ctx context.Context) (string, bool, string) {
		paths := []string{"/v2/models/nope/infer", "/v1/models/nope:score", "/v2/models/nope", "/v2/models/nope/ready"}
		p := paths[c.r.IntN(len(paths))]
		method := "POST"
		if !strings.HasSuffix(p, "infer") && !strings.Contains(p, ":") {
			method = "GET"
		}
		return c.plain(ctx, method, p, c.tabJSON(1), nil)
	}},
	{"unknown-version", false, 2, func(c *client, ctx context.Context) (string, bool, string) {
		vs := []string{"99", "01", "0", "-1", "latest", "1e3", "9999999999999999999999"}
		return c.plain(ctx, "POST", "/v2/models/vm/versions/"+vs[c.r.IntN(len(vs))]+"/infer", c.tabJSON(1), nil)
	}},
	{"path-tricks", false, 3, (*client).pathTricks},
	{"too-many-rows", false, 2, func(c *client, ctx context.Context) (string, bool, string) {
		return c.plain(ctx, "POST", "/v1/models/tab:score", c.v1Rows(maxBatch+1), nil)
	}},
	{"wrong-shape", false, 2, func(c *client, ctx context.Context) (string, bool, string) {
		bodies := []string{
			`{"inputs":[{"name":"input","shape":[1,7],"datatype":"FP32","data":[1,2,3,4,5,6,7]}]}`,
			`{"inputs":[{"name":"input","shape":[2,8],"datatype":"FP32","data":[1,2,3]}]}`,
			`{"inputs":[{"name":"input","shape":[1,1,8,8],"datatype":"FP32","data":[` + strings.Repeat("0,", 63) + `0]}]}`,
			`{"inputs":[{"name":"input","shape":[-1,8],"datatype":"FP32","data":[]}]}`,
			`{"inputs":[{"name":"input","shape":[4611686018427387904,2],"datatype":"FP32","data":[1,2]}]}`,
		}
		path := "/v2/models/tab/infer"
		if c.r.IntN(2) == 0 {
			path = "/v2/models/img/infer"
		}
		return c.plain(ctx, "POST", path, []byte(bodies[c.r.IntN(len(bodies))]), nil)
	}},
	{"extreme-images", false, 2, func(c *client, ctx context.Context) (string, bool, string) {
		// Finite inputs far outside training: a finite score (200) or a
		// 422 naming the rows are both right; a 5xx is not.
		code, failed, detail := c.plain(ctx, "POST", "/v2/models/img/infer", c.imgJSON(1, 1e30), nil)
		if code == "200" {
			code = "200-finite"
		}
		return code, failed, detail
	}},
}

// once sends one request of a random kind and records the answer.
func (c *client) once(ctx context.Context) {
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	pick := c.r.IntN(total)
	for _, k := range kinds {
		if pick >= k.weight {
			pick -= k.weight
			continue
		}
		code, failed, detail := k.do(c, ctx)
		if ctx.Err() != nil {
			return // the run ended during the request: not an answer
		}
		c.st.record(k.name, k.valid, code, failed, detail)
		return
	}
}

func (c *client) url(path string) string { return "http://" + c.addr + path }

// plain sends a request and returns its status; failed is true on a
// transport error.
func (c *client) plain(ctx context.Context, method, path string, body []byte, hdr map[string]string) (string, bool, string) {
	code, raw, err := c.send(ctx, method, path, body, hdr)
	if err != nil {
		return "error", true, err.Error()
	}
	return strconv.Itoa(code), false, string(raw)
}

func (c *client) send(ctx context.Context, method, path string, body []byte, hdr map[string]string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, raw, err
}

// scoring sends a valid scoring request: it fails unless the answer is
// a 200 with as many finite scores as rows sent.
func (c *client) scoring(ctx context.Context, path string, body []byte, hdr map[string]string) (string, bool, string) {
	code, raw, err := c.send(ctx, "POST", path, body, hdr)
	if err != nil {
		return "error", true, err.Error()
	}
	if code != 200 {
		return strconv.Itoa(code), true, string(raw)
	}
	var ans struct {
		Scores  []float64 `json:"scores"`
		Outputs []struct {
			Name string `json:"name"`
			Data []any  `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return "200-unreadable", true, string(raw)
	}
	scores := ans.Scores
	for _, o := range ans.Outputs {
		if o.Name == "score" {
			for _, v := range o.Data {
				f, _ := v.(float64)
				scores = append(scores, f)
			}
		}
	}
	if len(scores) == 0 {
		return "200-no-scores", true, string(raw)
	}
	for _, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return "200-nonfinite", true, string(raw)
		}
	}
	return "200", false, ""
}

// raw sends head and body over a fresh TCP connection (closing the
// writing half after them when closeWrite) and reads the answer.
func (c *client) raw(ctx context.Context, head string, body []byte, closeWrite bool) (string, bool, string) {
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return "error", true, err.Error()
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := conn.Write(append([]byte(head), body...)); err != nil {
		return "closed", false, err.Error()
	}
	if closeWrite {
		_ = conn.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		// The server may close without an answer; that is no fault.
		return "closed", false, err.Error()
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return strconv.Itoa(resp.StatusCode), false, string(raw)
}

// Bodies.

func (c *client) tabRows(n int) []float32 {
	x := make([]float32, n*tabDim)
	for i := range x {
		x[i] = float32(c.r.NormFloat64())
	}
	return x
}

func jsonFloats(x []float32) string {
	var b strings.Builder
	for i, v := range x {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
	}
	return b.String()
}

func (c *client) tabJSON(n int) []byte {
	return fmt.Appendf(nil, `{"id":"soak","inputs":[{"name":"input","shape":[%d,%d],"datatype":"FP32","data":[%s]}]}`, n, tabDim, jsonFloats(c.tabRows(n)))
}

func (c *client) v1Rows(n int) []byte {
	x := c.tabRows(n)
	var b strings.Builder
	b.WriteString(`{"rows":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("[" + jsonFloats(x[i*tabDim:(i+1)*tabDim]) + "]")
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// tabBinary is a binary-extension request of n rows (NaN in one of them
// when nan) and its header length.
func (c *client) tabBinary(n int, nan bool) ([]byte, string) {
	x := c.tabRows(n)
	if nan {
		x[c.r.IntN(len(x))] = float32([]float64{math.NaN(), math.Inf(1), math.Inf(-1)}[c.r.IntN(3)])
	}
	head := fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,%d],"datatype":"FP32","parameters":{"binary_data_size":%d}}]}`, n, tabDim, 4*len(x))
	b := []byte(head)
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b, strconv.Itoa(len(head))
}

// imgJSON is n of the valid images, every pixel multiplied by scale
// when scale is not 0.
func (c *client) imgJSON(n int, scale float32) []byte {
	var x []float32
	for i := 0; i < n; i++ {
		img := c.m.imgs[c.r.IntN(len(c.m.imgs))]
		for _, v := range img {
			if scale != 0 {
				v = (v + 1) * scale
			}
			x = append(x, v)
		}
	}
	return fmt.Appendf(nil, `{"inputs":[{"name":"input","shape":[%d,1,%d,%d],"datatype":"FP32","data":[%s]}]}`, n, imgSide, imgSide, jsonFloats(x))
}

// Request kinds.

func (c *client) v1Tab(ctx context.Context) (string, bool, string) {
	return c.scoring(ctx, "/v1/models/tab:score", c.v1Rows(1+c.r.IntN(20)), nil)
}

func (c *client) metadata(ctx context.Context) (string, bool, string) {
	reqs := [][2]string{{"GET", "/v2/models/tab"}, {"GET", "/v2/models/vm/versions/2"}, {"GET", "/v2/models"}, {"GET", "/v2/health/ready"},
		{"GET", "/v2/health/live"}, {"GET", "/v2/models/img/ready"}, {"POST", "/v2/repository/index"}, {"GET", "/v1/models"}, {"GET", "/metrics"}}
	q := reqs[c.r.IntN(len(reqs))]
	code, raw, err := c.send(ctx, q[0], q[1], nil, nil)
	if err != nil {
		return "error", true, err.Error()
	}
	return strconv.Itoa(code), code != 200, q[1] + ": " + string(raw)
}

func (c *client) malformedJSON(ctx context.Context) (string, bool, string) {
	valid := c.tabJSON(3)
	var body []byte
	switch c.r.IntN(6) {
	case 0: // cut anywhere (not to nothing: an empty body is a valid
		// repository index request)
		body = valid[:1+c.r.IntN(len(valid)-1)]
	case 1: // random bytes, the first not blank
		body = make([]byte, 1+c.r.IntN(512))
		for i := range body {
			body[i] = byte(c.r.IntN(256))
		}
		body[0] = '#'
	case 2: // NaN is not JSON
		body = []byte(`{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[NaN,1,2,3,4,5,6,7]}]}`)
	case 3: // deep nesting
		body = []byte(`{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}]}`)
	case 4: // trailing garbage
		body = append(bytes.Clone(valid), []byte(`}{"x":1}`)...)
	default: // a string where numbers go
		body = []byte(`{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":["1","2","3","4","5","6","7","8"]}]}`)
	}
	paths := []string{"/v2/models/tab/infer", "/v1/models/tab:score", "/v2/models/img/infer", "/v2/repository/index"}
	return c.plain(ctx, "POST", paths[c.r.IntN(len(paths))], body, nil)
}

func (c *client) malformedBinary(ctx context.Context) (string, bool, string) {
	body, head := c.tabBinary(4, false)
	h, _ := strconv.Atoi(head)
	switch c.r.IntN(5) {
	case 0: // the header length past the body
		head = strconv.Itoa(len(body) + 1 + c.r.IntN(1000))
	case 1: // not a number
		head = "-5"
	case 2: // the binary part cut short
		body = body[:h+c.r.IntN(len(body)-h)]
	case 3: // binary_data_size larger than what follows
		body = bytes.Replace(body, []byte(`"binary_data_size":128`), []byte(`"binary_data_size":999999999`), 1)
	default: // the header length inside the JSON
		head = strconv.Itoa(h / 2)
	}
	return c.plain(ctx, "POST", "/v2/models/tab/infer", body, map[string]string{"Inference-Header-Content-Length": head})
}

func (c *client) nanRows(ctx context.Context) (string, bool, string) {
	if c.r.IntN(2) == 0 {
		body, head := c.tabBinary(1+c.r.IntN(10), true)
		return c.plain(ctx, "POST", "/v2/models/tab/infer", body, map[string]string{"Inference-Header-Content-Length": head})
	}
	// Overflows float32: +Inf once parsed.
	return c.plain(ctx, "POST", "/v1/models/tab:score", []byte(`{"rows":[[1e39,0,0,0,0,0,0,0]]}`), nil)
}

func (c *client) pathTricks(ctx context.Context) (string, bool, string) {
	paths := []string{
		"/v2/models/../../../../etc/passwd",
		"/v2/models/tab/../../../../etc/passwd/infer",
		"/v2/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd/infer",
		"/v2/models/..%2F..%2Fetc%2Fpasswd",
		"/v2/models/tab%00/infer",
		"//v2//models//tab//infer",
		"/v2/models/tab/infer/../../../..",
		"/v2/models/" + strings.Repeat("a", 8000) + "/infer",
		"/v2/models/tab/versions/1/../../../../../proc/self/environ",
		"/v1/models/..%2f..%2fvm:score",
		"/v2/models/vm/versions/1%2f..%2f2/infer",
	}
	p := paths[c.r.IntN(len(paths))]
	body := c.tabJSON(1)
	return c.raw(ctx, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", p, len(body)), body, false)
}
