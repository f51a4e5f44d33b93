package cluster

// Abandon stops the coordinator the way a crashed replica stops: no release,
// no more renewals; its leases end at their TTL.
func (c *Coordinator) Abandon() {
	c.mu.Lock()
	c.leases = map[*Lease]struct{}{}
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	_ = c.rdb.Close()
}
