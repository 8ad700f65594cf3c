package codec

import (
	"errors"
	"math"
	"testing"

	"github.com/oddity-ml/oddity/data"
)

func sample() Set {
	negZero := float32(math.Copysign(0, -1))
	return Set{Dataset: &data.Dataset{Name: "t", N: 3, Shape: []int{2, 2},
		X:          []float32{0, negZero, 1.5, -2, 1e-30, 3.4e38, 0.1, 0.1, 7, 7, 7, 7},
		Y:          []int{-1, 0, 300},
		ClassNames: []string{"a", "b"}, FeatureNames: []string{"f1", "f2", "f3", "f4"}},
		Source: []int{5, 9, 1000000}}
}

func TestRoundTrip(t *testing.T) {
	in := sample()
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.Name != "t" || out.N != 3 || len(out.Shape) != 2 || out.Shape[0] != 2 || out.Shape[1] != 2 {
		t.Fatalf("header %q %d %v", out.Name, out.N, out.Shape)
	}
	for i, v := range in.X {
		if math.Float32bits(out.X[i]) != math.Float32bits(v) {
			t.Errorf("value %d: %v, want %v (bit-exact)", i, out.X[i], v)
		}
	}
	for i := range in.Y {
		if out.Y[i] != in.Y[i] || out.Source[i] != in.Source[i] {
			t.Errorf("sample %d: label %d source %d, want %d %d", i, out.Y[i], out.Source[i], in.Y[i], in.Source[i])
		}
	}
	if len(out.ClassNames) != 2 || out.ClassNames[1] != "b" || len(out.FeatureNames) != 4 || out.FeatureNames[3] != "f4" {
		t.Errorf("names %v %v", out.ClassNames, out.FeatureNames)
	}
	b2, _ := Encode(in)
	if string(b2) != string(b) {
		t.Error("encoding twice gives different bytes")
	}
}

func TestUnlabelled(t *testing.T) {
	in := sample()
	in.Y = nil
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.Y != nil {
		t.Errorf("labels %v, want none", out.Y)
	}
}

func TestEncodeRejects(t *testing.T) {
	in := sample()
	in.Source = in.Source[:2]
	if _, err := Encode(in); err == nil {
		t.Error("short source list accepted")
	}
	in = sample()
	in.Y[0] = 40000
	if _, err := Encode(in); err == nil {
		t.Error("label outside int16 accepted")
	}
	// 70,000 distinct values cannot be indexed by 16 bits.
	x := make([]float32, 70000)
	for i := range x {
		x[i] = float32(i)
	}
	big := Set{Dataset: &data.Dataset{Name: "big", N: 70000, Shape: []int{1}, X: x}, Source: make([]int, 70000)}
	if _, err := Encode(big); err == nil {
		t.Error("70,000 distinct values accepted")
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	b, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{nil, []byte("not gzip"), b[:len(b)/2], b[:len(b)-4]} {
		if _, err := Decode(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("damaged stream of %d bytes: error %v, want ErrFormat", len(bad), err)
		}
	}
	flipped := append([]byte(nil), b...)
	flipped[len(flipped)/2] ^= 0xff
	if _, err := Decode(flipped); err == nil {
		t.Error("stream with a flipped byte decoded without error")
	}
}
