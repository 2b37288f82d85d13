package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Defaults and limits of the S3 backend.
const (
	DefaultPartSize           = 16 << 20
	DefaultMultipartThreshold = 32 << 20
	MinPartSize               = 5 << 20 // S3's minimum for all but the last part
	DefaultListPageSize       = 1000
	DefaultConcurrency        = 4
)

// S3Config configures an S3 store.
type S3Config struct {
	Bucket string
	// Prefix is prepended to every key ("" for the bucket's root).
	Prefix string
	// Endpoint is the server's base URL for S3-compatible servers, e.g.
	// http://127.0.0.1:7070; empty for AWS.
	Endpoint string
	// Region defaults to the AWS config's region, else us-east-1.
	Region string
	// PathStyle addresses buckets as ENDPOINT/bucket rather than bucket.ENDPOINT.
	PathStyle bool
	// PartSize is the multipart part size (>= MinPartSize).
	PartSize int64
	// MultipartThreshold: objects larger than this are uploaded in parts.
	MultipartThreshold int64
	// Concurrency is how many parts upload at once (memory: Concurrency x
	// PartSize per upload). Zero means DefaultConcurrency.
	Concurrency int
	// ListPageSize is the MaxKeys of each ListObjectsV2 request.
	ListPageSize int32
	// Credentials overrides the AWS default credential chain when set.
	Credentials aws.CredentialsProvider
}

// S3 is a Store in an S3 bucket. PutIfAbsent and CompareAndSwap use
// If-None-Match: * and If-Match: ETag, on PutObject and on
// CompleteMultipartUpload; a server that answers them with 501 Not
// Implemented gets ErrUnsupported and nothing is written.
type S3 struct {
	client    *s3.Client
	endpoint  string // for errors: the server's URL, or "AWS"
	probe     probe
	bucket    string
	prefix    string
	partSize  int64
	threshold int64
	workers   int
	pageSize  int32
}

// OpenS3 returns the store cfg describes. It does not contact the server.
func OpenS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("open s3 store: no bucket")
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < MinPartSize {
		return nil, fmt.Errorf("open s3 store: part size %d is below S3's minimum %d", cfg.PartSize, MinPartSize)
	}
	if cfg.MultipartThreshold == 0 {
		cfg.MultipartThreshold = max(DefaultMultipartThreshold, cfg.PartSize)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.ListPageSize <= 0 {
		cfg.ListPageSize = DefaultListPageSize
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := ValidKey(prefix); err != nil {
			return nil, fmt.Errorf("open s3 store: prefix: %w", err)
		}
		prefix += "/"
	}
	opts := []func(*config.LoadOptions) error{}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("open s3 store: load AWS config: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// S3-compatible servers vary in their support of the newer
		// flexible checksums; send and check them only when required.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "AWS"
	}
	return &S3{
		client:    client,
		endpoint:  endpoint,
		bucket:    cfg.Bucket,
		prefix:    prefix,
		partSize:  cfg.PartSize,
		threshold: cfg.MultipartThreshold,
		workers:   cfg.Concurrency,
		pageSize:  cfg.ListPageSize,
	}, nil
}

func (s *S3) object(key string) (*string, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	return aws.String(s.prefix + key), nil
}

// GetRange opens length bytes of the object from offset (to its end when
// length < 0), failing with ErrConflict unless its Version is still version
// (any version when version is empty).
func (s *S3) GetRange(ctx context.Context, key, version string, offset, length int64) (io.ReadCloser, error) {
	obj, err := s.object(key)
	if err != nil {
		return nil, fmt.Errorf("get range: %w", err)
	}
	rng := fmt.Sprintf("bytes=%d-", offset)
	if length >= 0 {
		rng += fmt.Sprint(offset + length - 1)
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: obj, Range: &rng}
	if version != "" {
		in.IfMatch = &version
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", key, rng, mapS3Err(err, false))
	}
	return out.Body, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	obj, err := s.object(key)
	if err != nil {
		return Info{}, fmt.Errorf("stat: %w", err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: obj})
	if err != nil {
		return Info{}, fmt.Errorf("stat %s: %w", key, mapS3Err(err, false))
	}
	return Info{
		Key:     key,
		Size:    aws.ToInt64(out.ContentLength),
		Version: aws.ToString(out.ETag),
		ModTime: aws.ToTime(out.LastModified),
	}, nil
}

// List implements Store, one ListObjectsV2 page at a time.
func (s *S3) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	if err := validPrefix(prefix); err != nil {
		return errSeq(fmt.Errorf("list %q: %w", prefix, err))
	}
	return func(yield func(Info, error) bool) {
		p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
			Bucket:  &s.bucket,
			Prefix:  aws.String(s.prefix + prefix),
			MaxKeys: aws.Int32(s.pageSize),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield(Info{}, fmt.Errorf("list %q: %w", prefix, mapS3Err(err, false)))
				return
			}
			for _, o := range page.Contents {
				info := Info{
					Key:     strings.TrimPrefix(aws.ToString(o.Key), s.prefix),
					Size:    aws.ToInt64(o.Size),
					Version: aws.ToString(o.ETag),
					ModTime: aws.ToTime(o.LastModified),
				}
				if !yield(info, nil) {
					return
				}
			}
		}
	}
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (Info, error) {
	return s.write(ctx, "put", key, r, condition{})
}

// PutIfAbsent implements Store. The first conditional write of an S3 value
// checks the server honours conditional writes (see trusted).
func (s *S3) PutIfAbsent(ctx context.Context, key string, r io.Reader) (Info, error) {
	if err := s.trusted(ctx); err != nil {
		return Info{}, fmt.Errorf("put-if-absent %s: %w", key, err)
	}
	return s.putIfAbsent(ctx, key, r)
}

func (s *S3) putIfAbsent(ctx context.Context, key string, r io.Reader) (Info, error) {
	return s.write(ctx, "put-if-absent", key, r, condition{ifNoneMatch: aws.String("*")})
}

// CompareAndSwap implements Store. The first conditional write of an S3
// value checks the server honours conditional writes (see trusted).
func (s *S3) CompareAndSwap(ctx context.Context, key, version string, r io.Reader) (Info, error) {
	if err := s.trusted(ctx); err != nil {
		return Info{}, fmt.Errorf("compare-and-swap %s: %w", key, err)
	}
	return s.compareAndSwap(ctx, key, version, r)
}

func (s *S3) compareAndSwap(ctx context.Context, key, version string, r io.Reader) (Info, error) {
	if version == "" {
		return s.write(ctx, "compare-and-swap", key, r, condition{ifNoneMatch: aws.String("*")})
	}
	return s.write(ctx, "compare-and-swap", key, r, condition{ifMatch: aws.String(version)})
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	obj, err := s.object(key)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: obj})
	if err != nil {
		if err = mapS3Err(err, false); errors.Is(err, ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// condition is a conditional write's precondition; both nil means none.
type condition struct{ ifMatch, ifNoneMatch *string }

func (c condition) set() bool { return c.ifMatch != nil || c.ifNoneMatch != nil }

// write uploads r in one PutObject when it fits under the multipart
// threshold, else in parts, applying cond to the request that makes the
// object visible.
func (s *S3) write(ctx context.Context, op, key string, r io.Reader, cond condition) (Info, error) {
	obj, err := s.object(key)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", op, err)
	}
	var head bytes.Buffer
	n, err := io.CopyN(&head, r, s.threshold+1)
	if err != nil && err != io.EOF {
		return Info{}, fmt.Errorf("%s %s: read: %w", op, key, err)
	}
	var etag *string
	if n <= s.threshold {
		etag, err = s.putObject(ctx, obj, head.Bytes(), cond)
	} else {
		var rest int64
		etag, rest, err = s.putMultipart(ctx, obj, io.MultiReader(&head, r), cond)
		n = rest
	}
	if err != nil {
		return Info{}, fmt.Errorf("%s %s: %w", op, key, mapS3Err(err, cond.set()))
	}
	info, err := s.Stat(ctx, key)
	if err != nil || info.Version != aws.ToString(etag) {
		// A later writer already replaced it; report what we wrote.
		info = Info{Key: key, Size: n, Version: aws.ToString(etag)}
	}
	return info, nil
}

func (s *S3) putObject(ctx context.Context, obj *string, data []byte, cond condition) (*string, error) {
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           obj,
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		IfMatch:       cond.ifMatch,
		IfNoneMatch:   cond.ifNoneMatch,
	})
	if err != nil {
		return nil, err
	}
	return out.ETag, nil
}

// mapS3Err adds the store's sentinel errors to an SDK error, keeping it for
// errors.As. In a conditional write a missing object (If-Match on nothing)
// and a concurrent conditional write (409) are conflicts too.
func mapS3Err(err error, conditional bool) error {
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case code == "NoSuchBucket":
		return err
	case code == "PreconditionFailed" || status == 412:
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case conditional && (status == 404 || status == 409 || code == "ConditionalRequestConflict"):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case code == "NoSuchKey" || code == "NotFound" || status == 404:
		return fmt.Errorf("%w: %w", ErrNotExist, err)
	case conditional && (code == "NotImplemented" || status == 501):
		return fmt.Errorf("%w (If-None-Match/If-Match); refusing an unconditional write: %w", ErrUnsupported, err)
	}
	return err
}
