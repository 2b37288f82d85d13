package boot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunBadInput(t *testing.T) {
	cfg := Config{Init: "/nonexistent/init"}
	_, err := Run(context.Background(), cfg, Request{Kernel: "/nonexistent/vmlinuz"})
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "/nonexistent/vmlinuz") {
		t.Errorf("err = %v, want ErrInput naming the kernel", err)
	}
	k := filepath.Join(t.TempDir(), "vmlinuz")
	if err := os.WriteFile(k, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), cfg, Request{Kernel: k, Modules: []Module{{Name: "a", Path: "/x.ko"}, {Name: "a", Path: "/y.ko"}}})
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("err = %v, want ErrInput for a module listed twice", err)
	}
	_, err = Run(context.Background(), cfg, Request{Kernel: k, Modules: []Module{{Name: "a", Path: "/missing.ko"}}})
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "/nonexistent/init") {
		t.Errorf("err = %v, want ErrInput naming the init binary", err)
	}
	_, err = Run(context.Background(), Config{Init: "/bin/true", Accel: "hvf"}, Request{Kernel: k})
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "hvf") {
		t.Errorf("err = %v, want ErrInput naming the accelerator", err)
	}
}

func TestModInfoRejectsGarbage(t *testing.T) {
	if _, _, err := ModInfo([]byte("not an elf")); err == nil {
		t.Error("ModInfo accepted garbage")
	}
}

func FuzzModInfo(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		name, _, err := ModInfo(data)
		if err == nil && name == "" {
			t.Fatal("ModInfo returned no name and no error")
		}
	})
}
