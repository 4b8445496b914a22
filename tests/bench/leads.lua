-- wrk script: rotates a few hundred distinct marketplace lead bodies, built once in init() so that wrk itself
-- is not the bottleneck (PERFORMANCE.md). Usage: wrk -s leads.lua http://127.0.0.1:PORT/path?code=SECRET
local reqs = {}
local n = 0

function init(args)
  local countries = {"US", "USA", "Germany", "GB", "FRA", "Japan", "IN", "Brasil"}
  local actions = {"INS", "PLT", "Create", "StartTestDrive"}
  for i = 1, 500 do
    local body = string.format(
      '{"UserDetails":{"FirstName":"Person%d","LastName":"Doe","Email":"person%d@contoso%d.com",' ..
      '"Phone":"+1617555%04d","Country":"%s","Company":"Contoso %d","Title":"CTO"},' ..
      '"LeadSource":"AzureMarketplace-%s|contoso.analytics-pro","ActionCode":"%s",' ..
      '"OfferTitle":"Contoso Analytics Pro","Description":"Interested in a trial"}',
      i, i, i % 17, i, countries[i % #countries + 1], i, actions[i % #actions + 1], actions[i % #actions + 1])
    reqs[i] = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
  end
end

function request()
  n = n % #reqs + 1
  return reqs[n]
end

-- One machine-readable line for tests/bench/load: requests/s, latency percentiles (ms) and non-2xx answers.
function done(summary, latency, requests)
  local non2xx = summary.errors.status
  local failed = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("LOADRESULT rps=%.1f p50=%.3f p99=%.3f p999=%.3f non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, non2xx, failed))
end
