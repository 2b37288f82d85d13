package activities

import (
	"context"
	"errors"
	"testing"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/pipeline"
)

// recordingBuilder keeps the request it was given and fails the build.
type recordingBuilder struct{ req build.Request }

func (b *recordingBuilder) Build(_ context.Context, req build.Request) (build.Result, error) {
	b.req = req
	return build.Result{}, &build.InfraError{Err: errors.New("recorded")}
}

// A build of a stream gets that stream's mock template, with {arch} filled
// in; a stream without one leaves the builder's default.
func TestBuildPicksTheStreamsMockTemplate(t *testing.T) {
	art, _ := dirStore(t)
	srpm, err := putFile(context.Background(), art, KindSRPM, specSRPM(t, "tmpl", "true"))
	if err != nil {
		t.Fatal(err)
	}
	mock := config.Mock{Templates: map[string]string{
		"el8": "eol/centos-stream-8-{arch}",
		"el9": "centos-stream+epel-9-{arch}",
	}}
	for stream, want := range map[string]string{
		"el8":   "eol/centos-stream-8-x86_64",
		"el9":   "centos-stream+epel-9-x86_64",
		"other": "",
	} {
		b := &recordingBuilder{}
		a := &Activities{Artifacts: art, Builder: b, WorkDir: t.TempDir(), Templates: mock.Template}
		a.Build(context.Background(), pipeline.BuildInput{Label: "tmpl-" + stream, SRPM: srpm, Arch: "x86_64", Stream: stream})
		if b.req.Template != want {
			t.Errorf("stream %s: template %q, want %q", stream, b.req.Template, want)
		}
	}
}
