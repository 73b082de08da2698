/**
 * The spend budget's rules (budgetRules.ts) in Lua, for the Redis store: a reservation reads
 * the row, decides and writes in one command, so two workers racing at the cap never both
 * get a reservation that together exceeds it. test/state/budgetRules.test.ts holds these
 * scripts to the same answers as the TypeScript over random sequences of calls. The row is
 * the JSON the TypeScript reads (snapshots); amounts arrive as whole micro-dollars.
 *
 * KEYS[2] is the budget's registry entry (budgetRegistry.ts), merged as entryAfter merges it
 * when the call brings its label (ARGV's last, JSON; empty: none), in the same script.
 */

const BUDGET_ROW = `
local function load(key)
	local raw = redis.call('GET', key)
	local row = { spentMicros = 0, holds = {} }
	if not raw then return row end
	local stored = cjson.decode(raw)
	row.spentMicros = tonumber(stored.spentMicros) or 0
	if type(stored.holds) == 'table' then row.holds = stored.holds end
	return row
end
local function save(key, row, ttlMs)
	-- cjson writes an empty table as an object: the holds stay a map.
	redis.call('SET', key, cjson.encode(row), 'PX', ttlMs)
end
local function register(key, label, limitMicros, turnedAway, ttlMs)
	if label == '' then return end
	local entry = cjson.decode(label)
	local raw = redis.call('GET', key)
	local was = raw and cjson.decode(raw) or {}
	entry.limitMicros = limitMicros
	entry.turnedAway = turnedAway or (was.turnedAway == true and tonumber(was.limitMicros) == limitMicros)
	redis.call('SET', key, cjson.encode(entry), 'PX', ttlMs)
end
local function liveHeld(row, now)
	local held = 0
	for id, hold in pairs(row.holds) do
		if hold[2] <= now then row.holds[id] = nil else held = held + hold[1] end
	end
	return held
end
`;

/**
 * KEYS[1] budget row, KEYS[2] its registry entry; ARGV: now, id, micros, capMicros, leaseMs,
 * ttlMs, label. A refused call marks the entry turned away.
 * Returns { 1 reserved or 0 refused, spentMicros, heldMicros } as they stand after it.
 */
export const RESERVE_BUDGET = `${BUDGET_ROW}
local now, id, micros = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local capMicros, leaseMs, ttlMs = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local label = ARGV[7] or ''
local row = load(KEYS[1])
local held = liveHeld(row, now)
local reserved = 1
if micros > 0 then
	if row.spentMicros + held + micros > capMicros then
		reserved = 0
	else
		row.holds[id] = { micros, now + leaseMs }
		held = held + micros
	end
end
save(KEYS[1], row, ttlMs)
if reserved == 0 then register(KEYS[2], label, capMicros, true, ttlMs) end
return { reserved, row.spentMicros, held }
`;

/**
 * KEYS[1] budget row, KEYS[2] its registry entry; ARGV: now, id, actualMicros, ttlMs,
 * capMicros, label.
 * Returns { spentMicros, heldMicros } as they stand after it.
 */
export const SETTLE_BUDGET = `${BUDGET_ROW}
local now, id, actualMicros, ttlMs = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local row = load(KEYS[1])
liveHeld(row, now)
row.holds[id] = nil
row.spentMicros = row.spentMicros + actualMicros
save(KEYS[1], row, ttlMs)
register(KEYS[2], ARGV[6] or '', tonumber(ARGV[5]) or 0, false, ttlMs)
return { row.spentMicros, liveHeld(row, now) }
`;
