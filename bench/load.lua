-- wrk's script for bench/api_load.py: order creation or balance reads against `relos serve`.
--
-- Read from the environment (set by bench/api_load.py): BENCH_TOKEN (a bearer token of IND's
-- ordering officer, scopes read and write), BENCH_SCENARIO ("writes" or "reads"), BENCH_ORDER
-- (the order each write drafts, JSON) and BENCH_RUN (a name unique to the run, so that no two
-- runs send the same Idempotency-Key). Each write is a new order drafted with its own
-- Idempotency-Key, as a client would send it. A response with any other status than the one
-- the request should get (201 for a write, 200 for a read) is a failure; wrk's own summary and
-- the failures are printed by done() as lines "bench <name> <value>" for the harness to read.

local token = os.getenv("BENCH_TOKEN") or ""
local scenario = os.getenv("BENCH_SCENARIO") or "writes"
local order = os.getenv("BENCH_ORDER") or "{}"
local run = os.getenv("BENCH_RUN") or tostring(os.time())

local threads = {}
local made = 0

function setup(thread)
   made = made + 1
   thread:set("id", made)
   table.insert(threads, thread)
end

function init(args)
   sent = 0
   failures = 0
   first_failure = ""
   expected = scenario == "writes" and 201 or 200
end

function request()
   if scenario == "writes" then
      sent = sent + 1
      return wrk.format("POST", "/orders", {
         ["Authorization"] = "Bearer " .. token,
         ["Content-Type"] = "application/json",
         ["Idempotency-Key"] = run .. "-" .. id .. "-" .. sent,
      }, order)
   end
   return wrk.format("GET", "/ledger/balances", { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
   if status ~= expected then
      failures = failures + 1
      if first_failure == "" then
         first_failure = status .. ": " .. string.sub(body or "", 1, 200):gsub("[\r\n]", " ")
      end
   end
end

function done(summary, latency, requests)
   local failed = 0
   local first = ""
   for _, thread in ipairs(threads) do
      failed = failed + thread:get("failures")
      if first == "" then
         first = thread:get("first_failure")
      end
   end
   local errors = summary.errors
   io.write(string.format("bench requests %d\n", summary.requests))
   io.write(string.format("bench microseconds %d\n", summary.duration))
   io.write(string.format("bench p50_us %d\n", latency:percentile(50)))
   io.write(string.format("bench p99_us %d\n", latency:percentile(99)))
   io.write(string.format("bench failures %d\n", failed))
   io.write(string.format(
      "bench socket_errors %d\n",
      errors.connect + errors.read + errors.write + errors.timeout
   ))
   io.write("bench first_failure " .. first .. "\n")
end
