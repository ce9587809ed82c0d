-- POST /v1/disputes/{id}/events that are always valid: each dispute
-- alternates escalate (opened or investigating -> escalated) and resume
-- (escalated -> investigating), both allowed to an admin key, so a dispute
-- can take any number of them. BENCH_IDS holds one dispute a line, the
-- id alone (a dispute that takes escalate first) or the id and the event
-- its state allows now ("ID resume": bench/run.sh reuses disputes so).
-- Each wrk thread owns its share of the BENCH_IDS disputes, and a dispute is never sent again before the answer
-- to its last event came back: the answer names the dispute and its new
-- state, which picks its next event. The share must be larger than the
-- connections per thread (bench/run.sh sees to it) so that a dispute is
-- always free.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local ready, first, last = {}, 1, 0
local next_event = {}
local headers = {
   ["Authorization"] = bench.headers["Authorization"],
   ["Content-Type"] = "application/json",
}

local function push(id)
   last = last + 1
   ready[last] = id
end

function init(args)
   local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
   for _, line in ipairs(bench.read_ids(os.getenv("BENCH_IDS"), threads,
                                        tid or 0)) do
      local id, event = line:match("^(%S+)%s*(%S*)")
      next_event[id] = (event ~= "") and event or "escalate"
      push(id)
   end
end

function request()
   local id
   if first <= last then
      id = ready[first]
      ready[first] = nil
      first = first + 1
   else
      -- no dispute free: only when answers were lost to errors; the
      -- event will fail and be counted
      id = next(next_event)
   end
   return wrk.format("POST", "/v1/disputes/" .. id .. "/events", headers,
                     '{"event":"' .. next_event[id] .. '"}')
end

function response(status, headers, body)
   if status ~= 200 then
      return
   end
   local id = body:match('"id":"([0-9A-Z]+)"')
   local state = body:match('"state":"([a-z_]+)"')
   if id and next_event[id] then
      next_event[id] = (state == "escalated") and "resume" or "escalate"
      push(id)
   end
end
