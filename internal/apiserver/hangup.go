package apiserver

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
)

// hangupWriter is the ResponseWriter handed to the remotecommand library.
// A hijacked connection's request context is not cancelled when the client
// goes away, and a command that prints nothing would never notice: the
// Docker session would stay open until the command ends by itself. So the
// connection the library hijacks is wrapped, and the first failed read (the
// client closed it, or it broke) calls hangup, which cancels the session.
type hangupWriter struct {
	http.ResponseWriter
	hangup func()
}

func (w *hangupWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be taken over (no http.Hijacker)")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &hangupConn{Conn: conn, hangup: w.hangup}, rw, nil
}

// Flush passes through, for the library's answers before the upgrade.
func (w *hangupWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// hangupConn calls hangup once, on the first read that fails. The
// protocol's reader loops on Read for as long as the session lasts, so a
// client's close is seen at once.
type hangupConn struct {
	net.Conn
	hangup func()
	once   sync.Once
}

func (c *hangupConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.once.Do(c.hangup)
	}
	return n, err
}
