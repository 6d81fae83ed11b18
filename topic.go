package main

// A room's topic: a line anyone in the room may set (or clear), shown
// under the room's name. Setting it is a stored event like a message, so
// the room's history says who set what when; the room keeps the newest
// in memory and every welcome carries it. It runs on the room's writer
// goroutine.

import "context"

// maxTopicLen is a topic's length at most, in characters: a line under
// the room's name, not a message.
const maxTopicLen = 200

// topicInfo is the topic as a welcome carries it.
type topicInfo struct {
	Text string `json:"text"`
	User string `json:"user"`
	TS   string `json:"ts"`
}

// setTopic makes text (trimmed, maybe empty: no topic) the room's topic
// for c's user, or tells c why not.
func (r *room) setTopic(c *client, text, nonce string) {
	switch {
	case !r.inRoom(c, nonce):
	case text == r.pendingTopic().Text:
		r.refuse(c, codeInvalid, "That is the topic already.", nonce)
	default:
		r.change(c, Event{Type: typeTopic, Text: text}, nonce)
	}
}

// pendingTopic is the topic once the batch is committed.
func (r *room) pendingTopic() Event {
	t := r.topic
	for _, e := range r.batch {
		if e.Type == typeTopic {
			t = e
		}
	}
	return t
}

// topicInfo is the topic for a welcome, nil when there is none.
func (r *room) topicInfo() *topicInfo {
	if r.topic.Text == "" {
		return nil
	}
	return &topicInfo{Text: r.topic.Text, User: r.topic.User, TS: r.topic.TS.UTC().Format(tsLayout)}
}

// Topic returns the room's newest topic event, if it has one. The
// partial index holds only topic rows, so a room that never had a topic
// costs one index probe, not a scan of its history.
func (s *SQLite) Topic(ctx context.Context, room string) (Event, bool, error) {
	evs, err := s.queryEvents(ctx, room, 1, `SELECT `+eventColumns+` FROM events INDEXED BY events_topic
		WHERE room = ? AND type = 'topic' ORDER BY id DESC LIMIT 1`, room)
	if err != nil || len(evs) == 0 {
		return Event{}, false, err
	}
	return evs[0], true, nil
}
