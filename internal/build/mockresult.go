package build

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// mock's exit codes (mockbuild/exception.py, mock.py). Real mock 6.x exits 1
// when rpmbuild fails (the error reaches mock.py's generic handler), and
// mockBuildError where its BuildError does.
const (
	mockOK           = 0
	mockGeneric      = 1   // an unclassified error, rpmbuild failing among them
	mockBuildError   = 10  // rpmbuild failed
	mockTimeout      = 11  // rpmbuild_timeout expired
	mockDnfError     = 30  // the package manager failed
	mockExternalDeps = 31  // unknown external dependency
	mockPkgError     = 40  // bad SRPM
	mockSIGTERM      = 143 // mock itself was killed
)

// Lines dnf writes to root.log when a BuildRequires cannot be resolved.
var missingDep = []*regexp.Regexp{
	regexp.MustCompile(`No matching package to install: '([^']+)'`), // dnf 4
	regexp.MustCompile(`No match for argument: (.+?)\s*$`),          // dnf 5
	regexp.MustCompile(`nothing provides (.+?) needed by`),          // either, for a conflict chain
}

// mockFailure maps how mock ended to the build's error, nil on success.
// mockTail is the end of mock's own output.
func mockFailure(srpm string, status int, dir string, mockTail []string) error {
	buildLog := lastLines(filepath.Join(dir, "build.log"))
	rootLog := lastLines(filepath.Join(dir, "root.log"))
	rpmbuildFailed := slices.ContainsFunc(buildLog, func(l string) bool { return strings.Contains(l, "error: Bad exit status from") })
	switch {
	case status == mockOK:
		return nil
	case status == mockTimeout:
		return &PackageError{SRPM: srpm, Reason: "mock's rpmbuild_timeout expired", Tail: orTail(buildLog, mockTail)}
	case (status == mockGeneric || status == mockBuildError) && rpmbuildFailed:
		return &PackageError{SRPM: srpm, Reason: fmt.Sprintf("rpmbuild failed (mock exited with status %d)", status), Tail: buildLog}
	case status == mockBuildError || status == mockPkgError:
		return &PackageError{SRPM: srpm, Reason: fmt.Sprintf("mock exited with status %d (%s)", status, mockMeaning(status)), Tail: orTail(buildLog, mockTail)}
	case status == mockGeneric || status == mockDnfError || status == mockExternalDeps:
		if missing := missingDeps(rootLog); len(missing) > 0 || status == mockExternalDeps {
			return &DependencyError{SRPM: srpm, Missing: missing, Tail: orTail(rootLog, mockTail)}
		}
	}
	// mock's own output ends with its error; root.log with its unmounting.
	return &InfraError{SRPM: srpm, Op: "mock", Err: fmt.Errorf("exited with status %d (%s)", status, mockMeaning(status)),
		Tail: orTail(mockTail, rootLog)}
}

func mockMeaning(status int) string {
	switch status {
	case mockBuildError:
		return "rpmbuild failed, see build.log"
	case mockPkgError:
		return "bad source package"
	case mockDnfError:
		return "package manager failed, see root.log"
	case mockExternalDeps:
		return "unknown external dependency"
	case 20:
		return "buildroot failed, see root.log"
	case 60:
		return "buildroot locked"
	case 70:
		return "result dir not accessible"
	case 80:
		return "unshare failed"
	case 90:
		return "bootstrap failed"
	case mockSIGTERM:
		return "mock was killed"
	}
	return "mock failed"
}

// missingDeps returns the requirements dnf said nothing provides.
func missingDeps(rootLog []string) []string {
	var out []string
	for _, l := range rootLog {
		for _, re := range missingDep {
			if m := re.FindStringSubmatch(l); m != nil && !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	return out
}

func orTail(tail, fallback []string) []string {
	if len(tail) > 0 {
		return tail
	}
	return fallback
}

// collectMock lists what a successful mock build left in its result dir.
// Each *.rpm is read as a package: the source package is the one without a
// SOURCERPM tag, and a file that is no RPM is an error, not a result.
func collectMock(srpm, dir string) (Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Result{}, &InfraError{SRPM: srpm, Op: "read mock results", Err: err}
	}
	var res Result
	for _, e := range entries {
		name, path := e.Name(), filepath.Join(dir, e.Name())
		switch {
		case !e.Type().IsRegular():
		case strings.HasSuffix(name, ".rpm"):
			p, err := rpm.Open(path)
			if err != nil {
				return Result{}, &InfraError{SRPM: srpm, Op: "collect mock results", Err: fmt.Errorf("%s is not an RPM: %w", name, err)}
			}
			if !p.IsSource() {
				res.RPMs = append(res.RPMs, path)
			} else if res.SRPM != "" {
				return Result{}, &InfraError{SRPM: srpm, Op: "collect mock results",
					Err: fmt.Errorf("two source packages in %s: %s and %s", dir, filepath.Base(res.SRPM), name)}
			} else {
				res.SRPM = path
			}
		case strings.HasSuffix(name, ".log"):
			res.Logs = append(res.Logs, path)
		}
	}
	if res.SRPM == "" || len(res.RPMs) == 0 {
		return Result{}, &InfraError{SRPM: srpm, Op: "collect mock results",
			Err: fmt.Errorf("mock succeeded but %s holds %d binary packages and %s source package", dir, len(res.RPMs), map[bool]string{true: "a", false: "no"}[res.SRPM != ""])}
	}
	return res, nil
}

// lastLines returns the last TailLines lines of a file, none when it cannot
// be read.
func lastLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	sink := newLogSink(nil, nil)
	copyLines(f, sink)
	return sink.Tail()
}

// followLogs passes the lines appended to the named files in dir to onLog,
// polling, until the returned stop function is called; stop reads what is
// left first.
func followLogs(dir string, onLog func(string), names ...string) (stop func()) {
	if onLog == nil {
		return func() {}
	}
	var mu sync.Mutex // onLog is called from one goroutine at a time
	emit := func(l string) { mu.Lock(); onLog(l); mu.Unlock() }
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			follow(filepath.Join(dir, name), emit, done)
		}()
	}
	return func() { close(done); wg.Wait() }
}

func follow(path string, emit func(string), done <-chan struct{}) {
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	var br *bufio.Reader
	var partial string
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for last := false; ; {
		select {
		case <-done:
			last = true
		case <-tick.C:
		}
		if f == nil {
			f, _ = os.Open(path)
			if f != nil {
				br = bufio.NewReader(f)
			}
		}
		for br != nil {
			s, err := br.ReadString('\n')
			partial += s
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
			emit(strings.TrimRight(partial, "\r\n"))
			partial = ""
		}
		if last {
			if partial != "" {
				emit(partial)
			}
			return
		}
	}
}
