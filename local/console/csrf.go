package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// The two actions that change something (cancel job, cancel execution) are
// POSTs a page on another site could try to make a browser send. Two
// independent checks refuse them:
//   - net/http's CrossOriginProtection: the browser's Sec-Fetch-Site must
//     be same-origin, or else the Origin header must be the console's host;
//   - a per-session token: the console sets a random session cookie
//     (HttpOnly, SameSite=Strict) and puts HMAC(key, session) in each form;
//     a request without the cookie or with another token is refused, so a
//     client that sends neither header is refused too.

const (
	sessionCookie = "otactl_console"
	tokenField    = "csrf"
	maxFormBytes  = 64 << 10
)

type csrf struct {
	key    []byte
	origin *http.CrossOriginProtection
}

func newCSRF() *csrf {
	k := make([]byte, 32)
	rand.Read(k)
	return &csrf{key: k, origin: http.NewCrossOriginProtection()}
}

// session returns the request's session id, setting a new one on w when
// the request has none.
func (c *csrf) session(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(sessionCookie); err == nil && len(ck.Value) == 43 {
		return ck.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: Prefix, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return id
}

// token is the form token of session id.
func (c *csrf) token(id string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// protect refuses a cross-origin request, or one without the session's token,
// with 403 before h runs.
func (c *csrf) protect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.origin.Check(r); err != nil {
			http.Error(w, "refused: a cross-origin request ("+err.Error()+")", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		ck, err := r.Cookie(sessionCookie)
		if err != nil {
			http.Error(w, "refused: no console session (open the page first)", http.StatusForbidden)
			return
		}
		got := r.PostFormValue(tokenField)
		if !hmac.Equal([]byte(got), []byte(c.token(ck.Value))) {
			http.Error(w, "refused: the form's CSRF token does not match the session", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
