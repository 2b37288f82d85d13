package searchattr

import (
	"fmt"
	"testing"

	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Ensure retries on the codes code reads, whichever client made the error:
// the SDK's clients return Temporal service errors, a raw connection gRPC
// statuses.
func TestCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{nil, codes.OK},
		{serviceerror.NewNamespaceNotFound("calm"), codes.NotFound},
		{fmt.Errorf("list: %w", serviceerror.NewNamespaceNotFound("calm")), codes.NotFound},
		{serviceerror.NewUnavailable("starting"), codes.Unavailable},
		{status.Error(codes.Unavailable, "starting"), codes.Unavailable},
		{fmt.Errorf("list: %w", status.Error(codes.NotFound, "no")), codes.NotFound},
		{serviceerror.NewAlreadyExists("KernelNVR"), codes.AlreadyExists},
		{serviceerror.NewInvalidArgument("bad"), codes.InvalidArgument},
	} {
		if got := code(tc.err); got != tc.want {
			t.Errorf("code(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
