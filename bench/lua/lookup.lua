-- SCIM filter GETs by userName or externalId for random users of a bulk-loaded workspace
-- (names "scale-user-<i>@bench.example", external ids "scale-ext-<i>", i in 1..N).
-- Each request finds exactly one user; anything but 200 is a wrk non-2xx error.
-- Args (after --): <scim base path> <token> <userName|externalId> <N>
function init(args)
  base = args[1]
  token = args[2]
  attr = args[3]
  users = tonumber(args[4])
  math.randomseed(12345)
  headers = { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/scim+json" }
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function request()
  local i = math.random(users)
  local value
  if attr == "userName" then
    value = "scale-user-" .. i .. "@bench.example"
  else
    value = "scale-ext-" .. i
  end
  local filter = attr .. ' eq "' .. value .. '"'
  return wrk.format("GET", base .. "/Users?filter=" .. urlencode(filter), headers)
end
