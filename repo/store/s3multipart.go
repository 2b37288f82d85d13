package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"sync"
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
	parts, size, err := s.uploadParts(ctx, obj, up.UploadId, r)
	if err != nil {
		return nil, 0, err
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

// uploadParts reads r in parts of s.partSize and uploads up to
// s.workers of them at once; the first failure cancels the rest.
func (s *S3) uploadParts(ctx context.Context, obj, uploadID *string, r io.Reader) ([]types.CompletedPart, int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	buffers := make(chan []byte, s.workers)
	for range s.workers {
		buffers <- nil // allocated on first use
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		parts []types.CompletedPart
		size  int64
	)
	for num := int32(1); ctx.Err() == nil; num++ {
		var buf []byte
		select {
		case buf = <-buffers:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		if buf == nil {
			buf = make([]byte, s.partSize)
		}
		n, rerr := io.ReadFull(r, buf)
		if rerr != nil && rerr != io.ErrUnexpectedEOF && rerr != io.EOF {
			cancel(fmt.Errorf("read part %d: %w", num, rerr))
			break
		}
		if n == 0 && num > 1 {
			break
		}
		size += int64(n)
		wg.Go(func() {
			defer func() { buffers <- buf }()
			out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: &s.bucket, Key: obj, UploadId: uploadID,
				PartNumber: aws.Int32(num), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
			})
			if err != nil {
				cancel(fmt.Errorf("upload part %d: %w", num, err))
				return
			}
			mu.Lock()
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
			mu.Unlock()
		})
		if rerr != nil {
			break
		}
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	return parts, size, nil
}

// parseS3URL reads s3://bucket/prefix?endpoint=&region=&path-style=&part-size=&multipart-threshold=&concurrency=&list-page-size=.
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
		case "concurrency":
			cfg.Concurrency, err = strconv.Atoi(v)
		case "list-page-size":
			var n int64
			n, err = strconv.ParseInt(v, 10, 32)
			cfg.ListPageSize = int32(n)
		default:
			return cfg, fmt.Errorf("unknown parameter %q (known: endpoint, region, path-style, part-size, multipart-threshold, concurrency, list-page-size)", name)
		}
		if err != nil {
			return cfg, fmt.Errorf("parameter %s=%q: %w", name, v, err)
		}
	}
	return cfg, nil
}
