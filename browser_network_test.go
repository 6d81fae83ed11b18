package main

// Browser tests of the web client on bad networks: a server restart, a tab
// that returns, a socket that dies without a close or works one way
// only, a handshake that hangs. The freezer (freezer_test.go) plays the
// network.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	cdpnetwork "github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

func TestBrowserSurvivesServerRestart(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cfg := func(c *Config) { c.Addr = "127.0.0.1:" + port; c.PresenceGrace = 30 * time.Second }
	ts := MustStart(t, dir, cfg)
	alice, bob := MustAliceAndBob(t, ts)
	MustSay(t, alice, "before restart")
	MustWait(t, bob, texts+`.includes("before restart")`)
	systemLines := MustEval[int](t, bob, `document.querySelectorAll("#messages .system").length`)

	ts.MustClose(t)
	MustWait(t, alice, `["reconnecting","connecting","offline"].includes(document.getElementById("status").dataset.state)`)
	// Typed while the server is down: queued, sent after reconnecting.
	MustSay(t, alice, "typed while down")
	MustWait(t, alice, `document.querySelectorAll("#pending li").length === 1`)

	MustStart(t, dir, cfg) // closed by its cleanup
	MustWait(t, alice, connected)
	MustWait(t, bob, connected)
	MustSay(t, bob, "after restart")
	for _, p := range []context.Context{alice, bob} {
		MustWait(t, p, texts+`.join("|") === "before restart|typed while down|after restart"`)
		ids := MustEval[[]int](t, p, `[...document.querySelectorAll("#messages [data-id]")].map(e => +e.dataset.id)`)
		for i := 1; i < len(ids); i++ {
			if ids[i] != ids[i-1]+1 {
				t.Errorf("ids on screen not contiguous: %v", ids)
				break
			}
		}
	}
	if n := MustEval[int](t, bob, `document.querySelectorAll("#messages .system").length`); n != systemLines {
		t.Errorf("restart added %d join/leave lines", n-systemLines)
	}
}

// mustServerGone starts a server at an address of its own, has alice
// enter its lobby in a browser, and stops the server: the page is left
// trying to reconnect. restart brings the server back at that address,
// with the same store.
func mustServerGone(t *testing.T) (p context.Context, restart func()) {
	t.Helper()
	dir, port := t.TempDir(), freePort(t)
	cfg := func(c *Config) { c.Addr = "127.0.0.1:" + port }
	ts := MustStart(t, dir, cfg)
	p = MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	ts.MustClose(t)
	return p, func() { MustStart(t, dir, cfg) }
}

// A tab that comes back into view while waiting out its reconnect backoff
// (up to 30 s once the server was gone a while) reconnects at once.
func TestBrowserReconnectsWhenTabReturns(t *testing.T) {
	p, restart := mustServerGone(t)
	// Failed attempts double the wait; let it grow past 2 s, then bring
	// the server back while the page still has seconds to wait.
	MustWait(t, p, `(() => {
		const s = document.getElementById("status");
		return s.dataset.state === "reconnecting" && +s.textContent.match(/\d+/)[0] >= 3;
	})()`)
	restart()

	// One expression, so the page's timer cannot fire between the check
	// and the event.
	got := MustEval[string](t, p, `(() => {
		const s = document.getElementById("status");
		if (s.dataset.state !== "reconnecting") return "not waiting any more: " + s.dataset.state;
		`+setHidden(false)+`
		return s.dataset.state;
	})()`)
	if got != "connecting" {
		t.Fatalf("after the tab came back the status is %q, want connecting", got)
	}
	MustWait(t, p, connected)
	MustSay(t, p, "back")
	MustWait(t, p, texts+`.includes("back")`)
	// The countdown it was in is over too: its next second would say
	// "reconnecting" again. The page's timers fire in the order they
	// are due, so one 1.1 s from now comes after that second.
	const later = `new Promise((ok) => setTimeout(() => ok(document.getElementById("status").dataset.state), 1100))`
	if got := MustEval[string](t, p, later, chromedp.EvalAwaitPromise); got != "connected" {
		t.Errorf("a second after it reconnected the status is %q", got)
	}
}

// A socket that dies without a close (the network went away under it,
// and the browser still says it is open) is found out and replaced: when
// the tab comes back into view, and when a message gets no echo. That
// message then arrives, once. While the network is away the page's new
// sockets are held, so the states waited for below last.
func TestBrowserReplacesADeadSocket(t *testing.T) {
	ts, fz, p := MustAliceBehindFreezer(t)
	bob := ts.MustLogin(t, "bob")
	watcher, _ := ts.MustDial(t, bob, "lobby", -1)
	const status = `document.getElementById("status").dataset.state`

	fz.freeze()
	fz.hold()
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](setHidden(false)))
	MustWait(t, p, status+` === "connecting"`)
	fz.release()
	MustWait(t, p, connected)

	fz.freeze()
	fz.hold()
	MustSay(t, p, "through a dead socket")
	MustWait(t, p, status+` === "connecting"`)
	// Given up on, the socket's unanswered message says it waits.
	if note := MustEval[string](t, p, `document.querySelector("#pending .pending-note").textContent`); note != "Will send when connected" {
		t.Errorf("the pending message says %q", note)
	}
	fz.release()
	MustWait(t, p, texts+`.includes("through a dead socket") && `+nonePending)
	if m := watcher.MustNextOf(typeMessage); m.Text != "through a dead socket" || m.User != "alice" {
		t.Errorf("bob got %+v", m)
	}
	_, body := ts.get(t, "/api/rooms/lobby/messages", bob)
	if n := strings.Count(body, "through a dead socket"); n != 1 {
		t.Errorf("the message is stored %d times: %s", n, body)
	}
}

// What the server has not confirmed survives a reload of the page (as
// when a phone's browser discards a background tab), and so does the
// draft. A message typed while the sockets were refused is sent once
// they are let in again; one whose echo was lost is found in the replay
// and not sent again. Either way it is stored once.
func TestBrowserOutboxSurvivesReload(t *testing.T) {
	ts, fz, p := MustAliceBehindFreezer(t)
	bob := ts.MustLogin(t, "bob")
	watcher, _ := ts.MustDial(t, bob, "lobby", -1)
	MustSay(t, p, "before")
	MustWait(t, p, texts+`.includes("before")`)

	// The server stores this one, but its echo never reaches the page.
	fz.freezeDown()
	MustSay(t, p, "echo lost")
	MustWait(t, p, pendingTexts+` === "echo lost"`)
	// Sockets are refused from now on; the frozen one is cut.
	fz.refuseSockets(true)
	fz.cut()
	MustWait(t, p, disconnected)
	MustSay(t, p, "typed offline")
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("text"), "a draft"))
	// More than the 50 newest events a fresh page is sent come after
	// "echo lost": only resuming from the saved id finds it.
	want := []string{"before", "echo lost"}
	for i := range 60 {
		text := fmt.Sprintf("meanwhile %d", i)
		watcher.say(text, text)
		for watcher.MustNextOf(typeMessage).Nonce != text {
		}
		want = append(want, text)
	}
	want = append(want, "typed offline")
	MustWait(t, p, pendingTexts+` === "echo lost|typed offline"`)

	MustDo(t, p, chromedp.Reload())
	MustWait(t, p, pendingTexts+` === "echo lost|typed offline" && document.getElementById("text").value === "a draft" && `+texts+`.includes("before")`)
	fz.refuseSockets(false)
	MustWait(t, p, connected+` && `+pendingTexts+` === "" && `+texts+`.join("|") === `+jsString(strings.Join(want, "|")))
	if v := MustEval[string](t, p, `document.getElementById("text").value`); v != "a draft" {
		t.Errorf("the draft is %q after sending the rest", v)
	}

	for {
		if m := watcher.MustNextOf(typeMessage); m.Text == "typed offline" {
			break
		}
	}
	// A logout on purpose forgets what the tab kept: the draft, and a
	// message still waiting.
	fz.refuseSockets(true)
	fz.cut()
	MustWait(t, p, disconnected)
	MustPaste(t, p, "left behind") // after the draft
	MustWait(t, p, pendingTexts+` === "a draftleft behind"`)
	const kept = `Object.keys(sessionStorage).filter(k => k.startsWith("chat.outbox.")).length`
	if n := MustEval[int](t, p, kept); n != 1 {
		t.Errorf("%d rooms kept in sessionStorage before logging out; want 1", n)
	}
	MustDo(t, p, chromedp.Click(chromedp.ID("logout")))
	MustWait(t, p, `location.pathname === "/" && `+kept+` === 0`)
	ts.mustStoredOnce(t, bob, "echo lost", "typed offline")
}

// A message whose echo was lost, followed by more events than a resume
// replays: the page cannot see it in the truncated replay and sends it
// again, and the server, knowing its nonce, answers duplicate instead of
// storing it twice.
func TestBrowserResendAfterLongAbsenceStoredOnce(t *testing.T) {
	ts, fz, p := MustAliceBehindFreezer(t)
	bob := ts.MustLogin(t, "bob")
	watcher, _ := ts.MustDial(t, bob, "lobby", -1)
	fz.freezeDown()
	MustSay(t, p, "echo lost")
	for watcher.MustNextOf(typeMessage).Text != "echo lost" {
	}
	fz.refuseSockets(true)
	fz.cut()
	// More than a replay, and more messages with nonces than the room
	// remembers: only the page saying how far back to look finds it.
	n := max(maxReplay, nonceMemory) + 10
	for i := range n {
		watcher.say(fmt.Sprint("meanwhile ", i), fmt.Sprint("m", i))
	}
	for watcher.MustNextOf(typeMessage).Text != fmt.Sprint("meanwhile ", n-1) {
	}
	fz.refuseSockets(false)
	MustWait(t, p, connected+` && `+nonePending+` && `+texts+`.includes("meanwhile `+fmt.Sprint(n-1)+`")`)
	// It is not on screen (the replay starts after it): the page says
	// where it went.
	MustWait(t, p, `document.getElementById("composer-error").textContent.includes("further up")`)
	// The truncated replay replaced what the page showed: no gap between
	// what it had and the newest.
	MustContiguous(t, p, "after the long absence")
	body := ""
	for _, e := range MustHistory(t, ts, bob, "lobby", 0, 1<<40) {
		body += e.Text + "|"
	}
	if n := strings.Count(body, "echo lost|"); n != 1 {
		t.Errorf(`"echo lost" is stored %d times`, n)
	}
}

// A socket whose frames still come in but whose own go nowhere is dead
// too: only a pong answers the page's ping, not the room's traffic (nor
// a frame that happens to arrive just after the ping).
func TestBrowserOneWaySocketIsReplaced(t *testing.T) {
	ts, fz, p := MustAliceBehindFreezer(t)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	const status = `document.getElementById("status").dataset.state`

	fz.freezeUp()
	fz.hold()
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](setHidden(false)))
	// bob keeps talking, so frames keep reaching alice's page while it
	// waits for its pong.
	said := 0
	for deadline := time.Now().Add(15 * time.Second); MustEval[string](t, p, status) != "connecting"; said++ {
		if time.Now().After(deadline) {
			t.Fatalf("still %q 15 s after the ping, with bob's messages arriving", MustEval[string](t, p, status))
		}
		bob.say(fmt.Sprint("still here ", said), "")
		time.Sleep(300 * time.Millisecond)
	}
	if !MustEval[bool](t, p, texts+`.includes("still here 0")`) {
		t.Fatal("bob's messages did not reach alice's page while only her side was frozen")
	}
	fz.release()
	MustWait(t, p, connected+` && `+texts+`.filter(s => s.startsWith("still here")).length === `+fmt.Sprint(said))
	if got := MustEval[[]string](t, p, texts+`.filter(s => s.startsWith("still here"))`); len(got) != said || got[said-1] != fmt.Sprint("still here ", said-1) {
		t.Errorf("alice's page shows %q, want %d of bob's messages in order", got, said)
	}
}

// A handshake that hangs (a network that swallows the connection) is
// given up after a while and tried again, instead of "Connecting…" until
// the browser's own timeout, minutes later.
func TestBrowserRetriesAHangingHandshake(t *testing.T) {
	_, fz, p := MustAliceBehindFreezer(t)

	before := fz.sockets()
	fz.hold()
	fz.cut() // the page reconnects at once, and that handshake hangs
	deadline := time.Now().Add(40 * time.Second)
	for fz.sockets() < before+2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d handshakes in 40 s after the cut, want 2: the page waits on the hanging one", fz.sockets()-before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fz.release()
	MustWait(t, p, connected)
	MustSay(t, p, "after a hanging handshake")
	MustWait(t, p, texts+`.includes("after a hanging handshake") && `+nonePending)
}

// A page whose session ended while its socket was down (logged out
// elsewhere: the 4001 never reached it) learns it when it tries again:
// its probe of the refused handshake reads 401, and it goes to log in.
func TestBrowserSessionEndedWhileAway(t *testing.T) {
	ts, fz, p := MustAliceBehindFreezer(t)
	fz.refuseSockets(true)
	fz.cut()
	ts.hub.mu.Lock()
	u := ts.hub.users[nameKey("alice")]
	ts.hub.mu.Unlock()
	if err := ts.hub.logout(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	fz.refuseSockets(false)
	MustWait(t, p, `location.pathname === "/" && !!document.querySelector(".notice")`)
}

// The history, search and picture APIs tell a page its session ended, as its
// socket does: their 401 sends it to the login page, which says why. The
// 401 here is the browser's interception's: a real one comes with the
// socket's 4001, which would send the page there first. So the session
// is still good, and the login page sends the page back to its room.
func TestBrowserAPISessionEnded(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.MustSayMany("chatter %03d", 70)
	b := MustBrowser(t, "en-US")
	js := func(s string) chromedp.Action[chromedp.Void] { return chromedp.Evaluate[chromedp.Void](s) }
	for _, tc := range []struct {
		name, api string
		do        chromedp.Action[chromedp.Void]
	}{
		{"history", "*/messages?before=*", js(`document.getElementById("log").scrollTop = 0`)},
		{"search", "*/search?*", js(`document.getElementById("search-toggle").click(); ` + searchFor("chatter"))},
		{"picture", "*/images", pickPicture(t, "shot.png", 30, 20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := MustPerson(t, b)
			MustEnter(t, p, ts, tc.name, "")
			MustWait(t, p, texts+`.at(-1) === "chatter 069"`)
			MustExec(t, p, `window.before401 = true`)
			next := MustHoldRequests(t, p, tc.api, fetch.RequestStageRequest)
			MustDo(t, p, tc.do)
			MustDo(t, p, answerJSON(next(), http.StatusUnauthorized, `{"error":{"code":"unauthorized","message":"Log in first."}}`))
			// A new page, come by a redirect: the login page's.
			MustWait(t, p, `!window.before401 && location.pathname === "/r/lobby" && performance.getEntriesByType("navigation")[0]?.redirectCount === 1`)
		})
	}
}

// The tab coming back, and the network, check that the socket the
// browser calls open still works, with one ping however many of them
// come at once: a second check while the first waits for its pong would
// leave the first's timer behind to give up on a live socket. Once the
// pong is in, the next check pings again, and no timer is left behind.
func TestBrowserWakeChecksOnce(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustExec(t, p, `(() => {
		window.pings = 0;
		window.pinged = new Set(); // the sockets pinged
		const send = WebSocket.prototype.send;
		WebSocket.prototype.send = function (d) {
			if (JSON.parse(d).type === "ping") window.pings++, window.pinged.add(this);
			return send.call(this, d);
		};
	})()`)
	if n := MustEval[int](t, p, setHidden(false)+setHidden(false)+`window.dispatchEvent(new Event("online")); window.pings`); n != 1 {
		t.Fatalf("three wakes at once sent %d pings, want 1", n)
	}
	MustWait(t, p, `(() => { `+setHidden(false)+` return window.pings === 2; })()`)
	if n := MustEval[int](t, p, `window.pinged.size`); n != 1 {
		t.Errorf("the pings went over %d sockets, want the one live socket", n)
	}
	// Each pong ended its ping's wait for good: past the 5 s a ping waits
	// (DEAD_MS), the socket pinged is still the page's, and open. A timer
	// set in the page now is due after the wait of any ping sent so far.
	still := `new Promise((ok) => setTimeout(ok, 5100)).then(() => ` + importModule("state.js") + `).then((m) => m.state.ws === [...window.pinged][0] && m.state.ws.readyState === WebSocket.OPEN)`
	if !MustEval[bool](t, p, still, chromedp.EvalAwaitPromise) {
		t.Error("5 s after its pings were answered, the page gave up on the socket")
	}
	MustWait(t, p, connected)
}

// A page waiting to reconnect whose browser goes offline says so, with
// no countdown (an attempt could only fail, and none is made), and back
// online it reconnects at once: nothing else would try again.
func TestBrowserGoesOffline(t *testing.T) {
	p, restart := mustServerGone(t)
	const state = `document.getElementById("status").dataset.state`
	MustWait(t, p, state+` === "reconnecting"`)
	MustDo(t, p, online(false))
	MustWait(t, p, `!navigator.onLine && `+state+` === "offline" && !/\d/.test(document.getElementById("status").textContent)`)
	restart()
	MustDo(t, p, online(true))
	MustWait(t, p, connected)
}

// A browser that says it went offline while the page's socket is open
// may be wrong (its idea of online is a guess): the page still says
// Connected, and what others say still comes. Once the socket is lost,
// it says Offline and waits for the browser to be online.
func TestBrowserOfflineWhileConnected(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	MustDo(t, p, online(false))
	MustWait(t, p, `!navigator.onLine`)
	bob.MustSay("still here", "")
	MustWait(t, p, texts+`.at(-1) === "still here" && `+connected)
	// Once that socket is lost, the page waits for the browser to be
	// online before it tries again, and says so.
	ts.MustClose(t)
	MustWait(t, p, `document.getElementById("status").dataset.state === "offline" && !/\d/.test(document.getElementById("status").textContent)`)
}

// online sets the browser's idea of whether it is online (navigator.onLine,
// and the online and offline events), which is all the page can know;
// the sockets and requests it has are left as they are.
func online(on bool) chromedp.Action[chromedp.Void] {
	return command(cdpnetwork.OverrideNetworkState, cdpnetwork.OverrideNetworkStateParams{Offline: !on, DownloadThroughput: -1, UploadThroughput: -1})
}

// The wait between attempts to reconnect grows while they fail, and
// starts afresh when there is reason to expect one to work (the tab is
// looked at again: it then tries at once) and once a socket came up and
// was welcomed: when that is lost, the page tries again within half a
// second, however long it had waited before. The waits are read off the
// page's timers.
func TestBrowserBackoffStartsAfresh(t *testing.T) {
	_, fz, p := MustAliceBehindFreezer(t)
	MustExec(t, p, recordTimers("scheduleReconnect"))
	pauses := func(n int) []float64 {
		t.Helper()
		MustWait(t, p, fmt.Sprintf(`window.pauses.length === %d`, n))
		return MustEval[[]float64](t, p, `window.pauses`)
	}
	fz.refuseSockets(true)
	fz.cut()
	// Four failures in a row: the last wait is 2–4 s.
	if got := pauses(4); got[3] < 2000 {
		t.Fatalf("the page waited %v ms before its attempts, want the fourth 2 s or more", got)
	}
	MustExec(t, p, setHidden(false)) // looked at: it tries at once, and fails
	if got := pauses(5); got[4] > 500 {
		t.Errorf("the page waited %v ms before its attempts, want at most 0.5 s after the tab was looked at", got)
	}
	if got := pauses(8); got[7] < 2000 {
		t.Fatalf("the page waited %v ms before its attempts, want 2 s or more after three more failures", got)
	}
	fz.refuseSockets(false)
	MustWait(t, p, connected)
	fz.cut()
	if got := pauses(9); got[8] > 500 {
		t.Errorf("the page waited %v ms before its attempts, want at most 0.5 s once a socket was welcomed", got)
	}
	MustWait(t, p, connected)
}
