-- wrk script: rotates 50,000 distinct marketplace lead bodies (distinct emails over 5,000 mail domains, distinct
-- phone numbers in eight countries, distinct companies), built once in init() so that wrk itself is not the
-- bottleneck (PERFORMANCE.md) and no cache of verdicts or keys makes the figures better than real traffic would.
-- Usage: wrk -s leads.lua http://127.0.0.1:PORT/path?code=SECRET   (LEADS=500: the old bench's 500 bodies)
local reqs = {}
local n = 0

function init(args)
  local count = tonumber(os.getenv("LEADS") or "50000")
  local countries = {"US", "USA", "Germany", "GB", "FRA", "Japan", "IN", "Brasil"}
  -- A number plan per country above: prefix and digits after it (valid patterns of each plan).
  local phones = {"+1617555%04d", "+1212555%04d", "+49301234%04d", "+44207946%04d", "+3314987%04d",
                  "+81312345%04d", "+9198765%05d", "+55119876%04d"}
  local actions = {"INS", "PLT", "Create", "StartTestDrive"}
  for i = 1, count do
    local c = i % #countries + 1
    local body = string.format(
      '{"UserDetails":{"FirstName":"Person%d","LastName":"Doe","Email":"person%d@contoso%d.com",' ..
      '"Phone":"' .. phones[c] .. '","Country":"%s","Company":"Contoso %d","Title":"CTO"},' ..
      '"LeadSource":"AzureMarketplace-%s|contoso.analytics-pro","ActionCode":"%s",' ..
      '"OfferTitle":"Contoso Analytics Pro","Description":"Interested in a trial"}',
      i, i, i % 5000, i % 10000, countries[c], i, actions[i % #actions + 1], actions[i % #actions + 1])
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
