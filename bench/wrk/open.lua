-- POST /v1/disputes: every request opens a new dispute with its own order
-- reference (BENCH-<thread>-<run>-<n>); the body is the example dispute of
-- the README, as a storefront sends it.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local n = 0
local run = os.getenv("BENCH_RUN") or "0"
local headers = {
   ["Authorization"] = bench.headers["Authorization"],
   ["Content-Type"] = "application/json",
}
local head = '{"order_ref":"BENCH-'
local tail = '","storefront":"bench-shop","buyer_ref":"cust-77",' ..
   '"currency":"USD","reason":"damaged","channel":"chat",' ..
   '"locale":"de-DE","description":"Arrived with a cracked base",' ..
   '"items":[{"sku":"LAMP-1","title":"Desk lamp","quantity":1,' ..
   '"unit_price":10000,"unit_cost":4000}],"shipping_paid":1500,' ..
   '"ship_cost":3000,"return_cost":2500}'

function request()
   n = n + 1
   return wrk.format("POST", "/v1/disputes", headers,
                     head .. (tid or 0) .. "-" .. run .. "-" .. n .. tail)
end
