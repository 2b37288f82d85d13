// Package searchattr owns kabiforge's Temporal search attributes: their names
// and types, and registering them in a namespace through the operator
// service, as the dev server does on every start and `kabiforge cluster
// setup` does on a real cluster. It links the Temporal API only.
package searchattr

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"

	"github.com/kabiforge/kabiforge/pipeline"
)

// Kabiforge returns kabiforge's own search attributes (named in package
// pipeline) and their types.
func Kabiforge() map[string]enums.IndexedValueType {
	return map[string]enums.IndexedValueType{
		pipeline.KernelNVRAttribute:   enums.INDEXED_VALUE_TYPE_KEYWORD,
		pipeline.KabiStageAttribute:   enums.INDEXED_VALUE_TYPE_KEYWORD,
		pipeline.KabiBrokenAttribute:  enums.INDEXED_VALUE_TYPE_BOOL,
		pipeline.KmodsFailedAttribute: enums.INDEXED_VALUE_TYPE_INT,
	}
}

// Ensure makes sure namespace has every attribute in want with its type,
// adding the missing ones; it is idempotent. An attribute that exists with
// another type is an error. The frontend may still be warming up or not yet
// know a new namespace, so Unavailable and NotFound are retried until ctx
// ends. It returns the names it added.
func Ensure(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string, want map[string]enums.IndexedValueType) ([]string, error) {
	for {
		added, err := ensure(ctx, op, namespace, want)
		if code := code(err); code != codes.Unavailable && code != codes.NotFound {
			return added, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func ensure(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string, want map[string]enums.IndexedValueType) ([]string, error) {
	have, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	missing := map[string]enums.IndexedValueType{}
	for _, name := range sortedNames(want) {
		got, ok := have.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = want[name]
		case got != want[name]:
			return nil, fmt.Errorf("namespace %s: search attribute %s has type %s, want %s (registered by another setup)",
				namespace, name, got, want[name])
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	})
	if err != nil && code(err) != codes.AlreadyExists {
		return nil, fmt.Errorf("add search attributes %v to namespace %s: %w", sortedNames(missing), namespace, err)
	}
	return sortedNames(missing), nil
}

// code is err's gRPC code, whether err is a gRPC status (a raw connection)
// or a Temporal service error (the SDK client's), wrapped or not.
func code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	return serviceerror.ToStatus(err).Code()
}

func sortedNames(m map[string]enums.IndexedValueType) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
