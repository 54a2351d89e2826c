-- wrk script: POSTs a distinct JSON lead per request and records what came back.
-- Arguments (after --): <id prefix> <directory for accepted lead ids> <area code> <first number>
-- Phones are <area code><first number + n>: the harness hands every run its own block, because
-- the inbound handler updates (instead of creating) a lead whose email or phone it has seen.
-- Each thread writes the lead_id of every 2xx answer to <dir>/<prefix>-<thread>.ids so the
-- harness can check each accepted lead was stored with its deliveries. done() prints one
-- line "BENCH_JSON {...}" with counts and latency percentiles (microseconds).

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("tid", counter)
   table.insert(threads, thread)
end

local prefix, iddir, idfile, area, first
-- Globals, so done() can read them from each thread with thread:get().
n = 0
sent, ok, non2xx = 0, 0, 0

function init(args)
   prefix = args[1] or "lead"
   iddir = args[2]
   area = tonumber(args[3] or "415")
   first = tonumber(args[4] or "2000000")
   if iddir then
      idfile = io.open(string.format("%s/%s-%d.ids", iddir, prefix, tid), "w")
      idfile:setvbuf("line")
   end
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   n = n + 1
   sent = sent + 1
   local id = string.format("%s-%d-%d", prefix, tid, n)
   local phone = first + (tid - 1) * 100000 + n
   local body = string.format(
      '{"bench_id":"%s","fname":"Ada","lname":"Bench","email":"%s@example.com",' ..
      '"phone":"%d%07d","state":"CA","zip":"94105","source":"wrk"}',
      id, id, area, phone)
   return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
      if idfile then
         local lead_id = string.match(body, '"lead_id"%s*:%s*(%d+)')
         if lead_id then idfile:write(lead_id, "\n") end
      end
   else
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local total_sent, total_ok, total_bad = 0, 0, 0
   for _, t in ipairs(threads) do
      total_sent = total_sent + (t:get("sent") or 0)
      total_ok = total_ok + (t:get("ok") or 0)
      total_bad = total_bad + (t:get("non2xx") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"duration_us":%d,"requests":%d,"sent":%d,"ok":%d,"non2xx":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.duration, summary.requests, total_sent, total_ok, total_bad,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
