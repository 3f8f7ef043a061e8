-- wrk script for bench/decide_http.py: POST a decide body (or the same body to the floor) with a
-- unique signal id, a random actor of 1,000 and repository of 200, and a token of one of the
-- tenants (TOKENS and TENANTS: comma-separated, same order). Writes a JSON summary to WRK_OUT.
local run = os.getenv("RUN") or "run"
local function split(text)
  local items = {}
  for item in string.gmatch(text or "", "[^,]+") do
    table.insert(items, item)
  end
  return items
end
local tokens = split(os.getenv("TOKENS"))
local tenants = split(os.getenv("TENANTS"))
local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = thread_id or 0
  math.randomseed(os.time() * 1000 + thread_id)
end

function request()
  counter = counter + 1
  local t = math.random(#tokens)
  local body = string.format(
    '{"tenant_id":"%s","actor_id":"dev-%d","actor_type":"human",'
      .. '"context":{"repo_id":"org/repo-%d","branch":"main"},'
      .. '"signal":{"signal_id":"%s-%d-%d","source":"github","event_type":"ci.check_run.failed","severity":"high"}}',
    tenants[t], math.random(0, 999), math.random(0, 199), run, thread_id, counter
  )
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. tokens[t],
    ["Content-Type"] = "application/json",
  }, body)
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("WRK_OUT"), "w")
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max
  ))
  out:close()
end
