package config

import "testing"

func TestS3URL(t *testing.T) {
	s := S3{Endpoint: "http://10.0.0.1:7070", Region: "us-east-1", PathStyle: true}
	for _, tc := range []struct {
		s        S3
		in, want string
	}{
		{s, "s3://b/ns/artifacts", "s3://b/ns/artifacts?endpoint=http%3A%2F%2F10.0.0.1%3A7070&path-style=true&region=us-east-1"},
		{s, "s3://b/p?region=eu-west-1", "s3://b/p?endpoint=http%3A%2F%2F10.0.0.1%3A7070&path-style=true&region=eu-west-1"},
		{s, "dir:///var/lib/kabiforge/repos/el8", "dir:///var/lib/kabiforge/repos/el8"},
		{S3{}, "s3://b/p", "s3://b/p"},
	} {
		if got := tc.s.URL(tc.in); got != tc.want {
			t.Errorf("%+v.URL(%q) = %q, want %q", tc.s, tc.in, got, tc.want)
		}
	}
}
