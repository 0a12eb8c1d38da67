-- wrk script for the blackbox exporter comparison (bench/run.sh): counts the probes whose
-- answer says probe_success 1, and the others, over all of wrk's threads.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  failed = 0
end

function response(status, headers, body)
  if status == 200 and string.find(body, "\nprobe_success 1", 1, true) then
    ok = ok + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local total_ok, total_failed = 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_failed = total_failed + thread:get("failed")
  end
  io.write(string.format("probes: %d successful, %d failed, %.3f s\n",
    total_ok, total_failed, summary.duration / 1e6))
end
