package config

import (
	"slices"
	"testing"
)

func TestReferenceValidation(t *testing.T) {
	const head = `
sources:
  - {name: rhel, url: ./rhel, unsigned: true}
  - {name: c9s, url: ./c9s, unsigned: true}
streams:
  - name: el9
    source: rhel
    version: 5.14.0
    release: "*.el9*"
    references:
`
	tests := []struct {
		name string
		refs string
		want []string
	}{
		{"valid", `      - {source: c9s, version: 5.14.0, release: "*.el9"}`, nil},
		{"unknown source, bad version and pattern", `      - {source: centos, version: five, release: "[el9"}`, []string{
			`streams[0].references[0].source: no source named "centos"; use rhel or c9s`,
			`streams[0].references[0].version: "five" is not a kernel version prefix; e.g. 5.14.0`,
			`streams[0].references[0].release: "[el9" is not a valid pattern; use * and ?, e.g. *.el9`}},
		{"missing fields", `      - {source: c9s}`, []string{
			`streams[0].references[0].version: "" is not a kernel version prefix; e.g. 5.14.0`,
			`streams[0].references[0].release: required; a pattern such as *.el9`}},
		{"the stream's own line", `      - {source: rhel, version: 5.14.0, release: "*.el9*"}`, []string{
			`streams[0].references[0]: the same kernels the stream el9 rebuilds (source rhel, 5.14.0-*.el9*); a reference must be another line, e.g. another release pattern or source`}},
		{"twice", "      - {source: c9s, version: 5.14.0, release: \"*.el9\"}\n      - {source: c9s, version: 5.14.0, release: \"*.el9\"}", []string{
			`streams[0].references[1]: the same reference as streams[0].references[0]`}},
		{"no source with two sources", `      - {version: 5.14.0, release: "*.el9"}`, []string{
			`streams[0].references[0].source: required when there is more than one source; use rhel or c9s`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, ps := parse(t, dir, head+tc.refs+"\n")
			got := messages(ps, dir)
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems:\n%q\nwant\n%q", got, tc.want)
			}
			if tc.want == nil && (len(c.Streams[0].References) != 1 || c.Streams[0].References[0].Source != "c9s") {
				t.Errorf("references = %+v", c.Streams[0].References)
			}
		})
	}
}

func TestReferenceSourceDefaultsToTheOnlySource(t *testing.T) {
	c, ps := parse(t, t.TempDir(), `
streams:
  - {name: el8, version: 4.18.0, release: "*.el8_*", references: [{version: 4.18.0, release: "*.el8"}]}
`)
	if ps != nil {
		t.Fatal(ps)
	}
	if r := c.Streams[0].References; len(r) != 1 || r[0].Source != DefaultSource {
		t.Errorf("references = %+v, want source %s", r, DefaultSource)
	}
}
