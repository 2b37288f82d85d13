package serve

import (
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// accessLog logs one line per request: method, path, status, bytes, time.
func accessLog(log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		ev := log.Info()
		if rec.status >= 500 {
			ev = log.Error().Err(rec.err)
		}
		ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
			Int64("bytes", rec.bytes).Dur("took", time.Since(start)).Str("remote", r.RemoteAddr)
		if rng := r.Header.Get("Range"); rng != "" {
			ev = ev.Str("range", rng)
		}
		ev.Msg("http")
	})
}

// recorder captures what the access log reports.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	err    error
}

func (rec *recorder) WriteHeader(code int) {
	rec.status = code
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	n, err := rec.ResponseWriter.Write(p)
	rec.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the server's sendfile path for files.
func (rec *recorder) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(rec.ResponseWriter, r)
	rec.bytes += n
	return n, err
}

func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// setError hands a server error to the access log.
func setError(w http.ResponseWriter, err error) {
	if rec, ok := w.(*recorder); ok {
		rec.err = err
	}
}
