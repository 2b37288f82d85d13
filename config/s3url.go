package config

import (
	"net/url"
	"strings"
)

// URL returns raw with the s3 section's settings (endpoint, region, path
// style) added as the store URL's query parameters, for every s3:// URL
// that does not set them itself; any other URL is returned unchanged. Every
// s3:// store and source of a configuration is opened through it, so one
// s3 section points them all at the same service.
func (s S3) URL(raw string) string {
	if !strings.HasPrefix(raw, "s3://") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw // opening it reports the error
	}
	q := u.Query()
	if s.Endpoint != "" && !q.Has("endpoint") {
		q.Set("endpoint", s.Endpoint)
	}
	if s.Region != "" && !q.Has("region") {
		q.Set("region", s.Region)
	}
	if s.PathStyle && !q.Has("path-style") {
		q.Set("path-style", "true")
	}
	u.RawQuery = q.Encode()
	return u.String()
}
