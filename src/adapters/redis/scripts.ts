/**
 * Lua scripts for versioned commands and reader leases. Each runs atomically on the node that
 * owns its one key and implements the same transitions as `src/core/versioned.ts` (envelope
 * format, version order, tombstone rank, lease floor and deadline). Versions stay strings and
 * are compared by length, then digit by digit: no precision is lost beyond 2^53.
 *
 * Lease deadlines use the server clock (`TIME`), so every reader and writer of a key agrees on
 * when a lease expired, whatever their own clocks say.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { ENVELOPE_MARK, ENVELOPE_SEPARATOR } from '../../core/versioned.js';

const byte = (text: string) => `\\${text.charCodeAt(0)}`;

/** Helpers shared by every script: decode an envelope, read its stamp, compare versions. */
const PRELUDE = `
local M, S = '${byte(ENVELOPE_MARK)}', '${byte(ENVELOPE_SEPARATOR)}'
local function canonical(v)
  return v == '0' or (#v <= 128 and string.find(v, '^[1-9]%d*$') ~= nil)
end
local function decode(s)
  if not s then return nil end
  if string.sub(s, 1, 1) ~= M or #s < 3 then return { k = 'plain' } end
  local kind = string.sub(s, 2, 2)
  local sep = string.find(s, S, 3, true)
  if not sep then return { k = 'plain' } end
  local ver = string.sub(s, 3, sep - 1)
  local rest = string.sub(s, sep + 1)
  if ver == '' then ver = nil elseif not canonical(ver) then return { k = 'plain' } end
  if kind == 'v' then return { k = 'value', v = ver } end
  if kind == 't' then
    if ver == nil or rest ~= '' then return { k = 'plain' } end
    return { k = 'tomb', v = ver }
  end
  if kind == 'l' then
    local sep2 = string.find(rest, S, 1, true)
    if not sep2 then return { k = 'plain' } end
    local ds = string.sub(rest, 1, sep2 - 1)
    local d = 0
    if ds ~= '' then d = tonumber(ds) end
    if d == nil or d ~= math.floor(d) or math.abs(d) > 9007199254740991 then return { k = 'plain' } end
    return { k = 'lease', v = ver, d = d, t = string.sub(rest, sep2 + 1) }
  end
  return { k = 'plain' }
end
local function cmp(a, b)
  if #a ~= #b then return #a - #b end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x - y end
  end
  return 0
end
local function newer(ver, rank, e)
  if not e then return true end
  local cv, cr
  if e.k == 'value' and e.v then cv, cr = e.v, 0
  elseif e.k == 'tomb' then cv, cr = e.v, 1
  elseif e.k == 'lease' and e.v then cv, cr = e.v, 1 end
  if cv == nil then return true end
  local o = cmp(ver, cv)
  return o > 0 or (o == 0 and rank > cr)
end
local function store(key, val, ttlms)
  if ttlms then
    redis.call('SET', key, val, 'PX', string.format('%d', ttlms))
  else
    redis.call('SET', key, val)
  end
end
`;

/** A script with its body and SHA1, as EVALSHA needs. */
export interface LuaScript {
  readonly name: string;
  readonly body: string;
  readonly sha: string;
}

function script(name: string, main: string): LuaScript {
  const body = `${PRELUDE}\n${main}`;
  return { name, body, sha: createHash('sha1').update(body).digest('hex') };
}

/**
 * KEYS[1]; ARGV: version, value, ttl ms ('' = none). Stores a value envelope if strictly newer
 * than what the key holds. Returns 1 (stored) or 0 (the key holds newer data: also a success).
 */
export const SET_VERSIONED = script(
  'set-versioned',
  `
if not newer(ARGV[1], 0, decode(redis.call('GET', KEYS[1]))) then return 0 end
local ttl = nil
if ARGV[3] ~= '' then ttl = tonumber(ARGV[3]) end
store(KEYS[1], M .. 'v' .. ARGV[1] .. S .. ARGV[2], ttl)
return 1
`,
);

/** KEYS[1]; ARGV: version, tombstone ttl ms. Stores a tombstone if strictly newer. 1 or 0. */
export const DELETE_VERSIONED = script(
  'delete-versioned',
  `
if not newer(ARGV[1], 1, decode(redis.call('GET', KEYS[1]))) then return 0 end
store(KEYS[1], M .. 't' .. ARGV[1] .. S, tonumber(ARGV[2]))
return 1
`,
);

/**
 * KEYS[1]; ARGV: token, lease ttl ms. Grants a lease on an absent key, a tombstone (its version
 * becomes the floor, its longer TTL is kept) or an expired lease. Returns `{1}` when granted,
 * else `{0, stored}`.
 */
export const LEASE = script(
  'lease',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = redis.call('GET', KEYS[1])
local e = decode(cur)
local floor = nil
if not e then floor = nil
elseif e.k == 'tomb' then floor = e.v
elseif e.k == 'lease' and e.d <= now then floor = e.v
else return { 0, cur } end
local ttl = tonumber(ARGV[2])
local keyttl = ttl
if e then
  local rem = redis.call('PTTL', KEYS[1])
  if rem > keyttl then keyttl = rem end
end
store(KEYS[1], M .. 'l' .. (floor or '') .. S .. string.format('%d', now + ttl) .. S .. ARGV[1], keyttl)
return { 1 }
`,
);

/**
 * KEYS[1]; ARGV: token, mode ('f' fill, 'r' release), value, ttl ms ('' = none), loaded version
 * ('' = unknown). Only the holder of the lease changes the key: a fill stores a value at the
 * larger of floor and loaded version; a release restores the floor's tombstone (with the key's
 * remaining TTL) or removes the key. Returns 1 (done) or 0 (lease voided or taken over).
 */
export const FILL = script(
  'fill',
  `
local e = decode(redis.call('GET', KEYS[1]))
if not e or e.k ~= 'lease' or e.t ~= ARGV[1] then return 0 end
if ARGV[2] == 'r' then
  if not e.v then
    redis.call('DEL', KEYS[1])
    return 1
  end
  local rem = redis.call('PTTL', KEYS[1])
  local ttl = nil
  if rem >= 0 then ttl = math.max(rem, 1) end
  store(KEYS[1], M .. 't' .. e.v .. S, ttl)
  return 1
end
local v = e.v
if ARGV[5] ~= '' and (v == nil or cmp(ARGV[5], v) > 0) then v = ARGV[5] end
local ttl = nil
if ARGV[4] ~= '' then ttl = tonumber(ARGV[4]) end
store(KEYS[1], M .. 'v' .. (v or '') .. S .. ARGV[3], ttl)
return 1
`,
);
