-- Shared by the wrk scripts of `make bench` (loaded with dofile from
-- BENCH_LUA_DIR). Reads the settings the run script passes in the
-- environment and prints one RESULT line that bench/run.sh parses.
-- It must never hide an error: every failed request (connect, read,
-- write, timeout, or an answer of 400 or above) is counted.

bench = {}

bench.key = os.getenv("BENCH_KEY") or ""
bench.headers = { ["Authorization"] = "Bearer " .. bench.key }

-- The dispute ids of a file, one a line; with `threads` and `index`, only
-- every threads-th one from index (each wrk thread its own share).
function bench.read_ids(path, threads, index)
   local ids, n = {}, 0
   for line in io.lines(path) do
      if line ~= "" then
         if not threads or n % threads == index then
            ids[#ids + 1] = line
         end
         n = n + 1
      end
   end
   return ids
end

-- wrk numbers its threads through setup(); each gets "tid".
local thread_count = 0
function setup(thread)
   thread:set("tid", thread_count)
   thread_count = thread_count + 1
end

function done(summary, latency, requests)
   local e = summary.errors
   local failed = e.connect + e.read + e.write + e.status + e.timeout
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d errors=%d " ..
      "status_errors=%d socket_errors=%d\n",
      summary.requests / seconds, latency:percentile(50) / 1000,
      latency:percentile(99) / 1000, summary.requests, failed, e.status,
      e.connect + e.read + e.write + e.timeout))
end
