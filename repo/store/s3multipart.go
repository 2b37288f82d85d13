package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// putMultipart uploads r in parts of s.partSize and completes the upload
// under cond, so the object appears (or not) atomically. It returns the ETag
// and the object's size; a failed upload is aborted.
func (s *S3) putMultipart(ctx context.Context, obj *string, r io.Reader, cond condition) (etag *string, size int64, err error) {
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: obj})
	if err != nil {
		return nil, 0, fmt.Errorf("create multipart upload: %w", err)
	}
	defer func() {
		if err == nil {
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: &s.bucket, Key: obj, UploadId: up.UploadId,
		})
		if aerr != nil {
			err = errors.Join(err, fmt.Errorf("abort multipart upload: %w", aerr))
		}
	}()
	var parts []types.CompletedPart
	buf := make([]byte, s.partSize)
	for num := int32(1); ; num++ {
		n, rerr := io.ReadFull(r, buf)
		if rerr != nil && rerr != io.ErrUnexpectedEOF && rerr != io.EOF {
			return nil, 0, fmt.Errorf("read part %d: %w", num, rerr)
		}
		if n == 0 && num > 1 {
			break
		}
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &s.bucket, Key: obj, UploadId: up.UploadId,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return nil, 0, fmt.Errorf("upload part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		size += int64(n)
		if rerr != nil {
			break
		}
	}
	out, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: obj, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfMatch:         cond.ifMatch,
		IfNoneMatch:     cond.ifNoneMatch,
	})
	if err != nil {
		return nil, 0, err
	}
	return out.ETag, size, nil
}

// parseS3URL reads s3://bucket/prefix?endpoint=&region=&path-style=&part-size=&multipart-threshold=&list-page-size=.
func parseS3URL(u *url.URL) (S3Config, error) {
	cfg := S3Config{Bucket: u.Host, Prefix: u.Path}
	if u.User != nil {
		return cfg, errors.New("credentials do not belong in the URL; use the AWS environment or config files")
	}
	for name, vals := range u.Query() {
		v := vals[len(vals)-1]
		var err error
		switch name {
		case "endpoint":
			cfg.Endpoint = v
		case "region":
			cfg.Region = v
		case "path-style":
			cfg.PathStyle, err = strconv.ParseBool(v)
		case "part-size":
			cfg.PartSize, err = strconv.ParseInt(v, 10, 64)
		case "multipart-threshold":
			cfg.MultipartThreshold, err = strconv.ParseInt(v, 10, 64)
		case "list-page-size":
			var n int64
			n, err = strconv.ParseInt(v, 10, 32)
			cfg.ListPageSize = int32(n)
		default:
			return cfg, fmt.Errorf("unknown parameter %q (known: endpoint, region, path-style, part-size, multipart-threshold, list-page-size)", name)
		}
		if err != nil {
			return cfg, fmt.Errorf("parameter %s=%q: %w", name, v, err)
		}
	}
	return cfg, nil
}
