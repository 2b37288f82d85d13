package serve

import (
	"container/list"
	"time"
)

// lru is a bounded map whose entries expire ttl after they were put; when
// full, putting a new key drops the least recently put one. It is not safe
// for concurrent use.
type lru[K comparable, V any] struct {
	max     int
	ttl     time.Duration
	order   *list.List // of *lruEntry[K, V], most recent first
	entries map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
	at  time.Time
}

func newLRU[K comparable, V any](max int, ttl time.Duration) *lru[K, V] {
	return &lru[K, V]{max: max, ttl: ttl, order: list.New(), entries: map[K]*list.Element{}}
}

// get returns the value put under k, unless it expired by now.
func (c *lru[K, V]) get(k K, now time.Time) (V, bool) {
	el, ok := c.entries[k]
	if !ok {
		var zero V
		return zero, false
	}
	e := el.Value.(*lruEntry[K, V])
	if now.Sub(e.at) > c.ttl {
		c.order.Remove(el)
		delete(c.entries, k)
		var zero V
		return zero, false
	}
	return e.val, true
}

// put sets k to v as of now and drops the oldest entries beyond max.
func (c *lru[K, V]) put(k K, v V, now time.Time) {
	if el, ok := c.entries[k]; ok {
		e := el.Value.(*lruEntry[K, V])
		e.val, e.at = v, now
		c.order.MoveToFront(el)
		return
	}
	c.entries[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v, at: now})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*lruEntry[K, V]).key)
	}
}

func (c *lru[K, V]) len() int { return c.order.Len() }
