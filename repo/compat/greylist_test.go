package compat

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestGreylistCountInPageAndJSON: a cell's greylist count (the symbols the
// kmod uses off the kernel's stablelist, status' Greylist) is written on the
// page beside the state and in status.json; a zero count is left out.
func TestGreylistCountInPageAndJSON(t *testing.T) {
	p := samplePage()
	p.Kernels[0].Kmods["hellodrv"] = Cell{State: Rebuilt, Version: "1.0-1.el9", Greylisted: 7}
	var html, js bytes.Buffer
	if err := Render(&html, p); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(html.String(), "greylisted</small>"); n != 1 || !strings.Contains(html.String(), "<small>7 greylisted</small>") {
		t.Errorf("page shows %d greylist counts, want one reading 7", n)
	}
	var back Page
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, k := range back.Kernels {
		for name, c := range k.Kmods {
			counts[k.NVR+"/"+name] = c.Greylisted
		}
	}
	if counts["6.1.0-47.el9/hellodrv"] != 7 || strings.Count(js.String(), `"greylisted"`) != 1 {
		t.Errorf("status.json greylist counts %v:\n%s", counts, js.String())
	}
}
