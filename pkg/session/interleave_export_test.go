package session

// Internals the interleaving tests (interleave_test.go, package
// session_test) need to name what they inspect. Kept to the layout the
// package documents: the last-seen marker (seenKey) and the user index's
// keys (userIndex.keys).

// SeenKeyForTest returns the last-seen marker key of a session key.
func SeenKeyForTest(sessionKey string) string { return seenKey(sessionKey) }

// IndexKeysForTest returns userID's index keys under prefix: the sorted set
// of handles and the metadata hash.
func IndexKeysForTest(prefix, userID string) []string {
	return newUserIndex(nil, prefix, IPNone).keys(userID)
}

// ScriptNamesForTest names the scripts m and its index run, by SHA-1, for
// the steps an interleaving test prints.
func ScriptNamesForTest(m *RedisManager) map[string]string {
	return map[string]string{
		m.loader.Hash():     "load",
		casScript.Hash():    "cas",
		endScript.Hash():    "end",
		addScript.Hash():    "index-add",
		touchScript.Hash():  "index-touch",
		removeScript.Hash(): "index-remove",
	}
}
