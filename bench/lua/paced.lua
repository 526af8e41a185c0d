-- Paces each connection: a request, then a pause of <interval ms> before the next one, so
-- C connections offer about C * 1000 / interval requests per second. Far below capacity the
-- latency wrk records (send to last byte, the pause not included) is service time, not
-- queueing. This is not wrk2: a stall is not charged to the requests that would have been
-- sent during it (coordinated omission), which is why the harness reports p50 at a low rate.
-- Args (after --): <interval ms>
function init(args)
  interval = tonumber(args[1]) or 10
end

function delay()
  return interval
end
