package main

// A client that did not see its message come back (a lost socket, a
// reload, a tab the browser duplicated) sends it again with the same
// nonce, and the room answers that copy with duplicate instead of storing
// it twice.
//
// The room remembers the nonces of its newest messages (nonceMemory of
// them) and of those in the batch being built. That recognises copies
// sent soon after the first, with no store read. Older copies need the
// client to say how far back to look: a message may carry after, the
// newest id its sender had seen when it first sent it, and the room reads
// the stored messages between after and what it remembers (at most
// nonceScan of them). A resend after a resume usually needs no read
// either: its after is at most a replay (maxReplay events) back.
//
// Why not a unique index on (room, user, nonce) in the store: measured
// with random nonces as the web client makes them, it cost each commit of
// one message 5.5 µs more (12 → 17.7) and a batch of 256 eight times as
// much per event (3.6 → 29 µs), since every insert lands on another page
// of the index. The memory here costs a map lookup per message.

import (
	"context"
	"hash/maphash"
)

const (
	// nonceMemory is how many of its newest messages with a nonce a room
	// remembers: more than a replay (maxReplay events). About 26 KB (map
	// and ring) for a room with traffic, nothing for one without.
	nonceMemory = 512
	// nonceScan bounds the store read for a copy older than the room
	// remembers: about 1 ms on the room's writer here, and only a message
	// whose after is older than what the room remembers pays it (a
	// client that sends one anyway is paced by MSG_RATE like any other).
	// A client that says after further back is checked among the newest
	// this many.
	nonceScan = 10000
)

// nonces is a room's memory of recent nonces. Keys are hashes of user and
// nonce under a seed of the hub's, so a client cannot aim for collisions;
// a chance one (one in 2^64 per remembered message) would answer a new
// message as a copy.
type nonces struct {
	seed  maphash.Seed
	ids   map[uint64]int64 // key -> stored id; -(i+1) for batch[i], not yet committed
	ring  []nonceEntry     // the remembered ones in id order, oldest at next
	next  int
	floor int64 // ids up to floor may be forgotten: older copies need a store read
	// batch holds the keys of the batch's messages with their index in
	// it, until its commit holds or fails.
	batch []batchNonce
}

type batchNonce struct {
	key uint64
	i   int
}

type nonceEntry struct {
	key uint64
	id  int64
}

func (n *nonces) key(user, nonce string) uint64 {
	var h maphash.Hash
	h.SetSeed(n.seed)
	h.WriteString(user)
	h.WriteByte(0)
	h.WriteString(nonce)
	return h.Sum64()
}

// pending notes that batch[i] carries nonce k.
func (n *nonces) pending(k uint64, i int) {
	if n.ids == nil {
		n.ids = map[uint64]int64{}
	}
	n.ids[k] = -int64(i) - 1
	n.batch = append(n.batch, batchNonce{k, i})
}

// committed remembers the batch's nonces as stored with the ids batch
// holds now.
func (n *nonces) committed(batch []Event) {
	for _, p := range n.batch {
		n.remember(p.key, batch[p.i].ID)
	}
	n.batch = n.batch[:0]
}

// failed forgets the batch's nonces: nothing of it was stored.
func (n *nonces) failed() {
	for _, p := range n.batch {
		delete(n.ids, p.key)
	}
	n.batch = n.batch[:0]
}

// remember notes k as stored with id, forgetting the oldest once
// nonceMemory are remembered.
func (n *nonces) remember(k uint64, id int64) {
	n.ids[k] = id
	if len(n.ring) < nonceMemory {
		n.ring = append(n.ring, nonceEntry{k, id})
		return
	}
	old := n.ring[n.next]
	delete(n.ids, old.key)
	n.floor = old.id
	n.ring[n.next] = nonceEntry{k, id}
	n.next = (n.next + 1) % nonceMemory
}

// findCopy looks for a message of user's with nonce: stored (id > 0), in
// the batch being built (id -(i+1) for batch[i]), or none (0). after < 0:
// the sender did not say how far back to look. The error is the store's.
func (r *room) findCopy(user, nonce string, after int64) (k uint64, id int64, err error) {
	k = r.nonces.key(user, nonce)
	if id, ok := r.nonces.ids[k]; ok {
		return k, id, nil
	}
	if after < 0 || after >= r.nonces.floor {
		return k, 0, nil
	}
	// No deadline, as for commits: the driver would start a goroutine
	// to watch it.
	id, err = r.hub.store.FindNonce(context.Background(), r.name, user, nonce, max(after, r.nonces.floor-nonceScan), r.nonces.floor)
	return k, id, err
}
