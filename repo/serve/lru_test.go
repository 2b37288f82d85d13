package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/repo/store"
)

// The client memory forgets entries after its ttl and holds at most max,
// dropping the least recently put.
func TestLRUBoundAndExpiry(t *testing.T) {
	t0 := time.Now()
	c := newLRU[string, int](2, time.Minute)
	c.put("a", 1, t0)
	c.put("b", 2, t0)
	c.put("a", 3, t0) // a is now the most recent
	c.put("c", 4, t0)
	if _, ok := c.get("b", t0); ok || c.len() != 2 {
		t.Errorf("b kept (%d entries); the least recently put should go", c.len())
	}
	if v, ok := c.get("a", t0); !ok || v != 3 {
		t.Errorf("a = %d, %v; want 3", v, ok)
	}
	if _, ok := c.get("c", t0.Add(2*time.Minute)); ok || c.len() != 1 {
		t.Errorf("c still there after its ttl (%d entries)", c.len())
	}
}

// A client is remembered by its connection for connMemory and by its
// address for clientMemory; the connection wins while it is remembered.
func TestSigOrderMemory(t *testing.T) {
	now := time.Now()
	o := newSigOrder(func() time.Time { return now })
	const key = "repodata/repomd.xml"
	get := func(remote string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/"+key, nil)
		r.RemoteAddr = remote
		return r
	}
	serve := func(remote, content string) {
		sum := sha256.Sum256([]byte(content))
		info := store.Info{Key: key, Size: int64(len(content)), Version: hex.EncodeToString(sum[:])}
		if _, err := o.remember(get(remote), key, memFile{bytes.NewReader([]byte(content))}, info); err != nil {
			t.Fatal(err)
		}
	}
	serve("192.0.2.1:1000", "v1") // one client keeps its connection
	serve("192.0.2.1:2000", "v2") // another one at the same address
	for remote, want := range map[string]string{"192.0.2.1:1000": "v1", "192.0.2.1:2000": "v2", "192.0.2.1:3000": "v2", "198.51.100.1:1000": ""} {
		if got := string(o.lastServed(get(remote), key)); got != want {
			t.Errorf("%s: remembered %q, want %q", remote, got, want)
		}
	}
	now = now.Add(connMemory + time.Second)
	if got := string(o.lastServed(get("192.0.2.1:1000"), key)); got != "v2" {
		t.Errorf("after connMemory the connection is still remembered (%q)", got)
	}
	now = now.Add(clientMemory)
	if got := o.lastServed(get("192.0.2.1:1000"), key); got != nil {
		t.Errorf("after clientMemory the address is still remembered (%q)", got)
	}
}
