package kabi

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadTellsInputsApartByContent(t *testing.T) {
	list := kabiLists(t, "c8")["4.18.0-477.10.1.el8_8"]
	kernel, err := LoadKernel(list)
	if err != nil || kernel.Len() != 756 || kernel.Stablelist() == nil {
		t.Fatalf("Module.kabi as kernel: %v", err)
	}
	// A Module.kabi read as a kmod: needs every listed symbol with its CRC.
	kmods, err := LoadKmods(list)
	if err != nil || len(kmods) != 1 || len(kmods[0].Needs) != 756 || !kmods[0].Needs[0].HasCRC {
		t.Fatalf("Module.kabi as kmod: %v", err)
	}
	if v := Check(kernel, kmods[0]); !v.Compatible {
		t.Errorf("a list does not fit itself: %+v", v)
	}
	if _, err := LoadKernel(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no binary RPMs") {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := LoadKmods(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("a missing file was loaded")
	}
}

func TestLoadReadsAKernelModuleAsAKmodOnly(t *testing.T) {
	ko := buildHelloModule(t)
	if _, err := LoadKernel(ko); err == nil || !strings.Contains(err.Error(), "a kernel module, not a kernel's symbol table") {
		t.Errorf("LoadKernel(.ko): %v", err)
	}
	kmods, err := LoadKmods(ko)
	if err != nil || len(kmods) != 1 || kmods[0].Name != "kabiforge_hello.ko" {
		t.Fatalf("LoadKmods(.ko): %+v, %v", kmods, err)
	}
	want := dumpModversions(t, ko)
	if len(kmods[0].Needs) != len(want) {
		t.Errorf("needs %d symbols, modprobe lists %d", len(kmods[0].Needs), len(want))
	}
}
