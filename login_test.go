package main

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The login form's optional room field is what the person typed, so it
// wins over the next the page carried; a room name it cannot be is
// refused beside the field with the name and the room kept, and no
// session is made.
func TestLoginRoomField(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	for i, tc := range []struct {
		name, room, next string
		status           int
		want             string // Location (unescaped), or the reason on the page
	}{
		{"room", "kitchen", "", 303, "/r/kitchen"},
		{"room in capitals", "  Games ", "", 303, "/r/games"},
		{"chinese room", "聊天", "", 303, "/r/聊天"},
		{"room over next", "kitchen", "/r/garden", 303, "/r/kitchen"},
		{"next without room", "", "/r/garden", 303, "/r/garden"},
		{"room with a space", "bad room", "/r/garden", 400, "A room name has 1 to 32 letters, digits, &#39;-&#39; or &#39;_&#39;."},
		{"room too long", strings.Repeat("a", 33), "", 400, "A room name has 1 to 32"},
		{"markup", "<b>", "", 400, "A room name has 1 to 32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "user" + string(rune('a'+i))
			form := url.Values{"name": {name}, "room": {tc.room}, "next": {tc.next}}
			resp, body := ts.request(t, "POST", "/login", strings.NewReader(form.Encode()), nil, "Content-Type", "application/x-www-form-urlencoded")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d:\n%s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 303 {
				// Go's Redirect escapes non-ASCII in lower-case hex.
				if got, err := url.PathUnescape(resp.Header.Get("Location")); got != tc.want || err != nil {
					t.Errorf("Location %q, want %q", resp.Header.Get("Location"), tc.want)
				}
				return
			}
			switch {
			case !strings.Contains(body, tc.want):
				t.Errorf("page does not give the reason %q:\n%s", tc.want, body)
			case !strings.Contains(body, `value="`+html.EscapeString(tc.room)+`"`), !strings.Contains(body, `value="`+name+`"`):
				t.Errorf("page does not keep the typed room %q and name %q:\n%s", tc.room, name, body)
			case !strings.Contains(body, `aria-invalid="true"`):
				t.Errorf("the room field is not marked invalid:\n%s", body)
			case len(resp.Cookies()) != 0:
				t.Errorf("a refused login set cookies: %v", resp.Cookies())
			}
			// The name was not taken by the refused login.
			if resp := ts.postLogin(t, name, ""); resp.StatusCode != 303 {
				t.Errorf("logging in as %s after the refusal: %d", name, resp.StatusCode)
			}
		})
	}
}

// The login page for a room's link (next=/r/{room}) offers that room in
// its room field, as the room's own name; the lobby, where a login goes
// anyway, leaves the field empty.
func TestLoginPageRoomFromNext(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	for _, tc := range []struct{ next, room string }{
		{"/r/kitchen", "kitchen"},
		{"/r/Kitchen", "kitchen"},
		{"/r/lobby", ""},
		{"/r/bad%20room", ""},
		{"/somewhere", ""},
	} {
		t.Run(tc.next, func(t *testing.T) {
			_, body := ts.get(t, "/?next="+url.QueryEscape(tc.next), nil)
			if !strings.Contains(body, `name="room" value="`+tc.room+`"`) {
				t.Errorf("the room field is not %q:\n%s", tc.room, body)
			}
		})
	}
}

// The login page a logout elsewhere or a name takeover sends to says
// that the session ended; the plain login page does not.
func TestLoginSessionEndedNotice(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	const notice = "Your session has ended. Log in again."
	if _, body := ts.get(t, "/?ended=1", nil); !strings.Contains(body, notice) {
		t.Errorf("/?ended=1 does not say the session ended:\n%s", body)
	}
	if _, body := ts.get(t, "/", nil); strings.Contains(body, notice) {
		t.Errorf("the plain login page says the session ended")
	}
}

// A login the store cannot record is refused with 503, in words for a
// person, and changes nothing: a new name stays free, and the idle
// session whose name it would have taken over keeps working. Once the
// store writes again, the same logins go through.
func TestLoginStoreFailure(t *testing.T) {
	dir := t.TempDir()
	st := &brokenStore{Store: MustOpenSQLite(t, dir)}
	// A fresh login keeps its name for no time: "idle" may be taken over.
	ts := MustStartStore(t, dir, st, func(c *Config) { c.LoginHold = time.Nanosecond })
	idle := ts.MustLogin(t, "idle")
	st.broken.Store(true)
	for _, name := range []string{"newcomer", "idle"} {
		resp := ts.postLogin(t, name, "")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "try again shortly") || len(resp.Cookies()) > 0 {
			t.Errorf("login as %s with the store failing: %d, cookies %v; want 503 saying to try again, and no cookie", name, resp.StatusCode, resp.Cookies())
		}
		if strings.Contains(string(body), "disk") {
			t.Errorf("the store's own error leaked: %s", body)
		}
	}
	st.broken.Store(false)
	ts.mustSession(t, idle, true)
	ts.MustLogin(t, "newcomer")
	ts.MustLogin(t, "idle")
	ts.mustSession(t, idle, false)
}
