package testutil

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// StartVersityGW starts a real S3-protocol server, versitygw (pinned in
// tools/versitygw/go.mod), on a free 127.0.0.1 port, serving a temporary
// folder through its posix backend, and creates one empty bucket in it. The
// server stops when the test ends. The binary is built once per pin into
// tools/bin (which needs the Go module proxy on a fresh machine).
func StartVersityGW(t testing.TB) (endpoint, accessKey, secretKey, bucket string) {
	t.Helper()
	return StartVersityGWOn(t, "127.0.0.1")
}

// StartVersityGWOn is StartVersityGW listening on a free port of ip.
func StartVersityGWOn(t testing.TB, ip string) (endpoint, accessKey, secretKey, bucket string) {
	t.Helper()
	bin := VersityGWBinary(t)
	accessKey, secretKey, bucket = "kabiforge-test-ak", "kabiforge-test-sk", "kabiforge-test"
	root := t.TempDir()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		endpoint, err = startVersityGW(t, bin, ip, accessKey, secretKey, root)
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("versitygw: create bucket %s: %v", bucket, err)
	}
	return endpoint, accessKey, secretKey, bucket
}

// startVersityGW runs the server on a fresh port and waits until it accepts
// connections.
func startVersityGW(t testing.TB, bin, ip, accessKey, secretKey, root string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	logPath := filepath.Join(t.TempDir(), "versitygw.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--access", accessKey, "--secret", secretKey, "--port", addr, "posix", root)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logPath)
			return "", fmt.Errorf("versitygw exited (%v): %s", err, out)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return "", fmt.Errorf("versitygw not listening on %s after 20s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return "http://" + addr, nil
}

// VersityGWBinary returns the path of the versitygw binary built from the
// pin in tools/versitygw, building it when the pin changed or it is missing.
// Concurrent test processes build it once, under a lock file.
func VersityGWBinary(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	mod := filepath.Join(root, "tools", "versitygw")
	sum, err := os.ReadFile(filepath.Join(mod, "go.sum"))
	if err != nil {
		t.Fatalf("versitygw pin: %v", err)
	}
	h := sha256.Sum256(sum)
	binDir := filepath.Join(root, "tools", "bin")
	bin := filepath.Join(binDir, "versitygw-"+hex.EncodeToString(h[:6]))
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(binDir, ".versitygw.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("lock %s: %v", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(bin); err == nil {
		return bin // built by another process while we waited
	}
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	t.Logf("building versitygw into %s (once per pin; takes a few minutes)", bin)
	cmd := exec.Command("go", "build", "-C", mod, "-buildvcs=false", "-o", tmp, "github.com/versity/versitygw/cmd/versitygw")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("build versitygw: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}
