package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Objects up to checkLimit bytes are read whole by Get and checked against
// their ETag (all of a repository's mutable objects, repomd.xml and its
// signature, are far smaller; packages are written once).
const checkLimit = 8 << 20

// getAttempts bounds how often Get reads an object again after its body
// and ETag disagreed.
const getAttempts = 5

// Get implements Store. An S3 server need not read an object's ETag and its
// body at one instant: versitygw, for one, can send the body of the version
// it opened with the ETag of the version that replaced it, and a client that
// revalidated with that ETag would keep the old body for good. So a small
// object whose ETag is a plain MD5 (a single-part upload) is read whole and
// its MD5 compared; on a mismatch Get reads it again. The same mismatch
// twice in a row (same ETag, same body) means this endpoint's ETags are not
// MD5s of the content (SSE-KMS on AWS), and the object is returned as read.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	obj, err := s.object(key)
	if err != nil {
		return nil, Info{}, fmt.Errorf("get: %w", err)
	}
	var previous string
	for attempt := 1; ; attempt++ {
		out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: obj})
		if err != nil {
			return nil, Info{}, fmt.Errorf("get %s: %w", key, mapS3Err(err, false))
		}
		info := Info{
			Key:     key,
			Size:    aws.ToInt64(out.ContentLength),
			Version: aws.ToString(out.ETag),
			ModTime: aws.ToTime(out.LastModified),
		}
		sum, checkable := md5ETag(info.Version)
		if !checkable || info.Size > checkLimit {
			return out.Body, info, nil
		}
		body, err := io.ReadAll(io.LimitReader(out.Body, checkLimit+1))
		out.Body.Close()
		if err != nil {
			return nil, Info{}, fmt.Errorf("get %s: %w", key, err)
		}
		got := md5.Sum(body)
		seen := info.Version + fmt.Sprint(sha256.Sum256(body))
		if (got == sum && int64(len(body)) == info.Size) || seen == previous {
			return io.NopCloser(bytes.NewReader(body)), info, nil
		}
		if attempt == getAttempts {
			return nil, Info{}, fmt.Errorf("get %s: %w: its body and ETag disagreed in %d reads in a row (the object is being replaced, or the server does not read them together)", key, ErrConflict, attempt)
		}
		previous = seen
	}
}

// md5ETag returns the MD5 an ETag names when it is a plain quoted 32-digit
// hex string; multipart ETags ("<hex>-<parts>") are not content digests.
func md5ETag(etag string) (sum [md5.Size]byte, ok bool) {
	h := strings.Trim(etag, `"`)
	if len(h) != 2*md5.Size {
		return sum, false
	}
	if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
		return sum, false
	}
	return sum, true
}
