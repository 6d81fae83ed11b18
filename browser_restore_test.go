package main

import (
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// A server whose history is behind the page's (its database put back
// from a backup) cannot be stitched to what the page shows: the page
// starts over from what the server has, and what is said from then on
// shows, although its ids are ones the page had seen before.
func TestBrowserHistoryRestoredFromBackup(t *testing.T) {
	dir, backup, port := t.TempDir(), t.TempDir(), freePort(t)
	cfg := func(c *Config) { c.Addr = "127.0.0.1:" + port }
	ts := MustStart(t, dir, cfg)
	aliceCk, bobCk := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	b, _ := ts.MustDial(t, bobCk, "lobby", -1)
	b.MustSay("kept in the backup", "")
	ts.MustClose(t)
	// The sessions, and the first message.
	if err := os.CopyFS(backup, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}

	ts = MustStart(t, dir, cfg)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, setCookie(ts, aliceCk), chromedp.Navigate(ts.URL+"/r/lobby"))
	MustWait(t, p, connected)
	b, _ = ts.MustDial(t, bobCk, "lobby", -1)
	b.MustSayMany("lost with the database %d", 5)
	MustWait(t, p, texts+`.at(-1) === "lost with the database 4"`)

	ts.MustClose(t)
	MustWait(t, p, disconnected)
	ts = MustStart(t, backup, cfg)
	MustWait(t, p, connected+` && !`+texts+`.some((s) => s.startsWith("lost"))`)
	b, _ = ts.MustDial(t, bobCk, "lobby", -1)
	b.MustSay("said after the restore", "")
	MustWait(t, p, texts+`.join("|") === "kept in the backup|said after the restore"`)
	MustContiguous(t, p, "after the restore")
}
