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
// (pages, event streams, actions, /metrics): every request needs the API's
// bearer token, loopback included, because on a shared machine every local
// user can reach loopback, and the pages show specs (passwords in env
// values), stream logs and restart services. bound is the address the
// listener actually bound (host:port): unless it is a wildcard, the Host
// header must name it, localhost or a loopback IP, so a page on another
// site that rebinds its DNS name to this address is refused before any
// cookie is looked at. /healthz stays open.
func Protect(next http.Handler, bound, token string) http.Handler {
	h := RequireToken(next, token)
	host, _, err := net.SplitHostPort(bound)
	if err != nil {
		host = bound
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		// A wildcard listener is reached under names this process cannot
		// know (the machine's LAN name); the token still guards it.
		return h
	}
	return hostOnly(h, host)
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

// CookieName is the cookie that holds a browser's proof of the token. It
// carries a short digest of the session so that two managers on one
// machine (cookies ignore ports) do not sign each other's browsers out.
func CookieName(token string) string { return "berth_dashboard_" + sessionValue(token)[:8] }

// RequireToken refuses requests without the token: as
// "Authorization: Bearer <token>" (scripts, Prometheus), or once as
// ?token=<token> (the sign-in URL the manager prints), which sets a cookie
// and redirects to the same address without the token, so it stays out
// of the browser's history; the cookie keeps the browser signed in. The
// cookie holds an HMAC of the token, not the token, so it is no key to
// the API. Comparisons are constant-time. An empty token refuses
// everything.
func RequireToken(next http.Handler, token string) http.Handler {
	session := sessionValue(token)
	cookie := CookieName(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		if token == "" {
			signIn(w, "this manager has no token configured, so the dashboard is closed")
			return
		}
		q := r.URL.Query()
		if q.Has("token") {
			if !equal(q.Get("token"), token) {
				signIn(w, "the token in this address is not this manager's")
				return
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				// The exchange is a navigation; actions send the cookie.
				signIn(w, "sign in with a GET of the printed address")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: cookie, Value: session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			q.Del("token")
			u := *r.URL
			u.RawQuery = q.Encode()
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Referrer-Policy", "no-referrer")
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && equal(bearer, token) {
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(cookie); err == nil && equal(c.Value, session) {
			next.ServeHTTP(w, r)
			return
		}
		signIn(w, "")
	})
}

// signInPage is all an unauthenticated request gets: how to sign in, and
// no data.
const signInPage = `<!doctype html>
<meta charset="utf-8"><title>berth dashboard: sign in</title>
<h1>Sign in to the berth dashboard</h1>
<p>%s</p>
<p>Open the sign-in address the manager printed when it started
(<code>dashboard: http://127.0.0.1:7878/?token=…</code>), or add
<code>?token=</code> followed by the contents of <code>&lt;data-dir&gt;/token</code>
to this address. A cookie then keeps this browser signed in.</p>
<p>Scripts and Prometheus send <code>Authorization: Bearer TOKEN</code>.</p>
`

func signIn(w http.ResponseWriter, reason string) {
	if reason == "" {
		reason = "This dashboard needs the manager's API token."
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="berth"`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(strings.Replace(signInPage, "%s", reason, 1)))
}

func sessionValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("berth dashboard session"))
	return hex.EncodeToString(m.Sum(nil))
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// allowedHost is the DNS-rebinding rule: localhost, a loopback IP, or the
// host the listener bound. Other names under .localhost are refused: they
// need not resolve to this machine.
func allowedHost(hostHeader, bound string) bool {
	host := hostHeader
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() {
			return true
		}
		if b := net.ParseIP(bound); b != nil {
			return ip.Equal(b)
		}
	}
	return strings.EqualFold(host, bound)
}

// hostOnly refuses requests whose Host is not allowedHost.
func hostOnly(next http.Handler, bound string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowedHost(r.Host, bound) {
			http.Error(w, "the dashboard answers to localhost, a loopback address or "+bound+" only", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
