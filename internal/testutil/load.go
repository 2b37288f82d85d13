package testutil

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// LoadScaled stretches a wall-clock limit measured on a machine with no
// other work by how oversubscribed the machine is now: the one-minute load
// average per CPU, at least 1. A limit of 5 s stays 5 s on an idle machine
// and becomes 15 s at three runnable tasks per CPU. The factor is logged,
// so a stretched limit is visible in the test's output.
func LoadScaled(t testing.TB, limit time.Duration) time.Duration {
	t.Helper()
	f := 1.0
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if fields := strings.Fields(string(data)); len(fields) > 0 {
			if l, err := strconv.ParseFloat(fields[0], 64); err == nil {
				f = max(1, l/float64(runtime.NumCPU()))
			}
		}
	}
	scaled := time.Duration(float64(limit) * f)
	t.Logf("wall-clock limit %v, ×%.1f for the machine's load: %v", limit, f, scaled.Round(time.Millisecond))
	return scaled
}
