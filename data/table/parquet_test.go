package table

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/parquet-go/parquet-go"
)

type pqOrder struct {
	OrderID  string     `parquet:"order_id"`
	PlacedAt *time.Time `parquet:"placed_at,optional"`
	Amount   *float64   `parquet:"amount,optional"`
	Country  *string    `parquet:"country,optional"`
	Express  *bool      `parquet:"express,optional"`
	Items    int64      `parquet:"items"`
	Label    *int32     `parquet:"is_fraud,optional"`
}

// orders returns n rows with a few nulls, and the same table as CSV text.
func orders(n int) ([]pqOrder, string) {
	var rows []pqOrder
	var b strings.Builder
	b.WriteString("order_id,placed_at,amount,country,express,items,is_fraud\n")
	countries := []string{"FR", "DE", "FR", "US", "ES"}
	base := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		r := pqOrder{OrderID: fmt.Sprintf("ORD-%d", 10000+i), Items: int64(1 + i*7%5)}
		at := base.Add(time.Duration(i) * 29 * time.Hour).Add(time.Duration(i*17) * time.Minute)
		amount := float64(i*37%101) + 0.25
		country := countries[i%5]
		express := i%3 == 0
		label := int32(0)
		if i%9 == 4 {
			label = 1
		}
		cells := []string{r.OrderID, at.Format("2006-01-02 15:04:05"), fmt.Sprint(amount), country, fmt.Sprint(express), fmt.Sprint(r.Items), fmt.Sprint(label)}
		if i != 3 {
			r.PlacedAt = &at
		} else {
			cells[1] = ""
		}
		if i%11 != 2 {
			r.Amount = &amount
		} else {
			cells[2] = "NA"
		}
		if i != 7 {
			r.Country = &country
		} else {
			cells[3] = ""
		}
		if i != 5 {
			r.Express = &express
		} else {
			cells[4] = ""
		}
		if i%4 != 1 {
			r.Label = &label
		} else {
			cells[6] = ""
		}
		rows = append(rows, r)
		b.WriteString(strings.Join(cells, ",") + "\n")
	}
	return rows, b.String()
}

func writeParquet(t *testing.T, rows []pqOrder) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := parquet.Write(&b, rows, parquet.MaxRowsPerRowGroup(16)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "orders.parquet")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, b.Bytes()
}

func TestParquetRoundTrip(t *testing.T) {
	rows, text := orders(50)
	path, _ := writeParquet(t, rows)
	o := Options{LabelColumn: "is_fraud"}
	pq, err := ReadFile(path, o)
	if err != nil {
		t.Fatal(err)
	}
	if pq.Format != "parquet" || pq.Rows != 50 || strings.Join(pq.Header(), ",") != "order_id,placed_at,amount,country,express,items,is_fraud" {
		t.Fatalf("format %s, %d rows, header %q", pq.Format, pq.Rows, pq.Header())
	}
	storage := map[string]Storage{"order_id": StoreText, "placed_at": StoreTime, "amount": StoreNumber, "country": StoreText, "express": StoreBool, "items": StoreNumber, "is_fraud": StoreNumber}
	missing := map[string]int{"order_id": 0, "placed_at": 1, "amount": 5, "country": 1, "express": 1, "items": 0, "is_fraud": 13}
	for _, c := range pq.Columns {
		if c.Storage != storage[c.Name] || c.MissingCount() != missing[c.Name] {
			t.Errorf("%s: %s with %d missing, want %s with %d", c.Name, c.Storage, c.MissingCount(), storage[c.Name], missing[c.Name])
		}
	}
	if s, _ := pq.Column("placed_at").Text(1); s != "2024-03-02T14:17:00Z" {
		t.Errorf("placed_at of row 1 = %s", s)
	}
	if v, ok := pq.Column("amount").Float(1); !ok || v != 37.25 {
		t.Errorf("amount of row 1 = %v %v", v, ok)
	}
	if _, ok := pq.Column("amount").Float(2); ok {
		t.Error("a null amount is present")
	}
	if pq.Line(0) != 0 {
		t.Error("a Parquet table has line numbers")
	}

	// The same table as CSV: fitted on the CSV, both transform alike.
	csvRaw, err := ReadCSV(strings.NewReader(text), "orders.csv", o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Fit(csvRaw)
	if err != nil {
		t.Fatal(err)
	}
	want, wantCar, err := p.Transform(csvRaw)
	if err != nil {
		t.Fatal(err)
	}
	got, gotCar, err := p.Transform(pq)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.FeatureNames, want.FeatureNames) {
		t.Fatalf("features %q vs %q", got.FeatureNames, want.FeatureNames)
	}
	for i := 0; i < want.N; i++ {
		if !slices.Equal(got.Row(i), want.Row(i)) {
			t.Errorf("row %d: parquet %v\n csv %v", i, got.Row(i), want.Row(i))
		}
	}
	if !slices.Equal(gotCar.Labels, wantCar.Labels) || !slices.Equal(gotCar.IDs[0].Values, wantCar.IDs[0].Values) {
		t.Error("carried labels or ids differ")
	}
	// Fitting on the Parquet table infers the same kinds.
	q, err := Fit(pq)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range q.Schema().Columns {
		if w := p.Schema().Columns[i]; c.Kind != w.Kind {
			t.Errorf("%s: parquet %s, csv %s", c.Name, c.Kind, w.Kind)
		}
	}
	// Ignored columns are not read.
	pq2, err := ReadFile(path, Options{Ignore: []string{"country"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := pq2.Column("country"); c.Storage != StoreNone || c.Len() != 0 {
		t.Errorf("ignored column: %s, %d cells", c.Storage, c.Len())
	}
}

func TestParquetTypes(t *testing.T) {
	type row struct {
		Day   int32   `parquet:"day,date"`
		Milli int64   `parquet:"ms,timestamp(millisecond)"`
		Small int32   `parquet:"small"`
		Ratio float32 `parquet:"ratio"`
		Name  []byte  `parquet:"name"`
		Flag  bool    `parquet:"flag"`
	}
	rows := []row{
		{Day: 19783, Milli: 1709283600123, Small: -3, Ratio: 0.5, Name: []byte("a"), Flag: true},
		{Day: 19784, Milli: 1709370000000, Small: 4, Ratio: 1.5, Name: []byte{0xff, 0x00}, Flag: false},
	}
	var b bytes.Buffer
	if err := parquet.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	raw, err := ReadParquet(bytes.NewReader(b.Bytes()), int64(b.Len()), "types.parquet", Options{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(col string, i int, want string) {
		t.Helper()
		if got, _ := raw.Column(col).Text(i); got != want {
			t.Errorf("%s[%d] = %q, want %q", col, i, got, want)
		}
	}
	check("day", 0, "2024-03-01T00:00:00Z")
	check("ms", 0, "2024-03-01T09:00:00.123Z")
	check("small", 0, "-3")
	check("ratio", 1, "1.5")
	check("name", 0, "a")
	check("name", 1, "ff00") // not UTF-8: hex
	check("flag", 0, "true")
}

func TestParquetDamaged(t *testing.T) {
	rows, _ := orders(50)
	_, whole := writeParquet(t, rows)
	read := func(b []byte) error {
		_, err := ReadParquet(bytes.NewReader(b), int64(len(b)), "orders.parquet", Options{})
		return err
	}
	if err := read(whole); err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", what)
			return
		}
		if !strings.HasPrefix(err.Error(), "orders.parquet: ") {
			t.Errorf("%s: %v does not name the file", what, err)
		}
		if !errors.Is(err, data.ErrMalformed) && !errors.Is(err, data.ErrTruncated) {
			t.Errorf("%s: %v is neither malformed nor truncated", what, err)
		}
	}
	for _, cut := range []int{0, 4, 11, 100, len(whole) / 2, len(whole) - 8, len(whole) - 1} {
		check(fmt.Sprintf("cut at %d of %d", cut, len(whole)), read(whole[:cut]))
	}
	// A footer length claiming more than the file.
	bad := bytes.Clone(whole)
	binary.LittleEndian.PutUint32(bad[len(bad)-8:], 1<<30)
	check("footer length", read(bad))
	// Garbage where the footer is.
	bad = bytes.Clone(whole)
	n := int(binary.LittleEndian.Uint32(bad[len(bad)-8:]))
	for i := len(bad) - 8 - n; i < len(bad)-8; i++ {
		bad[i] = byte(i * 31)
	}
	check("garbage footer", read(bad))
	// Garbage in the data pages: an error or other values, never a panic.
	for off := 4; off < len(whole)-8-n; off += 97 {
		bad = bytes.Clone(whole)
		for i := off; i < off+16 && i < len(bad)-8-n; i++ {
			bad[i] ^= 0xA5
		}
		_ = read(bad)
	}
	// The PAR1 magic in front of text.
	check("magic only", read([]byte("PAR1 not really PAR1")))
}
