/**
 * The rate pacer's rules (pacingRules.ts) in Lua, for the Redis store: each operation reads,
 * decides and writes in one command, atomic across workers. test/state/pacingRules.test.ts
 * holds these scripts to the same answers as the TypeScript over random sequences of calls.
 * The row is the JSON the TypeScript reads (snapshots).
 */
import { COLD_HOLD_MS, MAX_PACE_WAIT_MS, WINDOW_LIFTED_AT, WINDOW_POLL_MS } from './pacingRules';

/** A row unused this long is dropped: the next call starts from what its answer says. */
export const PACE_ROW_TTL_MS = 3_600_000;

const PACE_ROW = `
local function load(key)
	local raw = redis.call('GET', key)
	local row = { window = 0, holdUntil = 0, coldUntil = 0, inFlight = {} }
	if not raw then
		row.fresh = true
		return row
	end
	local stored = cjson.decode(raw)
	if type(stored.requests) == 'table' then row.requests = stored.requests end
	if type(stored.tokens) == 'table' then row.tokens = stored.tokens end
	row.window = tonumber(stored.window) or 0
	row.holdUntil = tonumber(stored.holdUntil) or 0
	row.coldUntil = tonumber(stored.coldUntil) or 0
	if type(stored.inFlight) == 'table' then row.inFlight = stored.inFlight end
	return row
end
local function save(key, row)
	local out = { window = row.window, holdUntil = row.holdUntil, coldUntil = row.coldUntil,
		inFlight = row.inFlight }
	if row.requests then out.requests = row.requests end
	if row.tokens then out.tokens = row.tokens end
	local encoded = cjson.encode(out)
	-- cjson writes an empty table as an object: the in-flight map stays a map.
	redis.call('SET', key, encoded, 'PX', ${PACE_ROW_TTL_MS})
end
local function rounded(value, places)
	return math.floor(value * places + 0.5) / places
end
local function refill(bucket, now)
	bucket.level = rounded(
		math.min(bucket.cap, bucket.level + math.max(0, now - bucket.at) * bucket.perMs), 1e6)
	bucket.at = now
end
local function waitFor(missing, perMs)
	return math.min(${MAX_PACE_WAIT_MS}, math.max(1, math.ceil(missing / perMs)))
end
local function prune(row, now)
	local count = 0
	for id, untilMs in pairs(row.inFlight) do
		if untilMs <= now then row.inFlight[id] = nil else count = count + 1 end
	end
	return count
end
`;

/** KEYS[1] pace row; ARGV: now, id, tokens, leaseMs. Returns 0 (go) or the ms to wait. */
export const ACQUIRE_PACE = `${PACE_ROW}
local now, id, tokens, leaseMs = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local row = load(KEYS[1])
local inFlight = prune(row, now)
local function result(wait)
	save(KEYS[1], row)
	return wait
end
if row.fresh then
	row.coldUntil = now + ${COLD_HOLD_MS}
elseif row.coldUntil > now and inFlight > 0 then
	return result(${WINDOW_POLL_MS})
end
if row.holdUntil > now then return result(math.ceil(row.holdUntil - now)) end
if row.window > 0 and inFlight >= row.window then return result(${WINDOW_POLL_MS}) end
local requests, tokenBucket = row.requests, row.tokens
if requests then
	refill(requests, now)
	if requests.level < 1 then return result(waitFor(1 - requests.level, requests.perMs)) end
end
if tokenBucket then
	refill(tokenBucket, now)
	local need = math.min(tokens, tokenBucket.cap)
	if tokenBucket.level < need then return result(waitFor(need - tokenBucket.level, tokenBucket.perMs)) end
end
if requests then requests.level = requests.level - 1 end
if tokenBucket then tokenBucket.level = tokenBucket.level - tokens end
row.inFlight[id] = now + leaseMs
return result(0)
`;

/**
 * KEYS[1] pace row; ARGV: now, id, result, then for requests and for tokens: limit,
 * remaining, resetMs ('' when the answer said nothing), then retryAfterMs ('' for none).
 */
export const SETTLE_PACE = `${PACE_ROW}
local now, id, outcome = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local row = load(KEYS[1])
local inFlight = prune(row, now)
row.inFlight[id] = nil
row.coldUntil = 0
local function readBucket(bucket, limit, remaining, resetMs)
	local perMs
	if limit and limit > 0 then perMs = limit / 60000
	elseif resetMs > 0 then perMs = math.max(1, remaining) / resetMs
	elseif bucket then perMs = bucket.perMs
	else perMs = 0 end
	perMs = rounded(perMs, 1e9)
	-- Headers that say what is left but not how fast it refills cannot pace anything.
	if not (perMs > 0) then return bucket end
	if not bucket then return { level = remaining, cap = remaining + 1, perMs = perMs, at = now } end
	refill(bucket, now)
	return { level = math.min(bucket.level, remaining), cap = math.max(bucket.cap, remaining + 1),
		perMs = perMs, at = now }
end
local function learn(field, first)
	local remaining = tonumber(ARGV[first + 1])
	if not remaining then return end
	local limit = tonumber(ARGV[first])
	if limit and limit <= 0 then return end
	row[field] = readBucket(row[field], limit, remaining, tonumber(ARGV[first + 2]) or 0)
end
learn('requests', 4)
learn('tokens', 7)
if outcome == 'limited' then
	-- With headers the buckets pace the calls; the window is for providers that send none.
	if ARGV[5] == '' and ARGV[8] == '' then
		local current = inFlight
		if row.window > 0 then current = row.window end
		row.window = math.max(1, math.floor(current / 2))
	end
	local retryAfterMs = tonumber(ARGV[10])
	if retryAfterMs and retryAfterMs > 0 then
		row.holdUntil = math.max(row.holdUntil, now + retryAfterMs)
	end
elseif outcome == 'answered' and row.window > 0 then
	if row.window + 1 >= ${WINDOW_LIFTED_AT} then row.window = 0 else row.window = row.window + 1 end
end
save(KEYS[1], row)
return 1
`;
