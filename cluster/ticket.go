package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxHomeLength bounds the replica address SetTicketHome stores.
const MaxHomeLength = 256

// ErrNoTicket: no replica announced the ticket (unknown, or its TTL passed).
var ErrNoTicket = errors.New("cluster: no such ticket")

// ticketKey names the home of a one-time transfer ticket by the SHA-256 of
// its id: Redis never holds a usable ticket (nor anything the ticket
// carries, such as a password), only which replica holds it.
func (c *Coordinator) ticketKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return c.opts.KeyPrefix + "ticket:" + hex.EncodeToString(sum[:])
}

// SetTicketHome announces that the replica at home (its address for the
// other replicas, host:port) holds the ticket id until ttl passes, so a
// transfer request landing on another replica can be passed to it.
func (c *Coordinator) SetTicketHome(ctx context.Context, id, home string, ttl time.Duration) error {
	if id == "" || len(id) > MaxKeyLength || home == "" || len(home) > MaxHomeLength || ttl <= 0 {
		return fmt.Errorf("%w: ticket id %d bytes, home %d bytes, ttl %v", ErrBadArgument, len(id), len(home), ttl)
	}
	octx, cancel := c.opCtx(ctx)
	defer cancel()
	return c.observe(c.rdb.Set(octx, c.ticketKey(id), home, ttl).Err())
}

// TicketHome returns the address of the replica holding ticket id;
// ErrNoTicket when none announced it, ErrUnavailable when Redis is away.
func (c *Coordinator) TicketHome(ctx context.Context, id string) (string, error) {
	if id == "" || len(id) > MaxKeyLength {
		return "", fmt.Errorf("%w: ticket id %d bytes", ErrBadArgument, len(id))
	}
	octx, cancel := c.opCtx(ctx)
	defer cancel()
	home, err := c.rdb.Get(octx, c.ticketKey(id)).Result()
	if errors.Is(err, redis.Nil) {
		_ = c.observe(nil)
		return "", ErrNoTicket
	}
	if err = c.observe(err); err != nil {
		return "", err
	}
	return home, nil
}
