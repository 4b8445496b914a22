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
