package kabi

import (
	"bytes"
	"debug/elf"
	"os"
	"strings"
	"testing"
)

// FuzzParseModinfo: a real module's .modinfo is the seed; any input either
// parses or fails, without panic, and a parsed license decides GPL use alike.
func FuzzParseModinfo(f *testing.F) {
	data, err := os.ReadFile(buildHelloModule(f))
	if err != nil {
		f.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		f.Fatal(err)
	}
	raw, err := ef.Section(".modinfo").Data()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte("license=GPL\x00import_ns=CXL\x00depends=a,b\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseModinfo(data)
		if err != nil {
			return
		}
		for _, d := range m.Depends {
			if d == "" || strings.Contains(d, ",") {
				t.Fatalf("depends entry %q", d)
			}
		}
	})
}

func FuzzParseModulesList(f *testing.F) {
	f.Add("kernel/net/key/af_key.ko: kernel/net/xfrm/xfrm_algo.ko\nkernel/net/xfrm/xfrm_algo.ko:\n")
	f.Add("kernel/arch/x86/events/amd/power.ko\n")
	f.Fuzz(func(t *testing.T, in string) {
		names, err := ParseModulesList(strings.NewReader(in), "in")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "in") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		for _, n := range names {
			if n == "" || strings.ContainsAny(n, "/-") {
				t.Fatalf("module name %q", n)
			}
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	f.Add("default: fail-kmod\nrules:\n  - symbol: 'dma_buf_*'\n    kinds: [namespace]\n    action: ignore\n")
	f.Add("rules:\n  - module: drivers/*\n    namespace: CXL\n    kmod: kmod-?\n    action: hold-gate\n")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePolicy(strings.NewReader(in), "in.yaml")
		if err != nil {
			if !strings.Contains(err.Error(), "in.yaml") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		if a := p.Decide("k", Break{Kind: KindCRC, Name: "x"}); !validAction(a) {
			t.Fatalf("valid policy decided %q", a)
		}
	})
}
