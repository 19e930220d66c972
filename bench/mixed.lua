-- The mixed workload (bench/mixed.py writes the data tables above this script and runs wrk with it):
-- 70 % anonymous storefront (home, listing pages, searches over 200 words, random product pages: the
-- page cache rarely hits), 20 % member pages, 10 % POS (scans, searches, checkouts). A checkout sends
-- the one-time key `once` of the last POS form this thread rendered (each key is used once), with the
-- kasir's session cookie and CSRF token; the cart lives on the server, per kasir (one per wrk thread).
-- Prints one JSON line when wrk finishes.

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(1000 + id * 7919)
  kasir = kasirs[(id % #kasirs) + 1]
  once = nil
  n_anon, n_member, n_scan, n_search, n_checkout, n_render, checkout_ok = 0, 0, 0, 0, 0, 0, 0
  s2, s3, s4, s5 = 0, 0, 0, 0
end

local form = {["Content-Type"] = "application/x-www-form-urlencoded"}

local function post(path, cookie, body)
  return wrk.format("POST", path, {["Content-Type"] = form["Content-Type"], Cookie = cookie}, body)
end

function request()
  local r = math.random()
  if r < 0.70 then
    n_anon = n_anon + 1
    local a = math.random()
    local path
    if a < 0.10 then
      path = "/"
    elseif a < 0.20 then
      path = "/produk?page=" .. math.random(1, 40)
    elseif a < 0.60 then
      path = "/produk?q=" .. words[math.random(#words)]
    else
      path = "/produk/" .. slugs[math.random(#slugs)]
    end
    return wrk.format("GET", path)
  elseif r < 0.90 then
    n_member = n_member + 1
    return wrk.format("GET", member_pages[math.random(#member_pages)], {Cookie = members[math.random(#members)]})
  end
  local p = math.random()
  if p < 0.45 then
    n_scan = n_scan + 1
    return post("/gerai/kasir/tambah", kasir.cookie,
      "csrf_token=" .. kasir.csrf .. "&kode=" .. codes[math.random(#codes)] .. "&jumlah=1")
  elseif p < 0.75 or once == nil then
    n_search = n_search + 1
    return wrk.format("GET", "/gerai/kasir?cari=" .. words[math.random(#words)], {Cookie = kasir.cookie})
  end
  n_checkout = n_checkout + 1
  local key = once
  once = nil
  return post("/gerai/kasir/bayar", kasir.cookie, "csrf_token=" .. kasir.csrf .. "&once=" .. key ..
    "&payment_method=qris&payment_reference=bench&cash_received=&expected_total=")
end

function response(status, headers, body)
  if status < 300 then s2 = s2 + 1 elseif status < 400 then s3 = s3 + 1 elseif status < 500 then s4 = s4 + 1 else s5 = s5 + 1 end
  local location = headers["Location"] or headers["location"]
  if location and string.find(location, "/struk", 1, true) then checkout_ok = checkout_ok + 1 end
  if body and string.find(body, 'name="once"', 1, true) then
    local key = string.match(body, 'name="once"[^>]-value="([^"]+)"')
    if key then once = key end
  end
end

function done(summary, latency, requests)
  local t = {n_anon = 0, n_member = 0, n_scan = 0, n_search = 0, n_checkout = 0, checkout_ok = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"rps": %.1f, "p50": %.2f, "p95": %.2f, "p99": %.2f, "requests": %d, "errors": %d, ' ..
    '"anonymous": %d, "member": %d, "scans": %d, "pos_searches": %d, "checkouts": %d, "checkouts_ok": %d, ' ..
    '"http_2xx": %d, "http_3xx": %d, "http_4xx": %d, "http_5xx": %d}\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.requests, errors, t.n_anon, t.n_member, t.n_scan, t.n_search,
    t.n_checkout, t.checkout_ok, t.s2, t.s3, t.s4, t.s5))
end
