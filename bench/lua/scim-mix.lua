-- The requests Microsoft Entra ID sends while provisioning, in equal parts:
--   GET  /Users?filter=userName eq "<next user>"   (the match before a create: 0 results)
--   POST /Users                                    (create, enterprise extension and a role)
--   PATCH /Users/<id>                              (replace displayName and active)
-- PATCHes go to random users created earlier in this run (ids read from 201 bodies).
-- Every answer must be 2xx; wrk counts anything else as non-2xx.
-- Args (after --): <scim base path> <token> <unique prefix>
-- Threads, so that done() can read each one's count of non-2xx answers.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = {}          -- status -> count, for answers that are not 2xx
  bad_body = {}     -- status -> the first body seen with it
  base = args[1]
  token = args[2]
  prefix = args[3]
  created = 0
  step = 0
  ids = {}
  ring = 2000
  next_slot = 1
  math.randomseed(4242)
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function headers(with_body)
  local h = { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/scim+json" }
  if with_body then
    h["Content-Type"] = "application/scim+json"
  end
  return h
end

local function user_name(n)
  return prefix .. "-" .. n .. "@bench.example"
end

local function create_body(n)
  local name = user_name(n)
  return '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",'
    .. '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],'
    .. '"externalId":"' .. prefix .. "-ext-" .. n .. '","userName":"' .. name .. '",'
    .. '"active":true,"displayName":"Bench User ' .. n .. '",'
    .. '"name":{"givenName":"Bench","familyName":"User ' .. n .. '",'
    .. '"formatted":"Bench User ' .. n .. '"},'
    .. '"emails":[{"primary":true,"type":"work","value":"' .. name .. '"}],'
    .. '"roles":[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","value":"Buyer"}],'
    .. '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":'
    .. '{"department":"Bench","employeeNumber":"' .. n .. '"}}'
end

local function patch_body(s)
  local active = (s % 2 == 0) and "true" or "false"
  return '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
    .. '{"op":"replace","path":"displayName","value":"Renamed ' .. s .. '"},'
    .. '{"op":"replace","path":"active","value":' .. active .. '}]}'
end

function request()
  step = step + 1
  local kind = step % 3
  if kind == 1 then
    local filter = 'userName eq "' .. user_name(created + 1) .. '"'
    return wrk.format("GET", base .. "/Users?filter=" .. urlencode(filter), headers(false))
  elseif kind == 2 or #ids == 0 then
    created = created + 1
    return wrk.format("POST", base .. "/Users", headers(true), create_body(created))
  else
    local id = ids[math.random(#ids)]
    return wrk.format("PATCH", base .. "/Users/" .. id, headers(true), patch_body(step))
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    local key = tostring(status)
    bad[key] = (bad[key] or 0) + 1
    if not bad_body[key] then bad_body[key] = body:sub(1, 300) end
  end
  if status == 201 then
    local id = body:match('"id"%s*:%s*"([^"]+)"')
    if id then
      ids[next_slot] = id
      next_slot = next_slot % ring + 1
    end
  end
end

-- After the run: which non-2xx statuses came back, with the first body of each, so a
-- failed run says why (wrk itself only counts them).
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local counts = thread:get("bad")
    local bodies = thread:get("bad_body")
    for status, n in pairs(counts) do
      io.write(string.format("non-2xx %s x%d, first body: %s\n", status, n, bodies[status] or ""))
    end
  end
end
