package build

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// TailLines is how many of the last log lines a PackageError carries.
const TailLines = 100

// errTimeLimit is the cause of a build's context when its time limit passes.
var errTimeLimit = errors.New("time limit exceeded")

// PackageError says the package itself failed to build: its spec or sources
// are wrong for this target. Retrying the same build will not help.
type PackageError struct {
	SRPM   string
	Reason string   // what failed, e.g. "rpmbuild exited with status 1"
	Tail   []string // the last log lines, at most TailLines
}

func (e *PackageError) Error() string {
	msg := fmt.Sprintf("build %s: %s", filepath.Base(e.SRPM), e.Reason)
	if n := len(e.Tail); n > 0 {
		msg += ": " + strings.TrimSpace(e.Tail[n-1])
	}
	return msg
}

// DependencyError says some BuildRequires could not be resolved from the
// build's repositories. It is not worth retrying until a repository changes.
type DependencyError struct {
	SRPM    string
	Missing []string // the unresolved BuildRequires, as rpm prints them
	Tail    []string // the last log lines, when the tool reported it
}

func (e *DependencyError) Error() string {
	if len(e.Missing) == 0 {
		return fmt.Sprintf("build %s: unresolvable BuildRequires", filepath.Base(e.SRPM))
	}
	return fmt.Sprintf("build %s: nothing provides %s", filepath.Base(e.SRPM), strings.Join(e.Missing, ", "))
}

// InfraError says the build machinery failed (a tool missing or crashing, a
// full disk, a repository unreachable): the same build may well succeed when
// retried, perhaps elsewhere.
type InfraError struct {
	SRPM string
	Op   string // what was being done
	Err  error
	Tail []string
}

func (e *InfraError) Error() string {
	return fmt.Sprintf("build %s: %s: %v", filepath.Base(e.SRPM), e.Op, e.Err)
}

func (e *InfraError) Unwrap() error { return e.Err }

// Retryable reports whether err is worth retrying: an *InfraError.
func Retryable(err error) bool {
	var ie *InfraError
	return errors.As(err, &ie)
}
