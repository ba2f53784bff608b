package session

// Key is the Redis key of session id (RedisManager.key), for the external
// tests, which check what the store holds.
func (m *RedisManager) Key(id string) string { return m.key(id) }
