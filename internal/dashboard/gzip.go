package dashboard

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
)

// Pages and assets go out gzipped when the browser takes it: they are
// text and shrink to a quarter. Event streams are not compressed, since a
// compressor would hold back the small events it is meant to deliver now.

// acceptsGzip reports whether the request takes a gzip body.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if name, _, _ := strings.Cut(strings.TrimSpace(part), ";"); name == "gzip" {
			return true
		}
	}
	return false
}

// gzipBytes compresses a body; on failure it returns nil and the caller
// sends the body as is.
func gzipBytes(body []byte) []byte {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.DefaultCompression)
	if err != nil {
		return nil
	}
	if _, err := zw.Write(body); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	return b.Bytes()
}

// writeBody sends body, gzipped when the request allows it (zipped may
// hold it precompressed).
func writeBody(w http.ResponseWriter, r *http.Request, body, zipped []byte) {
	w.Header().Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		if zipped == nil {
			zipped = gzipBytes(body)
		}
		if zipped != nil {
			w.Header().Set("Content-Encoding", "gzip")
			body = zipped
		}
	}
	_, _ = w.Write(body)
}
