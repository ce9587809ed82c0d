-- POST /v1/disputes/{id}/messages: each dispute takes an inbound message
-- (the buyer's, which starts its reply clock) and an outbound one (the
-- answer, which stops it) in turn; a message is valid in any state, so a
-- dispute takes any number of them. BENCH_IDS holds one dispute a line.
-- As in events.lua, each wrk thread owns its share of the disputes and a
-- dispute is sent again only once the answer to its last message came
-- back, so that its messages are recorded in the order they were sent.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local ready, first, last = {}, 1, 0
local next_direction = {}
local headers = {
   ["Authorization"] = bench.headers["Authorization"],
   ["Content-Type"] = "application/json",
}
local bodies = {
   inbound = '{"direction":"inbound","channel":"chat",' ..
      '"body":"The parcel arrived, but the lamp base is cracked. ' ..
      'What can you do?"}',
   outbound = '{"direction":"outbound","channel":"chat",' ..
      '"body":"Sorry to hear that! Could you send us a photo of ' ..
      'the base?"}',
}

local function push(id)
   last = last + 1
   ready[last] = id
end

function init(args)
   local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
   for _, line in ipairs(bench.read_ids(os.getenv("BENCH_IDS"), threads,
                                        tid or 0)) do
      local id = line:match("^(%S+)")
      next_direction[id] = "inbound"
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
      -- no dispute free: only when answers were lost to errors
      id = next(next_direction)
   end
   return wrk.format("POST", "/v1/disputes/" .. id .. "/messages", headers,
                     bodies[next_direction[id]])
end

function response(status, headers, body)
   if status ~= 201 then
      return
   end
   local id = body:match('"dispute_id":"([0-9A-Z]+)"')
   local direction = body:match('"direction":"([a-z]+)"')
   if id and next_direction[id] then
      next_direction[id] = (direction == "inbound") and "outbound"
         or "inbound"
      push(id)
   end
end
