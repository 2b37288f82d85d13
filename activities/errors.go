package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/repo/provenance"
	"github.com/kabiforge/kabiforge/repo/source"
)

// Error types of the non-retryable ApplicationErrors activities return;
// workflows tell failures apart by them.
const (
	ErrBadInput     = "BadInput"     // malformed or refused input
	ErrSignature    = "Signature"    // a signature did not verify
	ErrPackageBuild = "PackageBuild" // the package itself failed to build
	ErrDependency   = "Dependency"   // BuildRequires could not be resolved
)

func badInput(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), ErrBadInput, err)
}

// infra marks err as retryable (the default for plain errors), with context.
func infra(op string, err error) error { return fmt.Errorf("%s: %w", op, err) }

// classify turns an error from repo/* or internal/build into what Temporal
// should do with it: non-retryable ApplicationErrors for bad input,
// signatures and package failures; everything else stays retryable.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return err
	}
	msg := op + ": " + err.Error()
	var (
		bad  *source.BadInputError
		acc  *source.AccessError
		pkg  *build.PackageError
		dep  *build.DependencyError
		binf *build.InfraError
	)
	switch {
	case errors.As(err, &bad) && errors.Is(err, source.ErrSignature):
		return temporal.NewNonRetryableApplicationError(msg, ErrSignature, err)
	case errors.As(err, &bad), errors.As(err, &acc):
		return temporal.NewNonRetryableApplicationError(msg, ErrBadInput, err)
	case errors.As(err, &pkg):
		return temporal.NewNonRetryableApplicationError(msg, ErrPackageBuild, err, pkg.Tail)
	case errors.As(err, &dep):
		return temporal.NewNonRetryableApplicationError(msg, ErrDependency, err, dep.Missing)
	case errors.As(err, &binf):
		return temporal.NewApplicationErrorWithCause(msg, "Infra", err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// appErrorType returns the type of the ApplicationError in err.
func appErrorType(err error) (string, bool) {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type(), true
	}
	if errors.Is(err, context.Canceled) {
		return "Cancelled", true
	}
	return "", false
}

// recordErr classifies an error reading a repository's records: a record
// that does not decode is bad input, anything else an outage.
func recordErr(err error) error {
	var corrupt *provenance.CorruptError
	if errors.As(err, &corrupt) {
		return badInput(err)
	}
	return err
}
