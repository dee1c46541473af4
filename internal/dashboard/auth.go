package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
)

// Protect applies the dashboard listener's access rule to everything on it
// (pages, /metrics): on a loopback address only this machine can connect,
// so requests pass once their Host header is local; on any other address
// every request needs the API's bearer token. /healthz stays open.
func Protect(next http.Handler, listen, token string) http.Handler {
	if IsLoopback(listen) {
		return localHostOnly(next)
	}
	return RequireToken(next, token)
}

// IsLoopback reports whether a listen address (host:port) only accepts
// connections from this machine. An empty host or a wildcard is not.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// cookieName holds a browser's proof of the token.
const cookieName = "berth_dashboard"

// RequireToken refuses requests without the token: as
// "Authorization: Bearer <token>" (scripts, Prometheus), or once as
// ?token=<token>, after which a cookie keeps a browser signed in. The
// cookie holds an HMAC of the token, not the token, so it is no key to
// the API. An empty token refuses everything.
func RequireToken(next http.Handler, token string) http.Handler {
	session := sessionValue(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		if token == "" {
			http.Error(w, "dashboard: no token configured", http.StatusUnauthorized)
			return
		}
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && equal(bearer, token) {
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(cookieName); err == nil && equal(c.Value, session) {
			next.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		if t := q.Get("token"); t != "" && equal(t, token) {
			http.SetCookie(w, &http.Cookie{Name: cookieName, Value: session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			if r.Method == http.MethodGet {
				// Drop the token from the address bar and history.
				q.Del("token")
				u := *r.URL
				u.RawQuery = q.Encode()
				http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="berth"`)
		http.Error(w, "berth dashboard: this listener is not loopback, so it needs the API token (Authorization: Bearer, or ?token= once; the token is in <data-dir>/token)", http.StatusUnauthorized)
	})
}

func sessionValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("berth dashboard session"))
	return hex.EncodeToString(m.Sum(nil))
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// localHostOnly refuses requests whose Host is a name other than
// localhost: a page on another site that rebinds its DNS name to 127.0.0.1
// would otherwise read the dashboard as same-origin. IP literals and
// localhost pass.
func localHostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if host != "localhost" && !strings.HasSuffix(host, ".localhost") && net.ParseIP(host) == nil {
			http.Error(w, "the dashboard answers on an IP address or localhost only", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
