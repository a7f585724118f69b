-- wrk script: POST / beats {"ip":…,"host":"hN"} from HOSTS hosts (default 1000), each keeping its own IP: the
-- common case. With MOVE=1 every beat carries a new IP for its host instead (the IP-change path).
-- Usage: HOSTS=1000 THREADS=2 wrk -t2 -c64 -d10s -s bench/steady_beats.lua http://127.0.0.1:7777
-- The threads take turns through the hosts (thread i sends hosts i, i+THREADS, …), so every host beats in turn.
local hosts = tonumber(os.getenv("HOSTS") or "1000")
local stride = tonumber(os.getenv("THREADS") or "1")
local move = os.getenv("MOVE") == "1"
local next_index = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function setup(thread)
  thread:set("index", next_index)
  next_index = next_index + 1
end

function init(args)
  counter = (index or 0) - stride
end

request = function()
  counter = counter + stride
  local n = counter % hosts
  -- Steady: 10.0.y.z from the host's number. Moving: the second octet counts the rounds through the hosts
  -- from 1, so each beat differs from its host's last one (and from the steady IP).
  local a = move and (math.floor(counter / hosts) + 1) % 256 or math.floor(n / 65536) % 256
  local body = string.format('{"ip":"10.%d.%d.%d","host":"h%d"}', a, math.floor(n / 256) % 256, n % 256, n)
  return wrk.format(nil, "/", nil, body)
end

-- One line for bench/ingest.sh: completed responses, req/s, p50/p99 and errors (socket errors and 4xx/5xx).
done = function(summary, latency)
  io.write(string.format("beats: requests %d rps %.0f p50 %.2f p99 %.2f errors %d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
