package serve

import (
	"testing"
	"time"
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
