package table

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// TimeLayouts are the layouts, in time.Parse form, that text timestamps are
// read in, tried in this order. Day-first and month-first dates with slashes
// (01/02/2006) are left out on purpose: they cannot be told apart.
var TimeLayouts = []string{
	time.RFC3339Nano, // also RFC 3339 without fractional seconds
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02",
	time.RFC1123Z,
	time.RFC1123,
	"02 Jan 2006",
	"Jan 2, 2006",
}

// parseNumber parses a finite float.
func parseNumber(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	// Fast reject: every number starts with a digit, a sign or a point.
	switch c := s[0]; {
	case c >= '0' && c <= '9', c == '-', c == '+', c == '.':
	default:
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// parseTime parses s in one of TimeLayouts, trying hint first, and returns
// its wall-clock seconds since 1970 (the zone offset written in s is not
// applied) and the layout that worked.
func parseTime(s, hint string) (float64, string, bool) {
	if len(s) < 8 || len(s) > 64 {
		return 0, "", false
	}
	if hint != "" {
		if t, err := time.Parse(hint, s); err == nil {
			return wallSeconds(t), hint, true
		}
	}
	if c := s[0]; !(c >= '0' && c <= '9') && !unicode.IsLetter(rune(c)) {
		return 0, "", false
	}
	for _, l := range TimeLayouts {
		if l == hint {
			continue
		}
		if t, err := time.Parse(l, s); err == nil {
			return wallSeconds(t), l, true
		}
	}
	return 0, "", false
}

// wallSeconds returns t's wall clock as seconds since 1970-01-01 00:00 of
// the same wall clock.
func wallSeconds(t time.Time) float64 {
	_, off := t.Zone()
	return float64(t.Unix()+int64(off)) + float64(t.Nanosecond())/1e9
}

// boolWord reads the words of a boolean column; with digits it also reads
// 0 and 1 (for columns declared Boolean).
func boolWord(s string, digits bool) (v float64, ok bool) {
	switch strings.ToLower(s) {
	case "true", "t", "yes", "y":
		return 1, true
	case "false", "f", "no", "n":
		return 0, true
	}
	if digits {
		switch s {
		case "1", "1.0":
			return 1, true
		case "0", "0.0":
			return 0, true
		}
	}
	return 0, false
}

// labelWord reads a label: 1 for an anomaly, 0 for a normal row.
func labelWord(s string) (int8, bool) {
	switch strings.ToLower(s) {
	case "1", "1.0", "true", "t", "yes", "y", "anomaly", "anomalous", "abnormal", "outlier", "attack", "fraud":
		return 1, true
	case "0", "0.0", "false", "f", "no", "n", "normal", "inlier", "benign", "legit", "legitimate":
		return 0, true
	}
	return 0, false
}

// labelWords lists what labelWord reads, for error messages.
const labelWords = "anomaly: 1, true, yes, anomaly, abnormal, outlier, attack, fraud; normal: 0, false, no, normal, inlier, benign, legit; blank: unlabelled"

// idLikeName reports whether a column name says it holds identifiers: id,
// uuid, guid, a suffix _id, -id, .id or " id" (any case), or a camel-case
// suffix Id/ID after a lower-case letter (orderId, customerID).
func idLikeName(name string) bool {
	l := strings.ToLower(strings.TrimSpace(name))
	switch l {
	case "id", "uuid", "guid":
		return true
	}
	for _, suf := range []string{"_id", "-id", ".id", " id", "_uuid", "_guid"} {
		if strings.HasSuffix(l, suf) {
			return true
		}
	}
	n := len(name)
	if n >= 3 && (strings.HasSuffix(name, "Id") || strings.HasSuffix(name, "ID")) {
		r := rune(name[n-3])
		return unicode.IsLower(r) || unicode.IsDigit(r)
	}
	return false
}

// textRole reports whether a declared kind makes a column read as text.
func textRole(k Kind) bool {
	return k == Label || k == ID || k == Categorical || k == Boolean
}

// sampleStorage decides how a CSV column is stored from its first values
// (trimmed, missing ones left out): numbers when at least 90% of them are
// numbers, timestamps when at least 90% are timestamps, else text. A
// declared kind decides by itself, and so does a name like an identifier.
func sampleStorage(name string, declared Kind, values []string) (Storage, string) {
	switch {
	case declared == Ignored:
		return StoreNone, ""
	case textRole(declared):
		return StoreText, ""
	case declared == Numeric:
		return StoreNumber, ""
	case declared == Timestamp:
		for _, v := range values {
			if _, l, ok := parseTime(v, ""); ok {
				return StoreTime, l
			}
		}
		return StoreTime, ""
	case idLikeName(name), len(values) == 0:
		return StoreText, ""
	}
	nums := 0
	for _, v := range values {
		if _, ok := parseNumber(v); ok {
			nums++
		}
	}
	if nums*10 >= len(values)*9 {
		return StoreNumber, ""
	}
	if nums > 0 {
		return StoreText, ""
	}
	times, layout := 0, ""
	for _, v := range values {
		if _, l, ok := parseTime(v, layout); ok {
			times++
			layout = l
		}
	}
	if times*10 >= len(values)*9 {
		return StoreTime, layout
	}
	return StoreText, ""
}

// promote turns a text column whose every value is a number (or every value
// a timestamp) into a numeric (timestamp) one, as when its first rows were
// all missing. It reports whether it did.
func promote(c *RawColumn) bool {
	if c.Storage != StoreText || len(c.dict) == 0 {
		return false
	}
	vals := make([]float64, len(c.dict))
	to := StoreNumber
	for i, s := range c.dict {
		v, ok := parseNumber(s)
		if !ok {
			to = 0
			break
		}
		vals[i] = v
	}
	if to == 0 {
		to = StoreTime
		layout := ""
		for i, s := range c.dict {
			v, l, ok := parseTime(s, layout)
			if !ok {
				return false
			}
			vals[i], layout = v, l
		}
	}
	c.nums = make([]float64, c.n)
	for i, code := range c.codes {
		if !c.miss.get(i) {
			c.nums[i] = vals[code]
		}
	}
	c.Storage, c.codes, c.dict, c.intern = to, nil, nil, nil
	return true
}
