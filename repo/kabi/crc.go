package kabi

import (
	"encoding/json"
	"fmt"
)

// CRC is a symbol's modversions checksum. It prints, and encodes in JSON,
// as rpm and Module.symvers write it: "0x" and eight hex digits.
type CRC uint32

func (c CRC) String() string { return fmt.Sprintf("0x%08x", uint32(c)) }

// MarshalJSON encodes the CRC as a "0x%08x" string.
func (c CRC) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// UnmarshalJSON decodes a "0x…" string.
func (c *CRC) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("CRC: %w", err)
	}
	v, err := parseCRC(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}
