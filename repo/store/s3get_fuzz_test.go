package store

import (
	"encoding/hex"
	"strings"
	"testing"
)

// An S3 server's ETag is outside data: md5ETag never panics, and names an
// MD5 only for a quoted or bare 32-digit hex string, whose digits it reads.
func FuzzMD5ETag(f *testing.F) {
	for _, s := range []string{`"d41d8cd98f00b204e9800998ecf8427e"`, `"d41d8cd98f00b204e9800998ecf8427e-3"`, ``, `""`, `"zz"`, `W/"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, etag string) {
		sum, ok := md5ETag(etag)
		h := strings.Trim(etag, `"`)
		if ok != (len(h) == 32 && isHex(h)) {
			t.Fatalf("md5ETag(%q) ok = %v", etag, ok)
		}
		if ok && hex.EncodeToString(sum[:]) != strings.ToLower(h) {
			t.Fatalf("md5ETag(%q) = %x", etag, sum)
		}
	})
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}
