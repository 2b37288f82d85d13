package provenance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/store"
)

// indexVersion is the index format; an index of another version is
// ignored and rebuilt.
const indexVersion = 1

// indexFile is the stored index: each record with what the store said of
// the object it was read from or written to.
type indexFile struct {
	Version int     `json:"version"`
	Entries []entry `json:"entries"`
}

// entry is one record and the stored object it is a copy of.
type entry struct {
	Key     string              `json:"key"`
	Size    int64               `json:"size"`
	Version string              `json:"version,omitempty"`
	ModTime time.Time           `json:"mod_time,omitzero"`
	Record  pipeline.Provenance `json:"record"`
}

// current reports whether the entry is a copy of the object a listing
// shows: the same size, and the same version and write time wherever both
// sides know them (dir stores list write times, S3 stores versions).
func (e entry) current(info store.Info) bool {
	if e.Size != info.Size || (e.Version == "" || info.Version == "") && (e.ModTime.IsZero() || info.ModTime.IsZero()) {
		return false
	}
	if e.Version != "" && info.Version != "" && e.Version != info.Version {
		return false
	}
	return e.ModTime.IsZero() || info.ModTime.IsZero() || e.ModTime.Equal(info.ModTime)
}

// index is the index as loaded: one entry per record key.
type index map[string]entry

// decodeIndex decodes a stored index; nil (and no error) means it is of
// another version and is to be rebuilt.
func decodeIndex(data []byte) (index, error) {
	var f indexFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, &CorruptError{Key: IndexKey, Err: err}
	}
	if f.Version != indexVersion {
		return nil, nil
	}
	idx := index{}
	for _, e := range f.Entries {
		if !strings.HasPrefix(e.Key, Prefix) || !strings.HasSuffix(e.Key, ".json") {
			return nil, &CorruptError{Key: IndexKey, Err: fmt.Errorf("entry %q is not a provenance record's key", e.Key)}
		}
		idx[e.Key] = e
	}
	return idx, nil
}

// loadIndex reads the stored index and brings it up to date with a
// listing of the records: entries whose record is gone are dropped, and
// records it lacks or holds an old copy of are read. A corrupt index is
// ignored: every record is read again.
func loadIndex(ctx context.Context, st store.Store) (index, error) {
	stored, err := readIndex(ctx, st)
	if err != nil {
		return nil, err
	}
	idx := index{}
	for info, err := range st.List(ctx, Prefix) {
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", Prefix, err)
		}
		if !strings.HasSuffix(info.Key, ".json") {
			continue
		}
		if e, ok := stored[info.Key]; ok && e.current(info) {
			idx[info.Key] = e
			continue
		}
		p, err := readJSON[pipeline.Provenance](ctx, st, info.Key)
		if err != nil {
			return nil, err
		}
		idx.set(info, p)
	}
	return idx, nil
}

// readIndex returns the stored index, nil when there is none or it cannot
// be used.
func readIndex(ctx context.Context, st store.Store) (index, error) {
	r, _, err := st.Get(ctx, IndexKey)
	if errors.Is(err, store.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", IndexKey, err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", IndexKey, err)
	}
	idx, err := decodeIndex(data)
	if err != nil {
		return nil, nil // a cache: a corrupt one is rebuilt from the records
	}
	return idx, nil
}

// set records p as the record stored at info.Key.
func (idx index) set(info store.Info, p pipeline.Provenance) {
	idx[info.Key] = entry{Key: info.Key, Size: info.Size, Version: info.Version, ModTime: info.ModTime, Record: p}
}

// encode returns the index as stored, entries in key order.
func (idx index) encode() ([]byte, error) {
	f := indexFile{Version: indexVersion, Entries: make([]entry, 0, len(idx))}
	for _, e := range idx {
		f.Entries = append(f.Entries, e)
	}
	slices.SortFunc(f.Entries, func(a, b entry) int { return strings.Compare(a.Key, b.Key) })
	data, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", IndexKey, err)
	}
	return data, nil
}

// records returns the records in key order.
func (idx index) records() []pipeline.Provenance {
	keys := make([]string, 0, len(idx))
	for k := range idx {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]pipeline.Provenance, len(keys))
	for i, k := range keys {
		out[i] = idx[k].Record
	}
	return out
}
