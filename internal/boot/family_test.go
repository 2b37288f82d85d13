package boot

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
)

// The oldest and newest ABI of the real kernel family the tests boot.
const (
	oldABI = "6.1.0-47"
	newABI = "6.1.0-57"
)

// family is the real kernel family with testdata/hello built for two ABIs.
type family struct {
	old, new     *kernelfamily.Tree
	oldKo, newKo string
}

var (
	familyOnce sync.Once
	familyVal  family
	familyErr  error
)

// realFamily fetches the two ABIs (cached under the user cache dir) and
// builds the test module for each, once per test process.
func realFamily(t testing.TB) family {
	t.Helper()
	old, cur := kftest.Need(t, oldABI), kftest.Need(t, newABI)
	familyOnce.Do(func() {
		dir, err := filepath.Abs("testdata/hello")
		if err != nil {
			familyErr = err
			return
		}
		out := filepath.Join(buildDir, "hello")
		familyVal = family{old: old, new: cur}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		var kos []string
		if kos, familyErr = kernelfamily.BuildModule(ctx, old, dir, filepath.Join(out, oldABI)); familyErr != nil {
			return
		}
		familyVal.oldKo = kos[0]
		if kos, familyErr = kernelfamily.BuildModule(ctx, cur, dir, filepath.Join(out, newABI)); familyErr != nil {
			return
		}
		familyVal.newKo = kos[0]
	})
	if familyErr != nil {
		t.Fatal(familyErr)
	}
	return familyVal
}

// buildDir holds what the tests build once per process; TestMain removes it.
var buildDir string

func TestMain(m *testing.M) {
	var err error
	if buildDir, err = os.MkdirTemp("", "kabiforge-boot-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(buildDir)
	os.Exit(code)
}
