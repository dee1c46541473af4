package dashboard

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWriteBodyGzipsWhenAccepted(t *testing.T) {
	body := []byte(strings.Repeat("<tr><td>berth</td></tr>\n", 200))
	for header, want := range map[string]bool{"gzip, deflate, br": true, "br;q=1, gzip;q=0.5": true, "": false, "identity": false, "x-gzip-ish": false} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", header)
		w := httptest.NewRecorder()
		writeBody(w, r, body, nil)
		got := w.Body.Bytes()
		if zipped := w.Header().Get("Content-Encoding") == "gzip"; zipped != want {
			t.Errorf("Accept-Encoding %q: gzipped %v, want %v", header, zipped, want)
			continue
		}
		if want {
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatal(err)
			}
			if got, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
			if w.Body.Len() >= len(body)/4 {
				t.Errorf("gzipped %d of %d bytes: expected real compression", w.Body.Len(), len(body))
			}
		}
		if !bytes.Equal(got, body) {
			t.Errorf("Accept-Encoding %q: body changed", header)
		}
	}
}
