// Package versitygw pins the versitygw S3-protocol gateway (Apache-2.0) as a
// tool of its own module, so its dependencies never touch kabiforge's main
// go.mod. Tests build it with
//
//	go build -C tools/versitygw -o DIR/versitygw github.com/versity/versitygw/cmd/versitygw
//
// and serve a temporary folder through its posix backend; see
// internal/testutil.StartVersityGW.
package versitygw
