package source

import (
	"errors"
	"fmt"
)

// Reasons a source's data is refused. A *BadInputError wraps one of them;
// test with errors.Is.
var (
	ErrChecksum  = errors.New("checksum mismatch")
	ErrTruncated = errors.New("truncated")
	ErrTooLarge  = errors.New("larger than the limit")
	ErrSignature = errors.New("signature not verified")
	ErrLocation  = errors.New("unsafe location")
	ErrMalformed = errors.New("malformed")
	ErrMismatch  = errors.New("package differs from its listing")
)

// BadInputError means a source served something that must not be used: a
// wrong checksum, a truncated or oversized file, a missing or bad signature,
// metadata pointing outside the source or failing to parse. Retrying does
// not help; the caller should fail the operation without retries. Nothing
// was stored.
type BadInputError struct {
	// Input names what was wrong: a URL, a file or a package.
	Input string
	// Err is one of the Err* reasons above, possibly wrapped with detail.
	Err error
}

// Error names the input and the reason.
func (e *BadInputError) Error() string { return e.Input + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *BadInputError) Unwrap() error { return e.Err }

func badInput(input string, reason error, format string, args ...any) error {
	if format == "" {
		return &BadInputError{Input: input, Err: reason}
	}
	return &BadInputError{Input: input, Err: fmt.Errorf("%w: %s", reason, fmt.Sprintf(format, args...))}
}

// NetworkError is a failure to reach a source or read from it that may pass:
// a refused or reset connection, a timeout, a 5xx or 429 answer. The source
// has already retried a bounded number of times; the caller may retry later.
type NetworkError struct {
	// URL is what was being read.
	URL string
	// Status is the HTTP status of the last answer, 0 when none came.
	Status int
	Err    error
}

// Error names the URL, the status if any, and the failure.
func (e *NetworkError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: HTTP %d: %v", e.URL, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.URL, e.Err)
}

// Unwrap returns the underlying error.
func (e *NetworkError) Unwrap() error { return e.Err }

// AccessError means the source refused access or has no such file: HTTP
// 401, 403 or 404, a TLS handshake the server rejected (no or wrong client
// certificate) or a server certificate not trusted. It is not retryable
// as is: the configuration (entitlement certificate, CA, URL) needs fixing.
type AccessError struct {
	URL    string
	Status int // HTTP status, 0 for TLS failures
	Err    error
}

// Error names the URL, the status if any, and the refusal.
func (e *AccessError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: HTTP %d: %v", e.URL, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.URL, e.Err)
}

// Unwrap returns the underlying error.
func (e *AccessError) Unwrap() error { return e.Err }

// Retryable reports whether err is worth retrying later: true only for a
// *NetworkError, false for bad input, access errors and anything else.
func Retryable(err error) bool {
	var ne *NetworkError
	return errors.As(err, &ne)
}
