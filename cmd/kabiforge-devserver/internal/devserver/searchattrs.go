package devserver

import (
	"fmt"
	"strings"

	"go.temporal.io/api/enums/v1"

	"github.com/kabiforge/kabiforge/internal/searchattr"
)

// SearchAttributes returns kabiforge's own search attributes and their types,
// registered in every namespace of the dev server.
func SearchAttributes() map[string]enums.IndexedValueType {
	return searchattr.Kabiforge()
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
