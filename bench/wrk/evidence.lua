-- POST /v1/disputes/{id}/evidence?kind=photo: a 1 MiB photo (a JPEG
-- header, then pseudo-random bytes that do not compress, as a real photo's
-- do not), each upload made unique by a counter written into it so that
-- git has to store every one, spread round-robin over the BENCH_IDS
-- disputes.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local SIZE = tonumber(os.getenv("BENCH_EVIDENCE_SIZE") or "1048576")
local ids
local n = 0
local head, tail
local headers = {
   ["Authorization"] = bench.headers["Authorization"],
   ["Content-Type"] = "application/octet-stream",
}

function init(args)
   ids = bench.read_ids(os.getenv("BENCH_IDS"))
   math.randomseed(4321 + (tid or 0))
   -- JPEG SOI + JFIF APP0 segment, then noise
   local jfif = "\255\216\255\224\0\16JFIF\0\1\1\0\0\1\0\1\0\0"
   local parts, have = { jfif }, #jfif
   while have < SIZE do
      local chunk = {}
      for i = 1, 256 do
         chunk[i] = string.char(math.random(0, 255))
      end
      chunk = table.concat(chunk)
      parts[#parts + 1] = chunk
      have = have + #chunk
   end
   local body = table.concat(parts):sub(1, SIZE)
   head = body:sub(1, 4096)
   tail = body:sub(4096 + 17)
end

function request()
   n = n + 1
   local mark = string.format("%04d%012d", tid or 0, n)
   local id = ids[(n % #ids) + 1]
   return wrk.format("POST", "/v1/disputes/" .. id ..
                     "/evidence?kind=photo&captured_at=2026-03-01T08:00:00Z",
                     headers, head .. mark .. tail)
end
