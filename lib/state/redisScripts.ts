/**
 * The Redis store's operations as Lua scripts: each reads, decides and writes inside Redis in
 * one command, atomic against every other client, with no WATCH and no retry. Commands from
 * one process then share one connection concurrently (pipelined) instead of waiting their turn.
 *
 * The breaker scripts are breakerRules.ts written in Lua: test/state/stores.test.ts holds both
 * stores to the same cases, and test/state/redisStore.test.ts the scripts to the same answers
 * as breakerRules.ts over random sequences of calls.
 * Rows stay the JSON the TypeScript rules read (openCircuits, older versions' rows).
 */

/** Shared by the breaker scripts: a stored row with defaults (rowOf) and its writer. */
const BREAKER_ROW = `
local function closed()
	return { state = 'closed', failures = 0, open_until = 0, probe_until = 0,
		window_start = 0, window_calls = 0, window_failures = 0 }
end
local function load(key)
	local raw = redis.call('GET', key)
	if not raw then return nil end
	local stored = cjson.decode(raw)
	local row = closed()
	for field, value in pairs(stored) do
		if row[field] ~= nil and value ~= cjson.null then row[field] = value end
	end
	return row
end
local function save(key, row)
	redis.call('SET', key, cjson.encode(row))
end
`;

/** KEYS[1] breaker row; ARGV: now, probeLeaseMs, firstCallLeaseMs. Returns the admission. */
export const ADMIT = `${BREAKER_ROW}
local now, probeLeaseMs, firstCallLeaseMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local row = load(KEYS[1])
if not row then
	row = closed()
	row.probe_until = now + firstCallLeaseMs
	save(KEYS[1], row)
	return 'probe'
end
if row.state == 'closed' then
	if now < row.probe_until then return 'wait' end
	return 'allow'
end
if row.state == 'open' and now < row.open_until then return 'open' end
if row.state == 'half_open' and now < row.probe_until then return 'wait' end
row.state = 'half_open'
row.probe_until = now + probeLeaseMs
save(KEYS[1], row)
return 'probe'
`;

/**
 * KEYS[1] breaker row; ARGV: outcome, now, failureThreshold, openMs, longOpenMs, failureRate,
 * rateWindowMs, rateMinCalls.
 */
export const RECORD = `${BREAKER_ROW}
local outcome, now = ARGV[1], tonumber(ARGV[2])
local threshold, openMs, longOpenMs = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local failureRate, rateWindowMs, rateMinCalls = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local row = load(KEYS[1]) or closed()
local function count(failed)
	if now - row.window_start >= rateWindowMs then
		row.window_start, row.window_calls, row.window_failures = now, 0, 0
	end
	row.window_calls = row.window_calls + 1
	if failed then row.window_failures = row.window_failures + 1 end
end
if outcome == 'released' then
	if row.state == 'half_open' then
		row.state, row.open_until = 'open', now
	end
	row.probe_until = 0
elseif outcome == 'success' then
	if row.state == 'closed' then
		row.failures, row.probe_until = 0, 0
		count(false)
	else
		row = closed()
	end
elseif outcome == 'hard' then
	local failures = row.failures + 1
	row = closed()
	row.state, row.failures, row.open_until = 'open', failures, now + longOpenMs
else
	local failures = row.failures + 1
	local wasHalfOpen = row.state == 'half_open'
	count(true)
	local rateTripped = failureRate > 0 and row.window_calls >= rateMinCalls
		and row.window_failures / row.window_calls >= failureRate
	if wasHalfOpen or failures >= threshold or rateTripped then
		row = closed()
		row.state, row.failures, row.open_until = 'open', failures, now + openMs
	else
		row.failures, row.probe_until = failures, 0
	end
end
save(KEYS[1], row)
return 1
`;

/** Shared by the idempotency scripts: the record, if any, and its writer. */
const IDEM_ROW = `
local function load(key)
	local raw = redis.call('GET', key)
	if raw then return cjson.decode(raw) end
	return nil
end
local function lease(key, owner, now, leaseMs)
	-- The record outlives its lease, so that a claim can tell a lapsed lease from no record.
	redis.call('SET', key, cjson.encode({ status = 'processing', owner = owner,
		leaseUntil = now + leaseMs, expiresAt = 0 }), 'PX', leaseMs * 2)
end
`;

/** KEYS[1] record; ARGV: owner, leaseMs, now. Returns {'claimed'}, {'done', result} or {'busy', leaseUntil}. */
export const CLAIM = `${IDEM_ROW}
local owner, leaseMs, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local row = load(KEYS[1])
if row then
	if row.status == 'done' and row.expiresAt > now and type(row.result) == 'string' then
		return { 'done', row.result }
	end
	if row.status == 'processing' and row.leaseUntil > now and row.owner ~= owner then
		return { 'busy', row.leaseUntil }
	end
end
lease(KEYS[1], owner, now, leaseMs)
return { 'claimed' }
`;

/**
 * KEYS[1] record; ARGV: owner, leaseMs, now. Extends the owner's lease; 0 once the key is
 * another's or done. A record that is gone (expired) is nobody's: the owner takes it.
 */
export const RENEW = `${IDEM_ROW}
local owner, leaseMs, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local row = load(KEYS[1])
if row and row.status == 'done' and row.expiresAt > now then return 0 end
if row and row.status == 'processing' and row.owner ~= owner then return 0 end
lease(KEYS[1], owner, now, leaseMs)
return 1
`;

/**
 * KEYS[1] record; ARGV: owner, result, ttlMs, now. Stores the answer unless one is stored
 * already: an owner whose lease lapsed while it worked still stores its paid-for answer.
 * Returns 1 when this answer was stored.
 */
export const COMPLETE = `${IDEM_ROW}
local owner, result, ttlMs, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local row = load(KEYS[1])
if row and row.status == 'done' and row.expiresAt > now then return 0 end
redis.call('SET', KEYS[1], cjson.encode({ status = 'done', owner = owner, leaseUntil = 0,
	result = result, expiresAt = now + ttlMs }), 'PX', ttlMs)
return 1
`;

/** KEYS[1] record; ARGV: owner. Deletes the owner's unfinished claim. */
export const RELEASE = `${IDEM_ROW}
local row = load(KEYS[1])
if row and row.status == 'processing' and row.owner == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * KEYS[1] the workflow names hash, KEYS[2] this write's marker, then per count its minute's
 * hash, its minute's set of workflows and its minute's hash of cost per model. ARGV[1] the
 * counts as JSON, ARGV[2] how long counters and the marker live (seconds).
 *
 * All or nothing: every key's type is checked before the first write (Redis does not undo a
 * script's writes when a later command fails), and a write whose marker exists was applied
 * already, so sending it again (its reply was lost) adds nothing.
 */
export const ADD_COUNTS = `
local counts, ttl = cjson.decode(ARGV[1]), tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local function expect(key, kind)
	local t = redis.call('TYPE', key)['ok']
	if t ~= 'none' and t ~= kind then
		return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. t .. ', not a ' .. kind)
	end
end
local problem = expect(KEYS[1], 'hash')
for i = 1, #counts do
	problem = problem or expect(KEYS[3 * i], 'hash') or expect(KEYS[3 * i + 1], 'set')
		or expect(KEYS[3 * i + 2], 'hash')
end
if problem then return problem end
for i, c in ipairs(counts) do
	local hash, minute, models = KEYS[3 * i], KEYS[3 * i + 1], KEYS[3 * i + 2]
	redis.call('HINCRBY', hash, 'tasks', c.tasks)
	redis.call('HINCRBY', hash, 'cost_micros', c.costMicros)
	for tier, n in ipairs(c.answeredByTier) do
		if n ~= 0 then redis.call('HINCRBY', hash, 't' .. tier, n) end
	end
	if c.escalated ~= 0 then redis.call('HINCRBY', hash, 'escalated', c.escalated) end
	if type(c.workflowName) == 'string' then redis.call('HSET', KEYS[1], c.workflowId, c.workflowName) end
	if type(c.costByModel) == 'table' then
		for model, micros in pairs(c.costByModel) do
			redis.call('HINCRBY', models, model, micros)
			redis.call('EXPIRE', models, ttl)
		end
	end
	redis.call('EXPIRE', hash, ttl)
	redis.call('SADD', minute, c.workflowId)
	redis.call('EXPIRE', minute, ttl)
end
redis.call('SET', KEYS[2], 1, 'EX', ttl)
return 1
`;
