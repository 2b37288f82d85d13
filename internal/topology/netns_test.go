//go:build topology

package topology

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"os/exec"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// network is the test's addresses: the services' address (Temporal, S3) on
// the host, and one network namespace per build host
// joined to the host by a veth pair. A build host reaches the services only
// through its veth link; cutting that link cuts it off.
type network struct {
	id       string // prefix of every interface and namespace name
	services string // the services' address on the host
	hosts    []buildHost
	ledger   *ledger // what the run made, for the watchdog and later runs
}

// buildHost is a network namespace with its own address.
type buildHost struct {
	name    string // the namespace
	addr    string // its address inside the namespace
	hostEnd string // the host side of its veth pair
}

// newNetwork adds the services' address and makes n namespaces; they are removed
// when the test ends. It needs root (CAP_NET_ADMIN) and iproute2; without
// them the test fails under CI=true and is skipped elsewhere.
func newNetwork(t *testing.T, n int) *network {
	t.Helper()
	testutil.RequireTool(t, "ip")
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	// A random 10.x.y.0/24 keeps concurrent test processes apart.
	x, _ := rand.Int(rand.Reader, big.NewInt(50))
	y, _ := rand.Int(rand.Reader, big.NewInt(250))
	net := &network{id: "kf" + hex.EncodeToString(b), services: fmt.Sprintf("10.%d.%d.254", 200+x.Int64(), y.Int64())}
	prefix := strings.TrimSuffix(net.services, "254")
	net.ledger = begin(t, net.id, net.services)
	// The services' address sits on lo (no dummy interface: its module may
	// be missing in a container); build hosts reach it over their links.
	if out, err := exec.Command("ip", "addr", "add", net.services+"/32", "dev", "lo").CombinedOutput(); err != nil {
		testutil.Unavailable(t, "cannot configure addresses (root and CAP_NET_ADMIN needed): ip addr add: %v: %s", err, out)
	}
	t.Cleanup(func() { ipQuiet("addr", "del", net.services+"/32", "dev", "lo") })
	for i := range n {
		h := buildHost{name: fmt.Sprintf("%s-%d", net.id, i), addr: fmt.Sprintf("%s%d", prefix, 4*i+2), hostEnd: fmt.Sprintf("%sh%d", net.id, i)}
		peer := fmt.Sprintf("%sn%d", net.id, i)
		gw := fmt.Sprintf("%s%d", prefix, 4*i+1)
		if out, err := exec.Command("ip", "netns", "add", h.name).CombinedOutput(); err != nil {
			testutil.Unavailable(t, "cannot create network namespaces: ip netns add: %v: %s", err, out)
		}
		t.Cleanup(func() { ipQuiet("netns", "del", h.name) })
		ipRun(t, "link", "add", h.hostEnd, "type", "veth", "peer", "name", peer, "netns", h.name)
		t.Cleanup(func() { ipQuiet("link", "del", h.hostEnd) })
		ipRun(t, "addr", "add", gw+"/30", "dev", h.hostEnd)
		ipRun(t, "link", "set", h.hostEnd, "up")
		ipRun(t, "-n", h.name, "addr", "add", h.addr+"/30", "dev", peer)
		ipRun(t, "-n", h.name, "link", "set", peer, "up")
		ipRun(t, "-n", h.name, "link", "set", "lo", "up")
		ipRun(t, "-n", h.name, "route", "add", "default", "via", gw)
		net.hosts = append(net.hosts, h)
	}
	return net
}

// cut takes a build host's link down (up restores it).
func (h buildHost) cut(t *testing.T, down bool) {
	t.Helper()
	state := "up"
	if down {
		state = "down"
	}
	ipRun(t, "link", "set", h.hostEnd, state)
}

func ipRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func ipQuiet(args ...string) { _ = exec.Command("ip", args...).Run() }
