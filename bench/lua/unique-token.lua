-- The cold path: a bearer token never seen before on every request, so every request is a
-- verdict-cache miss and costs one introspection call. The core does not know these tokens
-- and answers 401, so a correct server answers every request 401; anything else is counted
-- and printed by done() as "unexpected-status N".
-- Args (after --): <token prefix> <path>
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1] or "bench-cold"
  path = args[2] or "/"
  n = 0
  unexpected = 0
end

function request()
  n = n + 1
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. prefix .. "-" .. n })
end

function response(status, headers, body)
  if status ~= 401 then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + (t:get("unexpected") or 0)
  end
  io.write("unexpected-status ", total, "\n")
end
