// Package provenance keeps the record of what a repository publishes: one
// JSON record per published RPM (where it came from, who built and signed
// it, which kernel it is for) under Prefix in the repository's store, and
// an index of them all, so that finding the previous kernel or a kmod's
// published build reads one object rather than every record.
//
// The records are the truth; the index is a cache of them that Load checks
// against a listing of the records, so a crash between writing a record
// and the index, or two writers racing, costs reads, never a wrong answer.
package provenance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/store"
)

// Prefix is where provenance records live in a repository's store: one
// JSON file per published RPM, named after it.
const Prefix = ".kabiforge/provenance/"

// IndexKey is the index of every record under Prefix.
const IndexKey = ".kabiforge/provenance.index.json"

// Key is the key of an RPM's provenance record.
func Key(rpmName string) string { return Prefix + rpmName + ".json" }

// CorruptError is a stored record that does not decode.
type CorruptError struct {
	Key string
	Err error
}

func (e *CorruptError) Error() string { return fmt.Sprintf("%s: %v", e.Key, e.Err) }

// Unwrap returns the decoding error.
func (e *CorruptError) Unwrap() error { return e.Err }

// Decode decodes the provenance record stored at key.
func Decode(key string, data []byte) (pipeline.Provenance, error) {
	return DecodeJSON[pipeline.Provenance](key, data)
}

// DecodeJSON decodes the JSON record stored at key; a record that does not
// decode is a *CorruptError naming the key.
func DecodeJSON[T any](key string, data []byte) (T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return v, &CorruptError{Key: key, Err: err}
	}
	return v, nil
}

// ReadJSON decodes every JSON record under prefix in a store, in key order:
// the repository's other records (kernel outcomes, drift reports) are read
// with it too.
func ReadJSON[T any](ctx context.Context, st store.Store, prefix string) ([]T, error) {
	var out []T
	for info, err := range st.List(ctx, prefix) {
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		if !strings.HasSuffix(info.Key, ".json") {
			continue
		}
		v, err := readJSON[T](ctx, st, info.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// readJSON reads and decodes one record.
func readJSON[T any](ctx context.Context, st store.Store, key string) (T, error) {
	var zero T
	r, _, err := st.Get(ctx, key)
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", key, err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", key, err)
	}
	return DecodeJSON[T](key, data)
}

// Write stores records, then the index of every record the repository
// now has.
func Write(ctx context.Context, st store.Store, recs ...pipeline.Provenance) error {
	if len(recs) == 0 {
		return nil
	}
	idx, err := loadIndex(ctx, st)
	if err != nil {
		return err
	}
	for _, p := range recs {
		data, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return fmt.Errorf("encode provenance of %s: %w", p.RPM.Name, err)
		}
		info, err := st.Put(ctx, Key(p.RPM.Name), bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("write provenance of %s: %w", p.RPM.Name, err)
		}
		idx.set(info, p)
	}
	data, err := idx.encode()
	if err != nil {
		return err
	}
	if _, err := st.Put(ctx, IndexKey, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("write %s: %w", IndexKey, err)
	}
	return nil
}

// Load returns every provenance record of a repository: the index's, with
// the records it lacks or holds an old copy of read from the store.
func Load(ctx context.Context, st store.Store) (Set, error) {
	idx, err := loadIndex(ctx, st)
	if err != nil {
		return Set{}, err
	}
	return Set{records: idx.records()}, nil
}
