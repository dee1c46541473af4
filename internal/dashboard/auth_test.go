package dashboard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7878": true, "127.1.2.3:0": true, "[::1]:7878": true, "localhost:7878": true,
		"0.0.0.0:7878": false, ":7878": false, "[::]:7878": false, "192.0.2.2:7878": false, "example.com:80": false, "garbage": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestProtectNeedsTokenOnEveryListener drives Protect with the addresses
// main binds: loopback needs the token as much as a wildcard does.
func TestProtectNeedsTokenOnEveryListener(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("inside")) })
	for _, bound := range []string{"127.0.0.1:7878", "[::1]:7878", "0.0.0.0:7878", "[::]:7878"} {
		t.Run(bound, func(t *testing.T) {
			h := Protect(ok, bound, token)
			do := func(method, target string, mod func(*http.Request)) *httptest.ResponseRecorder {
				r := httptest.NewRequest(method, target, nil)
				r.Host = "127.0.0.1:7878"
				if mod != nil {
					mod(r)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w
			}
			for _, path := range []string{"/", "/metrics", "/env/x", "/env/x/logs/web", "/events/overview", "/static/app.css"} {
				w := do("GET", path, nil)
				if w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "inside") {
					t.Errorf("GET %s without token: %d %q, want 401 without the data", path, w.Code, w.Body.String())
				}
				if !strings.Contains(w.Body.String(), "?token=") || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
					t.Errorf("GET %s without token: the 401 page %q does not say how to sign in", path, w.Body.String())
				}
				if !strings.Contains(w.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("GET %s without token: WWW-Authenticate %q", path, w.Header().Get("WWW-Authenticate"))
				}
			}
			if w := do("POST", "/env/x/delete", nil); w.Code != http.StatusUnauthorized {
				t.Errorf("POST without token: %d, want 401", w.Code)
			}
			if w := do("POST", "/env/x/delete?token="+token, nil); w.Code != http.StatusUnauthorized {
				t.Errorf("POST with ?token=: %d, want 401 (the exchange is a GET)", w.Code)
			}
			if w := do("GET", "/", func(r *http.Request) { r.Header.Set("Authorization", "Bearer wrong") }); w.Code != http.StatusUnauthorized {
				t.Errorf("wrong bearer: %d, want 401", w.Code)
			}
			if w := do("GET", "/?token=wrong", nil); w.Code != http.StatusUnauthorized {
				t.Errorf("wrong ?token: %d, want 401", w.Code)
			}
			if w := do("GET", "/metrics", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }); w.Code != http.StatusOK {
				t.Errorf("bearer token: %d, want 200", w.Code)
			}
			if w := do("GET", "/healthz", nil); w.Code != http.StatusOK {
				t.Errorf("/healthz must stay open for health checks: %d", w.Code)
			}

			// ?token= once: a redirect to the same address without it, and
			// a cookie that is not the token itself.
			w := do("GET", "/env/x?token="+token+"&a=b", nil)
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/env/x?a=b" {
				t.Fatalf("?token: %d to %q, want 303 to /env/x?a=b", w.Code, w.Header().Get("Location"))
			}
			if w := do("GET", "/?token="+token, nil); w.Header().Get("Location") != "/" {
				t.Errorf("?token on /: redirect to %q, want /", w.Header().Get("Location"))
			}
			cookies := w.Result().Cookies()
			if len(cookies) != 1 || cookies[0].Value == token || strings.Contains(cookies[0].Value, token) ||
				!cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/" {
				t.Fatalf("cookies %+v: want one HttpOnly SameSite=Strict Path=/ cookie that is not the raw token", cookies)
			}
			if w := do("GET", "/", func(r *http.Request) { r.AddCookie(cookies[0]) }); w.Code != http.StatusOK {
				t.Errorf("with the cookie: %d, want 200", w.Code)
			}
			forged := &http.Cookie{Name: cookies[0].Name, Value: sessionValue("another token")}
			if w := do("GET", "/", func(r *http.Request) { r.AddCookie(forged) }); w.Code != http.StatusUnauthorized {
				t.Errorf("cookie from another token: %d, want 401", w.Code)
			}
			raw := &http.Cookie{Name: cookies[0].Name, Value: token}
			if w := do("GET", "/", func(r *http.Request) { r.AddCookie(raw) }); w.Code != http.StatusUnauthorized {
				t.Errorf("the raw token as cookie: %d, want 401", w.Code)
			}
		})
	}

	// No token configured: nothing gets in.
	closed := Protect(ok, "127.0.0.1:7878", "")
	r := httptest.NewRequest("GET", "/?token=", nil)
	r.Host = "127.0.0.1:7878"
	r.Header.Set("Authorization", "Bearer ")
	rec := httptest.NewRecorder()
	closed.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("empty token configured: %d, want 401", rec.Code)
	}
}

// TestCookieNamesDoNotCollide: two managers on one machine (cookies ignore
// the port) keep separate sessions.
func TestCookieNamesDoNotCollide(t *testing.T) {
	if CookieName("token-a") == CookieName("token-b") {
		t.Errorf("one cookie name for two tokens: %s", CookieName("token-a"))
	}
}

func TestProtectChecksHost(t *testing.T) {
	const token = "tok"
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	cases := map[string]map[string]int{
		"127.0.0.1:7878": {
			"127.0.0.1:7878": 200, "localhost:7878": 200, "LOCALHOST": 200, "[::1]:7878": 200, "127.0.0.2": 200,
			"app.localhost": http.StatusMisdirectedRequest, "app.localhost:7878": http.StatusMisdirectedRequest,
			"192.0.2.2:7878":    http.StatusMisdirectedRequest,
			"evil.example:7878": http.StatusMisdirectedRequest, "rebind.attacker.test": http.StatusMisdirectedRequest,
		},
		"192.0.2.2:7878": {
			"192.0.2.2:7878": 200, "localhost:7878": 200, "127.0.0.1:7878": 200,
			"192.0.2.3:7878": http.StatusMisdirectedRequest, "rebind.attacker.test": http.StatusMisdirectedRequest,
		},
	}
	for bound, hosts := range cases {
		h := Protect(ok, bound, token)
		for host, want := range hosts {
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = host
			r.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != want {
				t.Errorf("bound %s, Host %s: %d, want %d", bound, host, w.Code, want)
			}
		}
	}
}

func TestSameOriginGuardsActions(t *testing.T) {
	h := sameOrigin(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	cases := []struct {
		name   string
		header bool
		origin string
		want   int
	}{
		{"script of the page", true, "http://127.0.0.1:7878", http.StatusAccepted},
		{"no origin (curl)", true, "", http.StatusAccepted},
		{"form from elsewhere", false, "http://evil.example", http.StatusForbidden},
		{"no header", false, "", http.StatusForbidden},
		{"other origin with header", true, "http://evil.example", http.StatusForbidden},
		{"cross-site fetch with header", true, "", http.StatusForbidden},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "http://127.0.0.1:7878/env/x/delete", nil)
		if c.header {
			r.Header.Set(actionHeader, "1")
		}
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if strings.HasPrefix(c.name, "cross-site") {
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		} else if c.origin == "http://127.0.0.1:7878" {
			r.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, w.Code, c.want)
		}
	}
}
