package main

// Reactions: anyone in a room may put one of a few emoji on a message, and
// take theirs off again. Each is a stored event (react, unreact), so a
// client that was away learns of it on resume, and a message carries its
// reactions as they are now wherever it is read: from the store (the
// reactions table, kept in the same transaction) and from the room's
// memory alike. A reaction belongs to a name, as presence does. It runs on
// the room's writer goroutine.

import (
	"context"
	"slices"
	"strings"
)

// reactionSet is the emoji a message may get, in the order a message's
// reactions are listed. A short fixed set keeps the row under a message
// small and readable, and needs no emoji parsing to check.
const reactionSet = "👍 ❤️ 😂 🎉 😮 😢 🙏 👀"

// reactionOrder is emoji's place in reactionSet, or -1. It walks the
// constant rather than split it: it runs for every reaction frame and in
// every sort of a message's reactions.
func reactionOrder(emoji string) int {
	rest := reactionSet
	for i := 0; rest != ""; i++ {
		var e string
		e, rest, _ = strings.Cut(rest, " ")
		if e == emoji {
			return i
		}
	}
	return -1
}

// inReactionOrder sorts a message's reactions as reactionSet lists them.
func inReactionOrder(rs []Reaction) {
	slices.SortStableFunc(rs, func(a, b Reaction) int { return reactionOrder(a.Emoji) - reactionOrder(b.Emoji) })
}

// react puts o's sender's reaction o.text (an emoji) on message o.ref
// (o.on), or takes it off, or tells them why not. Asking for what is so
// already stores nothing and answers nothing: a double click, or two
// tabs, do no harm.
func (r *room) react(o op) {
	c, ref, emoji, on, nonce := o.c, o.ref, o.text, o.on, o.nonce
	if !r.inRoom(c, nonce) {
		return
	}
	e, ok := r.message(o, "That reaction was not saved; try again.")
	switch {
	case !ok:
		return
	case e.deleted() || r.deleting(ref):
		r.refuse(c, codeNotFound, "That message is deleted.", nonce)
		return
	}
	if r.reacts(e.Reactions, ref, emoji, c.user.key) == on {
		return
	}
	typ := typeReact
	if !on {
		typ = typeUnreact
	}
	r.change(c, Event{Type: typ, Ref: ref, Text: emoji}, nonce)
}

// reacts reports whether the user with this name key has emoji on message
// ref once the batch is committed: as reactions say, unless the batch
// changes it.
func (r *room) reacts(reactions []Reaction, ref int64, emoji, key string) bool {
	on := false
	if i := slices.IndexFunc(reactions, func(x Reaction) bool { return x.Emoji == emoji }); i >= 0 {
		on = slices.ContainsFunc(reactions[i].Users, func(name string) bool { return nameKey(name) == key })
	}
	for _, b := range r.batch {
		if (b.Type == typeReact || b.Type == typeUnreact) && b.Ref == ref && b.Text == emoji && b.UserKey == key {
			on = b.Type == typeReact
		}
	}
	return on
}

// nameKey is a stored name's compare key ("" if it is not a valid name).
func nameKey(name string) string {
	_, key, _ := normalizeName(name)
	return key
}

// withReaction returns reactions with e (a react or unreact) applied: the
// user added at the end of the emoji's list, or taken off it, and an
// emoji nobody has any more dropped. The store lists them the same way
// (see SQLite.reactions), so memory and store agree.
func withReaction(reactions []Reaction, e Event) []Reaction {
	out := slices.Clone(reactions)
	i := slices.IndexFunc(out, func(x Reaction) bool { return x.Emoji == e.Text })
	if e.Type == typeReact {
		if i < 0 {
			out = append(out, Reaction{Emoji: e.Text})
			inReactionOrder(out)
			i = slices.IndexFunc(out, func(x Reaction) bool { return x.Emoji == e.Text })
		}
		out[i].Users = append(slices.Clone(out[i].Users), e.User)
		return out
	}
	if i < 0 {
		return out
	}
	out[i].Users = slices.DeleteFunc(slices.Clone(out[i].Users), func(name string) bool { return nameKey(name) == e.UserKey })
	if len(out[i].Users) == 0 {
		out = slices.Delete(out, i, i+1)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// reactions gives the messages among evs (oldest first) their reactions:
// each emoji in reactionSet's order, and its names in the order they
// reacted, as withReaction keeps them in memory.
func (s *SQLite) reactions(ctx context.Context, room string, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT ref, emoji, name FROM reactions WHERE room = ? AND ref >= ? AND ref <= ? ORDER BY ref, id`,
		room, evs[0].ID, evs[len(evs)-1].ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := make(map[int64]*Event, len(evs))
	for i := range evs {
		if evs[i].Type == typeMessage {
			byID[evs[i].ID] = &evs[i]
		}
	}
	for rows.Next() {
		var ref int64
		var emoji, name string
		if err := rows.Scan(&ref, &emoji, &name); err != nil {
			return err
		}
		e := byID[ref]
		if e == nil {
			continue
		}
		i := slices.IndexFunc(e.Reactions, func(x Reaction) bool { return x.Emoji == emoji })
		if i < 0 {
			e.Reactions = append(e.Reactions, Reaction{Emoji: emoji})
			i = len(e.Reactions) - 1
		}
		e.Reactions[i].Users = append(e.Reactions[i].Users, name)
	}
	for _, e := range byID {
		inReactionOrder(e.Reactions)
	}
	return rows.Err()
}
