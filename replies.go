package main

// A room's answers to one socket alone: a duplicate for a message stored
// before, or an error for an op it refused. They are kept for the rest of
// the writer's turn and go out as one frame per socket when it ends.
// Written one frame each, a client that sent many frames at once (all it
// had not seen echoed, after a lost socket or a restart) got one frame
// per frame back in a single turn, faster than its write pump could
// drain them: its queue (SOCKET_QUEUE, 8 frames) filled and the socket
// was closed as too slow, although it read all the while. The socket's
// reader cannot pace these as it paces the refusals it makes itself
// (refusePause): it has queued the op and moved on before the room
// answers.

type reply struct {
	c    *client
	line []byte
}

// tell queues line for c, to go out when the turn ends.
func (r *room) tell(c *client, line []byte) {
	r.replies = append(r.replies, reply{c, line})
}

// refuse tells c that its op was not done, and why.
func (r *room) refuse(c *client, cd code, text, nonce string) {
	r.tell(c, errorFrame(cd, text, nonce))
}

// sendReplies writes each socket's answers of this turn as one frame, in
// the order they were made, after the turn's room frame if there was one.
// Turns are at most maxBatch ops, so gathering a socket's answers by
// scanning the rest of the list stays cheap.
func (r *room) sendReplies() {
	for i, rp := range r.replies {
		if rp.c == nil {
			continue // sent with an earlier one of its socket's
		}
		frame := rp.line
		for j := i + 1; j < len(r.replies); j++ {
			if r.replies[j].c == rp.c {
				frame = append(append(frame, '\n'), r.replies[j].line...)
				r.replies[j].c = nil
			}
		}
		rp.c.write(frame)
	}
	clear(r.replies)
	r.replies = r.replies[:0]
	if cap(r.replies) > maxBatch {
		r.replies = nil // a burst's array; most turns have no answers
	}
}

// errorFrame is an error event: code cd, text for the user, and the
// nonce of the frame it answers.
func errorFrame(cd code, text, nonce string) []byte {
	return encode(errorEvent{Type: typeError, Code: cd, Text: text, Nonce: nonce})
}
