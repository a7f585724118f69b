-- wrk script: POST / heartbeats from HOSTS distinct hosts (default 1000), each with its own IP.
-- Usage: HOSTS=100000 THREADS=2 wrk -t2 -c64 -d10s -s bench/heartbeats.lua http://127.0.0.1:7777
-- The threads take turns through the hosts (thread i sends hosts START+i, START+i+THREADS, …), so a run
-- of HOSTS requests reaches every host once; START shifts where a run begins; INTERVAL is the declared interval (60).
-- NEXT_START names a file the run writes where the next one may START without leaving a host out (see done).
local hosts = tonumber(os.getenv("HOSTS") or "1000")
local interval = tonumber(os.getenv("INTERVAL") or "60")
local start = tonumber(os.getenv("START") or "0")
local stride = tonumber(os.getenv("THREADS") or "1")
local next_index = 0
local threads = {}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function setup(thread)
  thread:set("index", next_index)
  next_index = next_index + 1
  table.insert(threads, thread)
end

function init(args)
  counter = start + (index or 0) - stride
end

request = function()
  counter = counter + stride
  local n = counter % hosts
  local body = string.format('{"ip":"10.%d.%d.%d","host":"host-%d","interval":%d}',
    math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256, n, interval)
  return wrk.format(nil, "/", nil, body)
end

-- Errors: socket errors and answers of 400 or more (wrk's status count); a run with errors is not a result.
done = function(summary, latency)
  io.write(string.format("heartbeats/s: %.0f  p50: %.2f ms  p99: %.2f ms  errors: %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))

  -- The threads send different numbers of requests, so the hosts past the slowest one's last are not all reached.
  -- Below it (less the requests that may have been cut off in flight) every one was; a host beaten twice is harmless.
  local next_file = os.getenv("NEXT_START")
  if next_file then
    local lowest
    for _, thread in ipairs(threads) do
      local sent = thread:get("counter")
      if lowest == nil or sent < lowest then lowest = sent end
    end
    local file = assert(io.open(next_file, "w"))
    file:write(string.format("%d\n", math.max(start, lowest - 64)))
    file:close()
  end
end
