package devserver

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// SearchAttributes returns kabiforge's own search attributes and their types,
// registered in every namespace of the dev server.
func SearchAttributes() map[string]enums.IndexedValueType {
	return map[string]enums.IndexedValueType{
		"KernelNVR":   enums.INDEXED_VALUE_TYPE_KEYWORD,
		"KabiStage":   enums.INDEXED_VALUE_TYPE_KEYWORD,
		"KabiBroken":  enums.INDEXED_VALUE_TYPE_BOOL,
		"KmodsFailed": enums.INDEXED_VALUE_TYPE_INT,
	}
}

// ParseValueType reads a search attribute type as written on a command line:
// "Keyword", "keyword" or "INDEXED_VALUE_TYPE_KEYWORD".
func ParseValueType(s string) (enums.IndexedValueType, error) {
	key := strings.ToLower(strings.TrimPrefix(strings.ToUpper(s), "INDEXED_VALUE_TYPE_"))
	key = strings.ReplaceAll(key, "_", "")
	if t, ok := valueTypes[key]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("search attribute type %q: use Text, Keyword, Int, Double, Bool, Datetime or KeywordList", s)
}

// registerSearchAttributes makes sure namespace has every attribute in want
// with its type. Attributes given when a namespace is created are ignored for
// an existing SQLite file, so they are added here, through the operator
// service, on every start. The frontend may still be warming up, so
// unavailable errors are retried until ctx ends.
func registerSearchAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string, want map[string]enums.IndexedValueType) error {
	for {
		err := ensureSearchAttributes(ctx, op, namespace, want)
		if code := status.Code(err); code != codes.Unavailable && code != codes.NotFound {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func ensureSearchAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string, want map[string]enums.IndexedValueType) error {
	have, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	missing := map[string]enums.IndexedValueType{}
	for _, name := range sortedNames(want) {
		got, ok := have.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = want[name]
		case got != want[name]:
			return fmt.Errorf("namespace %s: search attribute %s has type %s, want %s (the database was made by another setup; use a new --db-filename)",
				namespace, name, got, want[name])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("add search attributes %v to namespace %s: %w", sortedNames(missing), namespace, err)
	}
	return nil
}

func sortedNames(m map[string]enums.IndexedValueType) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
