-- GET /healthz, the cheapest request: what a load balancer's probe or
-- another tenant's small request waits while slow work runs.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function request()
   return wrk.format("GET", "/healthz")
end
