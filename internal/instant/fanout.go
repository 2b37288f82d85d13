package instant

import (
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/workflows"
)

// Serve starts the workers of a fan-out measurement on c: the workflows
// and instant activities on queue, and the activities on build-<queue>.
// stop stops them.
func Serve(c client.Client, queue string) (stop func(), err error) {
	var started []worker.Worker
	stop = func() {
		for _, w := range started {
			w.Stop()
		}
	}
	acts := New(c, queue)
	for _, q := range []string{queue, "build-" + queue} {
		w := worker.New(c, q, worker.Options{MaxConcurrentActivityExecutionSize: 200})
		if q == queue {
			workflows.Register(w)
		}
		w.RegisterActivity(acts)
		if err := w.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("start worker on %s: %w", q, err)
		}
		started = append(started, w)
	}
	return stop, nil
}

// Plan is the plan of a fan-out measurement served by Serve(c, queue): one
// x86_64 arch, kmods kmods named drv000…, parallel of them rebuilt at once.
func Plan(queue string, kmods, parallel int) workflows.Plan {
	p := workflows.Plan{Source: "s", Stream: "el8", Arches: []workflows.Arch{{Name: "x86_64", Queue: "build-" + queue}},
		Repository: queue, ControlQueue: queue, KmodParallel: parallel}
	for i := range kmods {
		name := fmt.Sprintf("drv%03d", i)
		p.Kmods = append(p.Kmods, pipeline.KmodSpec{Name: name, Package: "kmod-" + name, Source: "s"})
	}
	return p
}
