package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/compat"
	"github.com/kabiforge/kabiforge/repo/drift"
	"github.com/kabiforge/kabiforge/repo/provenance"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/store"
)

// Data types of the compatibility page in repomd.xml.
const (
	PageIndexType  = "kabiforge-index"
	PageStatusType = "kabiforge-status"
)

// pageFunc renders a repository's compatibility page (index.html) and
// status.json from what it publishes: provenance records (the stored ones
// and the request's, written after the commit), kernel outcomes and drift
// reports. The publish commits them with the metadata.
func (a *Activities) pageFunc(repo Repository, name string, extra []pipeline.Provenance, secureBoot bool) publish.PageFunc {
	return func(ctx context.Context, s publish.Snapshot) ([]publish.Page, error) {
		pub, err := loadProvenance(ctx, repo.Store)
		if err != nil {
			return nil, err
		}
		outcomes, err := provenance.ReadJSON[pipeline.KernelOutcome](ctx, repo.Store, OutcomePrefix)
		if err != nil {
			return nil, recordErr(err)
		}
		drifts, err := provenance.ReadJSON[drift.Report](ctx, repo.Store, DriftPrefix)
		if err != nil {
			return nil, recordErr(err)
		}
		in := compatInput{Repo: name, BaseURL: repo.BaseURL, Revision: s.Revision, SecureBoot: secureBoot,
			Packages: s.Packages, Records: append(pub.Records(), extra...), Outcomes: map[string]pipeline.KernelOutcome{}, Drifts: drifts}
		for _, o := range outcomes {
			in.Outcomes[o.KernelNVR] = o
		}
		page := compatPage(in)
		var html, status bytes.Buffer
		if err := compat.Render(&html, page); err != nil {
			return nil, err
		}
		if err := compat.WriteJSON(&status, page); err != nil {
			return nil, err
		}
		return []publish.Page{{Type: PageIndexType, Name: "index.html", Data: html.Bytes()},
			{Type: PageStatusType, Name: "status.json", Data: status.Bytes()}}, nil
	}
}

// storeOutcome records a kernel's outcome and copies its kABI reports
// into the repository, for the page.
func (a *Activities) storeOutcome(ctx context.Context, repo Repository, o *pipeline.KernelOutcome) error {
	if o == nil {
		return nil
	}
	data, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return fmt.Errorf("encode outcome of %s: %w", o.KernelNVR, err)
	}
	if err := putKey(ctx, repo.Store, OutcomeKey(o.KernelNVR), data); err != nil {
		return err
	}
	for _, r := range o.Reports {
		data, err := getBytes(ctx, a.Artifacts, r)
		if err != nil {
			return err
		}
		if err := putKey(ctx, repo.Store, ReportPrefix+r.Name, data); err != nil {
			return err
		}
	}
	return nil
}

// putKey writes data to a checked key of a repository's store.
func putKey(ctx context.Context, st store.Store, key string, data []byte) error {
	if err := store.ValidKey(key); err != nil {
		return badInput(fmt.Errorf("repository file %q: %w", key, err))
	}
	if _, err := st.Put(ctx, key, bytesReader(data)); err != nil {
		return infra("write "+key, err)
	}
	return nil
}
