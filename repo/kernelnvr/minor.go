package kernelnvr

import (
	"fmt"
	"sort"
)

// Release is a RHEL minor release such as 8.8.
type Release struct {
	Major, Minor int
}

// String returns "major.minor".
func (r Release) String() string { return fmt.Sprintf("%d.%d", r.Major, r.Minor) }

// gaBuilds lists, per major release, the kernel build each minor release
// shipped with: index i is minor i. Every later build of a minor's z-stream
// keeps that number (477.27.1.el8_8 is built from 477). Taken from the
// release history in ../shared/data/release-history
// (rhel-kernel-nvr-timeline.tsv: the first .elN_M NVR of each minor and the
// .elN GA builds); TestGABuildsMatchHistory checks the table against it.
var gaBuilds = map[int][]int{
	7:  {123, 229, 327, 514, 693, 862, 957, 1062, 1127, 1160},
	8:  {80, 147, 193, 240, 305, 348, 372, 425, 477, 513, 553},
	9:  {70, 162, 284, 362, 427, 503, 570, 611, 687},
	10: {55, 124, 211},
}

// Minor returns the RHEL minor release n belongs to: the dist tag's minor
// when it names one (.el8_8), else the release whose GA build is the
// newest not after n.Build (4.18.0-80.el8 is 8.0, 3.10.0-1160.el7 is 7.9).
// It reports false when n has no .elN tag, or its build predates the
// major's first GA (betas such as 4.18.0-32.el8) or its major is unknown.
func (n NVR) Minor() (Release, bool) {
	if n.Major == 0 {
		return Release{}, false
	}
	if n.DistMinor >= 0 {
		return Release{n.Major, n.DistMinor}, true
	}
	minor, ok := MinorOfBuild(n.Major, n.Build)
	if !ok {
		return Release{}, false
	}
	return Release{n.Major, minor}, true
}

// MinorOfBuild returns the minor release of major whose GA kernel build is
// the newest not after build. It reports false for an unknown major or a
// build before the major's first GA.
func MinorOfBuild(major, build int) (int, bool) {
	builds := gaBuilds[major]
	i := sort.SearchInts(builds, build+1) - 1
	if i < 0 {
		return 0, false
	}
	return i, true
}

// GABuild returns the kernel build minor release r shipped with (477 for
// 8.8), false when the table does not know it.
func GABuild(r Release) (int, bool) {
	builds := gaBuilds[r.Major]
	if r.Minor < 0 || r.Minor >= len(builds) {
		return 0, false
	}
	return builds[r.Minor], true
}
