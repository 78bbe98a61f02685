-- wrk script of bench/intake/run.sh: every request is a delivery report with an id no other
-- request of the run has (ROUND-THREAD-N), and `done` prints one JSON line of the figures.
-- Usage: wrk -s report.lua URL -- ROUND
local threads = {}
local counter = 0

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = (args[1] or "r") .. "-" .. number .. "-"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body = '{"report":{"id":"' .. prefix .. counter .. '","packet_id":104525848,"status":"delivered",'
    .. '"to":"+905321112233","body":"CI alert. Workflow Deploy failed in acme/api on branch main."}}'
  return wrk.format(nil, nil, nil, body)
end

-- The share of requests slower than LIMIT_US. wrk gives percentiles of one run only; shares add
-- up across the rounds (weighted by their requests), so that table.py can tell whether the p99 of
-- every request of the benchmark is within the limit. A bisection over percentiles: 40 steps
-- make it exact to far less than one request in a round.
local function share_slower_than(latency, limit_us)
  if latency.max <= limit_us then return 0 end
  local within, beyond = 0, 100
  for _ = 1, 40 do
    local p = (within + beyond) / 2
    if latency:percentile(p) <= limit_us then within = p else beyond = p end
  end
  return (100 - within) / 100
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"p50_us":%d,"p99_us":%d,"max_us":%d,"over_10ms":%.7f,"non_2xx":%d,'
      .. '"connect":%d,"read":%d,"write":%d,"timeout":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency.max,
    share_slower_than(latency, 10000), e.status, e.connect, e.read, e.write, e.timeout))
end
