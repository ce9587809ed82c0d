-- GET /v1/disputes/{id} for ids drawn at random from BENCH_IDS, so that
-- the reads spread over the whole store.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local ids

function init(args)
   ids = bench.read_ids(os.getenv("BENCH_IDS"))
   math.randomseed(1234 + (tid or 0))
end

function request()
   return wrk.format("GET", "/v1/disputes/" .. ids[math.random(#ids)],
                     bench.headers)
end
