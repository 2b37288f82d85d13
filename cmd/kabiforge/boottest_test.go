package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBootTestBadInputExits2(t *testing.T) {
	notRPM := filepath.Join(t.TempDir(), "kernel-core.rpm")
	if err := os.WriteFile(notRPM, []byte("not a package"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{notRPM}, "then --, then the kmod RPMs"},
		{[]string{"--", notRPM}, "then --, then the kmod RPMs"},
		{[]string{notRPM, "--", notRPM}, "kmod package " + notRPM},
	} {
		out, err := runInProcess(t, append([]string{"boot-test"}, tc.args...)...)
		if code := exitCode(err); code != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("boot-test %v: exit %d, err %v, want 2 and %q\n%s", tc.args, code, err, tc.want, out)
		}
	}
}
