package testutil

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestProbeMissingTool is run by TestMissingToolFailsInCI in a child process.
func TestProbeMissingTool(t *testing.T) {
	if os.Getenv("KABIFORGE_PROBE") == "" {
		t.Skip("run only as a child of TestMissingToolFailsInCI")
	}
	RequireTool(t, "kabiforge-no-such-tool")
}

// A test whose tool is missing fails under CI=true and skips elsewhere.
func TestMissingToolFailsInCI(t *testing.T) {
	for ci, want := range map[string]string{"true": "--- FAIL", "": "--- SKIP"} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestProbeMissingTool$", "-test.v")
		cmd.Env = append(os.Environ(), "KABIFORGE_PROBE=1", "CI="+ci)
		out, err := cmd.CombinedOutput()
		if !strings.Contains(string(out), want) || (ci == "true") != (err != nil) {
			t.Errorf("CI=%q: exit %v, want %s:\n%s", ci, err, want, out)
		}
	}
}
