package repodata

import (
	"bufio"
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

// filled returns a Package with every field, nested ones included, set to a
// value of its own, found by reflection: a field added to Package and left
// out of the cache fails TestCacheRoundTrip.
func filled(seed int) *Package {
	p := new(Package)
	n := seed
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		n++
		switch v.Kind() {
		case reflect.String:
			v.SetString(fmt.Sprintf("s%d<é>", n))
		case reflect.Int64:
			v.SetInt(int64(n) * -7919)
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			for i := range 2 {
				fill(v.Index(i))
			}
		case reflect.Struct:
			for i := range v.NumField() {
				fill(v.Field(i))
			}
		default:
			panic("filled: a Package field of kind " + v.Kind().String())
		}
	}
	fill(reflect.ValueOf(p).Elem())
	return p
}

// encoded is the cache file of pkgs keyed by primary.
func encoded(t *testing.T, primary string, pkgs ...*Package) []byte {
	t.Helper()
	ch := make(chan *Package, len(pkgs))
	for _, p := range pkgs {
		ch <- p
	}
	close(ch)
	var buf bytes.Buffer
	buf.WriteString(primary + "\n")
	w := bufio.NewWriter(&buf)
	encodeCache(w, ch)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCacheRoundTrip(t *testing.T) {
	want := []*Package{filled(0), filled(1000), {Name: "bare", Arch: "noarch", Version: "1", Location: "bare.rpm", ChecksumType: "sha256", Checksum: "ab"}}
	got, ok := decodeCache(encoded(t, "key", want...), "key")
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %v (ok %v), want %v", got, ok, want)
	}
}

func TestCacheRejectsWhatItDidNotWrite(t *testing.T) {
	data := encoded(t, "key", filled(0), filled(1000))
	oneRecord := len(encoded(t, "key", filled(0))) - 1 // without the end mark
	cases := map[string][]byte{
		"another key":         bytes.Replace(data, []byte("key"), []byte("kez"), 1),
		"cut between records": data[:oneRecord],
		"cut in a record":     data[:len(data)/2],
		"no end mark":         data[:len(data)-1],
		"bytes after the end": append(bytes.Clone(data), 0),
		"an older format":     bytes.Replace(data, []byte(cacheFormat), []byte("kabiforge-update-cache 1\n"), 1),
	}
	// A record of empty strings and zero numbers whose Provides claim 2^28
	// entries in a file of a few bytes.
	huge := append([]byte("key\n"+cacheFormat), recordFollows)
	huge = append(huge, make([]byte, 18+7)...)
	cases["a list longer than the file"] = append(huge, 0x80, 0x80, 0x80, 0x80, 0x01, endOfRecords)
	for name, c := range cases {
		if pkgs, ok := decodeCache(c, "key"); ok {
			t.Errorf("%s: decoded %d records", name, len(pkgs))
		}
	}
}
