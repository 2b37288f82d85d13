package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/kabiforge/kabiforge/repo/sigfile"
	"github.com/kabiforge/kabiforge/repo/store"
)

// dnf (librepo) GETs repomd.xml and then repomd.xml.asc. A publish landing
// between the two GETs hands the client a repomd.xml.asc whose first
// signature is over the newer repomd.xml. repo/publish keeps the
// signatures of older generations in the file too, and a librepo trying
// every signature accepts it, but librepo 1.14 (Debian 12, dnf 4.14)
// checks only the first and fails with "Bad GPG signature". sigOrder closes
// that window for this server's clients: it remembers which repomd.xml
// each client last received and serves that client repomd.xml.asc with the
// signature over that repomd.xml moved first. Clients it does not remember
// get the file as stored.
const (
	repomdName = "repomd.xml"
	ascName    = "repomd.xml.asc"
	// maxRemembered bounds the size of a repomd.xml kept in memory and of
	// a repomd.xml.asc reordered.
	maxRemembered = 1 << 20
	// clientMemory is how long a client's repomd.xml is remembered: far
	// longer than dnf's gap between its two GETs. connMemory is shorter,
	// about a keep-alive's idle time, so that a port reused by a new
	// connection from the same address is unlikely to meet an old entry.
	clientMemory = 5 * time.Minute
	connMemory   = 30 * time.Second
	// maxClients bounds the clients remembered; maxRepomds the repomd.xml
	// versions kept (a few per repository suffice: the current one and
	// those replaced within clientMemory).
	maxClients = 4096
	maxRepomds = 64
)

// sigOrder remembers which repomd.xml version each client last received.
// A client is both its connection (exact for clients sharing an address,
// each keeping its connection alive) and its IP address (for a client
// opening a new connection per file, as librepo does); the connection is
// asked first. A connection is told apart from an earlier one that came
// from the same ip:port (the kernel hands a closed connection's source port
// to a new one within seconds when a client like librepo opens one per
// file) by the local address value net/http stores in each connection's
// context: otherwise the old connection's repomd.xml version would win over
// the one the client just received on its new connection.
type sigOrder struct {
	mu      sync.Mutex
	now     func() time.Time
	conns   *lru[clientKey, string] // ip:port → store version of the repomd.xml
	addrs   *lru[clientKey, string] // ip → store version of the repomd.xml
	repomds *lru[string, []byte]    // repomd.xml key and version → content
}

type clientKey struct {
	client string // ip:port of a connection, or ip
	conn   any    // the connection's own local address value, or nil
	repomd string
}

func newSigOrder(now func() time.Time) *sigOrder {
	return &sigOrder{
		now:     now,
		conns:   newLRU[clientKey, string](maxClients, connMemory),
		addrs:   newLRU[clientKey, string](maxClients, clientMemory),
		repomds: newLRU[string, []byte](maxRepomds, clientMemory),
	}
}

// slot is one place a client's repomd.xml version is remembered.
type slot struct {
	in  *lru[clientKey, string]
	key clientKey
}

// slots returns where r's client is remembered for repomdKey: by its
// connection, then by its IP address.
func (o *sigOrder) slots(r *http.Request, repomdKey string) []slot {
	conn := slot{o.conns, clientKey{r.RemoteAddr, connOf(r), repomdKey}}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return []slot{conn}
	}
	return []slot{conn, {o.addrs, clientKey{host, nil, repomdKey}}}
}

// connOf returns what tells r's connection apart from earlier connections
// from the same ip:port: the local address net/http puts in each
// connection's context, a value allocated per accepted connection and
// compared by identity. It returns nil (ip:port alone) for other servers.
func connOf(r *http.Request) any {
	switch a := r.Context().Value(http.LocalAddrContextKey).(type) {
	case *net.TCPAddr, *net.UnixAddr:
		return a
	}
	return nil
}

// remember reads a repomd.xml about to be served whole by a GET (or
// confirmed by a 304) into memory, records it as what r's client holds, and
// returns it to be served from memory. Other requests pass through.
func (o *sigOrder) remember(r *http.Request, key string, content seekCloser, info store.Info) (seekCloser, error) {
	if r.Method != http.MethodGet || r.Header.Get("Range") != "" || info.Version == "" || info.Size > maxRemembered {
		return content, nil
	}
	b, err := readAll(content)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	o.repomds.put(key+"\x00"+info.Version, b, now)
	for _, sl := range o.slots(r, key) {
		sl.in.put(sl.key, info.Version, now)
	}
	return memFile{bytes.NewReader(b)}, nil
}

// reorder returns repomd.xml.asc for r's client: with the signature over
// the repomd.xml that client last received first, and an ETag of its own,
// when that signature is in the file but not first; as stored otherwise.
func (o *sigOrder) reorder(r *http.Request, key string, content seekCloser, info store.Info) (seekCloser, store.Info, error) {
	if r.Method != http.MethodGet || info.Size > maxRemembered {
		return content, info, nil
	}
	repomd := o.lastServed(r, strings.TrimSuffix(key, ".asc"))
	if repomd == nil {
		return content, info, nil
	}
	asc, err := readAll(content)
	if err != nil {
		return nil, info, fmt.Errorf("read %s: %w", key, err)
	}
	if out, moved := sigfile.MoveFirst(asc, repomd); moved {
		sum := sha256.Sum256(out)
		info.Version = strings.Trim(info.Version, `"`) + "-" + hex.EncodeToString(sum[:8])
		info.Size = int64(len(out))
		asc = out
	}
	return memFile{bytes.NewReader(asc)}, info, nil
}

// lastServed returns the content of the version of repomdKey that r's
// client last received, or nil.
func (o *sigOrder) lastServed(r *http.Request, repomdKey string) []byte {
	if path.Base(repomdKey) != repomdName {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	for _, sl := range o.slots(r, repomdKey) {
		if version, ok := sl.in.get(sl.key, now); ok {
			if b, ok := o.repomds.get(repomdKey+"\x00"+version, now); ok {
				return b
			}
		}
	}
	return nil
}

// readAll reads and closes content.
func readAll(content seekCloser) ([]byte, error) {
	defer content.Close()
	return io.ReadAll(content)
}

// memFile serves bytes held in memory.
type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }
