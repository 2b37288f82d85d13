package serve_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kabiforge/kabiforge/repo/serve"
	"github.com/kabiforge/kabiforge/repo/sigfile"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// getFrom GETs path from h as the client at remote (ip:port).
func getFrom(t *testing.T, h http.Handler, remote, path string) (string, []byte) {
	t.Helper()
	return getOn(t, h, nil, remote, path)
}

// getOn GETs path from h on the connection conn (a local address value, as
// net/http puts one per connection in the request's context; nil for none)
// from the client at remote (ip:port).
func getOn(t *testing.T, h http.Handler, conn net.Addr, remote, path string) (string, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = remote
	if conn != nil {
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, conn))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s as %s: %d", path, remote, rec.Code)
	}
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Header().Get("ETag"), b
}

// A client that received repomd.xml before a publish replaced repomd.xml.asc
// and repomd.xml gets repomd.xml.asc with the signature over its
// repomd.xml first, whether it comes back on the same connection or a new
// one, so that librepo 1.14 (first signature only) accepts it. Other
// clients, and the same client once it has the new repomd.xml, get the
// file as stored.
func TestSignatureOverTheClientsRepomdFirst(t *testing.T) {
	key, err := sign.Generate("serve test", "serve@kabiforge.invalid", sign.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	kr := key.Keyring()
	sig := func(data []byte) []byte {
		var buf bytes.Buffer
		if err := sign.NewSigner(key).Detach(&buf, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		s, err := sigfile.Split(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return s[0]
	}
	v1, v2 := []byte("<repomd>1</repomd>"), []byte("<repomd>2</repomd>")
	s1, s2 := sig(v1), sig(v2)
	ascOld, _ := sigfile.Armor([][]byte{s1})
	ascNew, _ := sigfile.Armor([][]byte{s2, s1})

	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			const md, asc = "el9/repodata/repomd.xml", "el9/repodata/repomd.xml.asc"
			put(t, s, md, string(v1))
			put(t, s, asc, string(ascOld))
			h := serve.Handler(s, zerolog.Nop())
			const client, sameIP, other = "192.0.2.1:40000", "192.0.2.1:40001", "198.51.100.7:40000"
			if _, got := getFrom(t, h, client, "/"+md); !bytes.Equal(got, v1) {
				t.Fatalf("repomd.xml: %q", got)
			}
			// A publish: repomd.xml.asc first, then repomd.xml.
			ascInfo := put(t, s, asc, string(ascNew))
			for _, c := range []string{client, sameIP} {
				tag, got := getFrom(t, h, c, "/"+asc)
				if err := sigfile.VerifyFirst(kr, v1, got); err != nil {
					t.Errorf("%s holding repomd.xml v1: the first signature of repomd.xml.asc does not verify it: %v", c, err)
				}
				if err := sigfile.VerifyAny(kr, v2, got); err != nil {
					t.Errorf("%s: the reordered file lost the new signature: %v", c, err)
				}
				if tag == "" || tag == `"`+ascInfo.Version+`"` || tag == ascInfo.Version {
					t.Errorf("%s: the reordered file has the stored file's ETag %s", c, tag)
				}
			}
			if _, got := getFrom(t, h, other, "/"+asc); !bytes.Equal(got, ascNew) {
				t.Error("a client never seen got a changed repomd.xml.asc")
			}
			put(t, s, md, string(v2))
			if _, got := getFrom(t, h, client, "/"+md); !bytes.Equal(got, v2) {
				t.Fatalf("repomd.xml: %q", got)
			}
			if _, got := getFrom(t, h, client, "/"+asc); !bytes.Equal(got, ascNew) {
				t.Error("a client holding the new repomd.xml got a changed repomd.xml.asc")
			}
		})
	}
}

// A new connection from the ip:port of an earlier, closed one (librepo
// opens a connection per file and the kernel soon reuses its source ports)
// is not taken for the earlier connection: it gets repomd.xml.asc ordered
// for the repomd.xml its client received last, while the earlier
// connection, were it still open, keeps its own order.
func TestNewConnectionFromAReusedPort(t *testing.T) {
	key, err := sign.Generate("serve test", "serve@kabiforge.invalid", sign.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	kr := key.Keyring()
	v1, v2, v3 := []byte("<repomd>1</repomd>"), []byte("<repomd>2</repomd>"), []byte("<repomd>3</repomd>")
	s1, s2, s3 := detachSig(t, key, v1), detachSig(t, key, v2), detachSig(t, key, v3)
	ascV2, _ := sigfile.Armor([][]byte{s2, s1})
	ascV3, _ := sigfile.Armor([][]byte{s3, s2, s1})

	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			const md, asc = "el9/repodata/repomd.xml", "el9/repodata/repomd.xml.asc"
			const port, otherPort = "192.0.2.1:40000", "192.0.2.1:40002"
			local := func() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 9), Port: 80} }
			first, second, third := local(), local(), local()
			h := serve.Handler(s, zerolog.Nop())
			put(t, s, md, string(v1))
			getOn(t, h, first, port, "/"+md)
			put(t, s, asc, string(ascV2))
			put(t, s, md, string(v2))
			getOn(t, h, second, otherPort, "/"+md)
			put(t, s, asc, string(ascV3)) // a publish half done: repomd.xml is still v2

			_, got := getOn(t, h, third, port, "/"+asc)
			if err := sigfile.VerifyFirst(kr, v2, got); err != nil {
				t.Errorf("a new connection from a reused port, its client holding v2: %v", err)
			}
			_, got = getOn(t, h, first, port, "/"+asc)
			if err := sigfile.VerifyFirst(kr, v1, got); err != nil {
				t.Errorf("the connection that received v1: %v", err)
			}
		})
	}
}

// detachSig returns key's binary signature packet over data.
func detachSig(t *testing.T, key *sign.Key, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := sign.NewSigner(key).Detach(&buf, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	s, err := sigfile.Split(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return s[0]
}
