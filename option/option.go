// Package option declares a detector's settings once, as tagged fields of
// its Options struct, and derives everything else from that declaration:
// command-line flags (`oddity train`, `eval`, `cluster`), the key=value
// settings of benchmark cells, the server's and the model file's view of
// them, and the listing `oddity methods` prints.
//
// A field takes part when it has an `opt` tag:
//
//	// NTrees is the number of trees (100).
//	NTrees int `json:"n_trees" opt:"trees" help:"number of trees"`
//
// The tag's first element is the option's name (lower case, words joined
// by '-'); a ",omitzero" modifier leaves the option out of Values while it
// holds its type's zero value, so an option added to a method does not
// change the recorded settings (and so the cache keys) of cells that never
// set it; ",auto" makes an empty []int read and print as "auto". An
// `alias` tag lists older names that are still accepted when setting.
//
// Constraints are declared beside the name and checked by Check: `min` and
// `max` (inclusive bounds), `gt` and `lt` (exclusive bounds) for numbers
// (and each element of an []int), and `enum` ("a|b") for strings. Floats
// must always be finite. A method's Validate calls Check and adds only the
// checks that relate several options.
//
// Supported field types: bool, int, uint64, float64, string (and types
// whose underlying type is one of these), and []int (comma-separated).
// Values print as pflag prints them (strconv.FormatFloat(v, 'g', -1, 64)
// for floats), so a value read back from its printed form is the same
// value.
//
// Written by hand because no library binds one struct declaration to pflag
// flags, string maps and listings at once with pflag's exact formatting;
// it is a few hundred lines of reflection over a closed set of types.
package option

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/pflag"
)

// ErrOption is wrapped by every error about an option's name or value,
// from this package and from each method's Options.Validate.
var ErrOption = errors.New("bad option")

// Field describes one declared option.
type Field struct {
	// Name is the option's name, as flags and cell settings spell it.
	Name string `json:"name"`
	// Type is "bool", "int", "uint", "float", "string" or "ints".
	Type string `json:"type"`
	// Help is the one-line description.
	Help string `json:"help"`
	// Value is the option's value in the struct it was read from (for a
	// DefaultOptions value, the default), as it prints.
	Value string `json:"value"`
	// Aliases are older names still accepted when setting.
	Aliases []string `json:"aliases,omitempty"`
	// Range describes the declared constraints ("≥ 1", "> 0, ≤ 1",
	// "squared|huber"), or is empty.
	Range string `json:"range,omitempty"`
}

type fieldSpec struct {
	Field
	index    []int
	omitZero bool
	auto     bool
	bounds   []bound
	enum     []string
}

// bound is one numeric constraint: the value op limit, op one of >=, <=,
// >, <.
type bound struct {
	op    string
	limit float64
	text  string
}

var cache sync.Map // reflect.Type -> []fieldSpec

// specs returns the declared options of the struct type t, in field order.
// A malformed declaration is a programming error: it panics, and every
// method's tests list its options, so it cannot reach a user.
func specs(t reflect.Type) []fieldSpec {
	if v, ok := cache.Load(t); ok {
		return v.([]fieldSpec)
	}
	var out []fieldSpec
	seen := map[string]bool{}
	for _, f := range reflect.VisibleFields(t) {
		tag, ok := f.Tag.Lookup("opt")
		if !ok || tag == "-" || !f.IsExported() {
			continue
		}
		parts := strings.Split(tag, ",")
		s := fieldSpec{Field: Field{Name: parts[0], Help: f.Tag.Get("help")}, index: f.Index}
		for _, m := range parts[1:] {
			switch m {
			case "omitzero":
				s.omitZero = true
			case "auto":
				s.auto = true
			default:
				panic(fmt.Sprintf("option: %s.%s: unknown tag modifier %q", t, f.Name, m))
			}
		}
		if a := f.Tag.Get("alias"); a != "" {
			s.Aliases = strings.Split(a, ",")
		}
		typ, err := typeName(f.Type)
		if err != nil {
			panic(fmt.Sprintf("option: %s.%s: %v", t, f.Name, err))
		}
		s.Type = typ
		for _, n := range append([]string{s.Name}, s.Aliases...) {
			if n == "" || seen[n] || strings.ToLower(n) != n || strings.ContainsAny(n, " _=") {
				panic(fmt.Sprintf("option: %s.%s: bad or duplicate option name %q", t, f.Name, n))
			}
			seen[n] = true
		}
		if s.Help == "" {
			panic(fmt.Sprintf("option: %s.%s: no help tag", t, f.Name))
		}
		var ranges []string
		for _, c := range []struct{ tag, op, word string }{{"min", ">=", "≥"}, {"gt", ">", ">"}, {"max", "<=", "≤"}, {"lt", "<", "<"}} {
			v, ok := f.Tag.Lookup(c.tag)
			if !ok {
				continue
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || typ == "bool" || typ == "string" {
				panic(fmt.Sprintf("option: %s.%s: bad %s tag %q", t, f.Name, c.tag, v))
			}
			s.bounds = append(s.bounds, bound{c.op, x, v})
			ranges = append(ranges, c.word+" "+v)
		}
		if e, ok := f.Tag.Lookup("enum"); ok {
			if typ != "string" {
				panic(fmt.Sprintf("option: %s.%s: enum on a %s", t, f.Name, typ))
			}
			s.enum = strings.Split(e, "|")
			ranges = append(ranges, e)
		}
		s.Range = strings.Join(ranges, ", ")
		out = append(out, s)
	}
	cache.Store(t, out)
	return out
}

func typeName(t reflect.Type) (string, error) {
	switch t.Kind() {
	case reflect.Bool:
		return "bool", nil
	case reflect.Int:
		return "int", nil
	case reflect.Uint64:
		return "uint", nil
	case reflect.Float64:
		return "float", nil
	case reflect.String:
		return "string", nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Int {
			return "ints", nil
		}
	}
	return "", fmt.Errorf("unsupported option type %s", t)
}

// structOf returns the struct ptr points to; ptr must be a non-nil pointer
// to a struct (a programming error otherwise: it panics).
func structOf(ptr any) reflect.Value {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("option: want a non-nil pointer to an options struct, got %T", ptr))
	}
	return v.Elem()
}

// Fields lists the options declared by the struct ptr points to, with
// their current values.
func Fields(ptr any) []Field {
	v := structOf(ptr)
	ss := specs(v.Type())
	out := make([]Field, len(ss))
	for i, s := range ss {
		out[i] = s.Field
		out[i].Value = format(v.FieldByIndex(s.index), s.auto)
	}
	return out
}

// Names returns the declared option names, in declaration order.
func Names(ptr any) []string {
	ss := specs(structOf(ptr).Type())
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

// Check returns the first declared constraint that an option of the
// struct ptr points to breaks, in declaration order, as an error naming
// the option, its value and the constraint ("trees = 0: must be ≥ 1"); nil
// when all hold. Floats must also be finite. The error wraps no sentinel:
// each method's Validate wraps it in its own ErrOption.
func Check(ptr any) error {
	v := structOf(ptr)
	for _, s := range specs(v.Type()) {
		fv := v.FieldByIndex(s.index)
		var xs []float64
		switch fv.Kind() {
		case reflect.Int:
			xs = []float64{float64(fv.Int())}
		case reflect.Uint64:
			xs = []float64{float64(fv.Uint())}
		case reflect.Float64:
			x := fv.Float()
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%s = %v: must be a finite number", s.Name, x)
			}
			xs = []float64{x}
		case reflect.Slice:
			for i := 0; i < fv.Len(); i++ {
				xs = append(xs, float64(fv.Index(i).Int()))
			}
		case reflect.String:
			if s.enum != nil && !slices.Contains(s.enum, fv.String()) {
				return fmt.Errorf("%s = %q: must be one of %s", s.Name, fv.String(), strings.Join(s.enum, ", "))
			}
		}
		for _, x := range xs {
			for _, b := range s.bounds {
				ok := true
				switch b.op {
				case ">=":
					ok = x >= b.limit
				case "<=":
					ok = x <= b.limit
				case ">":
					ok = x > b.limit
				case "<":
					ok = x < b.limit
				}
				if !ok {
					return fmt.Errorf("%s = %s: must be %s %s", s.Name, format(fv, s.auto), map[string]string{">=": "≥", "<=": "≤", ">": ">", "<": "<"}[b.op], b.text)
				}
			}
		}
	}
	return nil
}

// Values returns every option's current value by name, leaving out the
// ",omitzero" options that hold their zero value.
func Values(ptr any) map[string]string {
	v := structOf(ptr)
	out := map[string]string{}
	for _, s := range specs(v.Type()) {
		fv := v.FieldByIndex(s.index)
		if s.omitZero && fv.IsZero() {
			continue
		}
		out[s.Name] = format(fv, s.auto)
	}
	return out
}

// Of returns the names and printed values of the given fields of the
// struct ptr points to; each of fields must be a pointer to one of its
// declared option fields (a programming error otherwise: it panics). It
// lets code outside a method's package record chosen settings without
// spelling their names.
func Of(ptr any, fields ...any) map[string]string {
	v := structOf(ptr)
	out := map[string]string{}
	for _, f := range fields {
		fp := reflect.ValueOf(f)
		found := false
		for _, s := range specs(v.Type()) {
			fv := v.FieldByIndex(s.index)
			if fp.Kind() == reflect.Pointer && fv.Addr().Pointer() == fp.Pointer() && fv.Addr().Type() == fp.Type() {
				out[s.Name] = format(fv, s.auto)
				found = true
				break
			}
		}
		if !found {
			panic(fmt.Sprintf("option: %T is not a pointer to a declared option of %s", f, v.Type()))
		}
	}
	return out
}

// Lookup finds the option called name (or one of its aliases).
func Lookup(ptr any, name string) (Field, bool) {
	v := structOf(ptr)
	if s, ok := find(specs(v.Type()), name); ok {
		f := s.Field
		f.Value = format(v.FieldByIndex(s.index), s.auto)
		return f, true
	}
	return Field{}, false
}

func find(ss []fieldSpec, name string) (fieldSpec, bool) {
	for _, s := range ss {
		if s.Name == name {
			return s, true
		}
		for _, a := range s.Aliases {
			if a == name {
				return s, true
			}
		}
	}
	return fieldSpec{}, false
}

// Set sets the option called name (or an alias) from its printed form.
// An unknown name or a value of the wrong form is an error wrapping
// ErrOption that names the option.
func Set(ptr any, name, value string) error {
	v := structOf(ptr)
	ss := specs(v.Type())
	s, ok := find(ss, name)
	if !ok {
		names := make([]string, len(ss))
		for i, s := range ss {
			names[i] = s.Name
		}
		return fmt.Errorf("%w: no option %q (options: %s)", ErrOption, name, strings.Join(names, ", "))
	}
	if err := parse(v.FieldByIndex(s.index), value, s.auto); err != nil {
		return fmt.Errorf("%w: %s=%q: %v", ErrOption, s.Name, value, err)
	}
	return nil
}

// Apply sets every option of kv, in sorted key order, and stops at the
// first error. A key that names no option is an error.
func Apply(ptr any, kv map[string]string) error {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := Set(ptr, k, kv[k]); err != nil {
			return err
		}
	}
	return nil
}

// Bind adds a flag to fs for every option of the struct ptr points to,
// with the struct's current values as defaults; parsing fs then writes
// into the struct. Options whose name fs already has are skipped, so a
// command's own flags take precedence. Aliases become hidden flags.
func Bind(fs *pflag.FlagSet, ptr any) {
	v := structOf(ptr)
	for _, s := range specs(v.Type()) {
		if fs.Lookup(s.Name) != nil {
			continue
		}
		val := &flagValue{v: v.FieldByIndex(s.index), typ: s.Type, auto: s.auto}
		f := fs.VarPF(val, s.Name, "", s.Help)
		if s.Type == "bool" {
			f.NoOptDefVal = "true"
		}
		for _, a := range s.Aliases {
			if fs.Lookup(a) != nil {
				continue
			}
			af := fs.VarPF(val, a, "", s.Help)
			af.Hidden = true
			if s.Type == "bool" {
				af.NoOptDefVal = "true"
			}
		}
	}
}

// Changed returns the options of fs, bound by Bind, that the command line
// set, by name with their values.
func Changed(fs *pflag.FlagSet, ptr any) map[string]string {
	out := map[string]string{}
	for _, s := range specs(structOf(ptr).Type()) {
		for _, n := range append([]string{s.Name}, s.Aliases...) {
			if f := fs.Lookup(n); f != nil && f.Changed {
				out[s.Name] = f.Value.String()
			}
		}
	}
	return out
}

// SetSeed sets the uint64 field Seed of the struct ptr points to, and
// reports whether it has one. Seeds are not options: every command and
// every benchmark cell sets them per run.
func SetSeed(ptr any, seed uint64) bool {
	f := structOf(ptr).FieldByName("Seed")
	if !f.IsValid() || f.Kind() != reflect.Uint64 || !f.CanSet() {
		return false
	}
	f.SetUint(seed)
	return true
}

// flagValue is a pflag.Value over one option field.
type flagValue struct {
	v    reflect.Value
	typ  string
	auto bool
}

func (f *flagValue) String() string {
	if !f.v.IsValid() {
		return ""
	}
	return format(f.v, f.auto)
}
func (f *flagValue) Set(s string) error { return parse(f.v, s, f.auto) }
func (f *flagValue) Type() string       { return f.typ }

func format(v reflect.Value, auto bool) string {
	switch v.Kind() {
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.String:
		return v.String()
	case reflect.Slice:
		if v.Len() == 0 && auto {
			return "auto"
		}
		s := make([]string, v.Len())
		for i := range s {
			s[i] = strconv.FormatInt(v.Index(i).Int(), 10)
		}
		return strings.Join(s, ",")
	}
	return fmt.Sprint(v.Interface())
}

func parse(v reflect.Value, s string, auto bool) error {
	switch v.Kind() {
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not true or false")
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
		if err != nil || n != int64(int(n)) {
			return errors.New("not an integer")
		}
		v.SetInt(n)
	case reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 64)
		if err != nil {
			return errors.New("not a non-negative integer")
		}
		v.SetUint(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.New("not a finite number")
		}
		v.SetFloat(x)
	case reflect.String:
		v.SetString(s)
	case reflect.Slice:
		s = strings.TrimSpace(s)
		if s == "" || (auto && s == "auto") {
			v.Set(reflect.Zero(v.Type()))
			return nil
		}
		parts := strings.Split(s, ",")
		out := reflect.MakeSlice(v.Type(), len(parts), len(parts))
		for i, p := range parts {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 1 {
				return fmt.Errorf("%q is not a positive integer", p)
			}
			out.Index(i).SetInt(int64(n))
		}
		v.Set(out)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}
